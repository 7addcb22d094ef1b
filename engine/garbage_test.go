package engine

import (
	"bufio"
	"io"
	"math/rand"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// mutations of valid requests: the engine must answer or close every one of them,
// never panic or hang, and keep serving everyone else.
func TestGarbageNeverBreaksTheServer(t *testing.T) {
	seeds := []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
		"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX: y\r\n\r\n",
		"GET /stream?chunks=2&size=3 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
		"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n",
	}
	cfg := testConfig()
	cfg.HeaderTimeout = 500 * time.Millisecond
	cfg.BodyTimeout = 500 * time.Millisecond
	cfg.KeepAlive = 500 * time.Millisecond
	ts := startServer(t, cfg, nil)
	rng := rand.New(rand.NewSource(garbageSeed))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 0; i < garbageRounds; i++ {
		b := []byte(seeds[rng.Intn(len(seeds))])
		for k := rng.Intn(4); k >= 0; k-- {
			switch rng.Intn(4) {
			case 0: // flip a byte
				b[rng.Intn(len(b))] = byte(rng.Intn(256))
			case 1: // cut
				b = b[:rng.Intn(len(b))]
			case 2: // duplicate a slice
				i, j := rng.Intn(len(b)+1), rng.Intn(len(b)+1)
				if i > j {
					i, j = j, i
				}
				b = append(b[:j:j], append(append([]byte(nil), b[i:j]...), b[j:]...)...)
			case 3: // insert a control byte
				i := rng.Intn(len(b) + 1)
				b = append(b[:i:i], append([]byte{byte(rng.Intn(32))}, b[i:]...)...)
			}
			if len(b) == 0 {
				b = []byte{'G'}
			}
		}
		split := rng.Intn(len(b) + 1)
		wg.Add(1)
		sem <- struct{}{}
		go func(b []byte, split int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(8 * time.Second))
			c.Write(b[:split])
			c.Write(b[split:])
			// Whatever the answer, the server ends the exchange within its bounds.
			if _, err := io.Copy(io.Discard, c); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Errorf("server neither answered nor closed within 8s for %q", b)
				}
			}
		}(append([]byte(nil), b...), split)
	}
	wg.Wait()
	c := ts.dial()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := readResponse(t, bufio.NewReader(c), "GET"); body != "Hello, World!" {
		t.Fatalf("after the garbage: %q", body)
	}
	if strings.Contains(ts.logs.String(), "panic") {
		t.Fatal("a handler or the engine panicked on garbage")
	}
}

// The suite runs a fixed, quick sample; GONICORN_GARBAGE_ROUNDS and _SEED widen it.
var (
	garbageRounds = envInt("GONICORN_GARBAGE_ROUNDS", 300)
	garbageSeed   = int64(envInt("GONICORN_GARBAGE_SEED", 1))
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
