package engine

import (
	"io"
	"math/rand"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/demo"
	"github.com/gonicorn/gonicorn/protocol/uwsgi"
)

// Mutated uWSGI packets: each connection ends (answered or closed) within the
// bounds, and the server goes on serving.
func TestUWSGIGarbageNeverBreaksTheServer(t *testing.T) {
	cfg := testConfig()
	cfg.HeaderTimeout = 500 * time.Millisecond
	cfg.BodyTimeout = 500 * time.Millisecond
	_, addr := serveOn(t, cfg, demo.Handler(), "uwsgi")
	base := []string{"REQUEST_METHOD", "POST", "REQUEST_URI", "/echo?x=1", "PATH_INFO", "/echo",
		"SERVER_PROTOCOL", "HTTP/1.1", "CONTENT_LENGTH", "5", "CONTENT_TYPE", "text/plain",
		"REMOTE_ADDR", "127.0.0.1", "REMOTE_PORT", "1", "HTTP_HOST", "x"}
	seed, _ := uwsgi.AppendPacket(nil, base...)
	seed = append(seed, "hello"...)
	rng := rand.New(rand.NewSource(garbageSeed))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 0; i < garbageRounds; i++ {
		b := append([]byte(nil), seed...)
		for k := rng.Intn(3); k >= 0; k-- {
			switch rng.Intn(3) {
			case 0:
				b[rng.Intn(len(b))] = byte(rng.Intn(256))
			case 1:
				b = b[:rng.Intn(len(b))]
			case 2:
				b = append(b, b[:rng.Intn(len(b)+1)]...)
			}
			if len(b) == 0 {
				b = []byte{0}
			}
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(b []byte) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(8 * time.Second))
			c.Write(b)
			if _, err := io.Copy(io.Discard, c); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Errorf("no answer and no close within 8s for %q", b)
				}
			}
		}(b)
	}
	wg.Wait()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(seed)
	got, _ := io.ReadAll(c)
	if len(got) < 12 || string(got[:12]) != "HTTP/1.1 200" || string(got[len(got)-5:]) != "hello" {
		t.Fatalf("after the garbage: %q", got)
	}
}
