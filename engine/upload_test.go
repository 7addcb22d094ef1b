package engine

import (
	"bufio"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// The memory an upload costs the server is bounded however slowly its handler
// reads: while the handler is behind, the engine stops reading the socket and the
// client waits on TCP flow control. Stated figures, for a 200 MiB upload to a
// handler that reads 64 KiB per millisecond at most (far slower than loopback):
// at most uploadInboundBound unread bytes sit in the connection's inbound buffer,
// and the heap grows by less than uploadHeapBound. An engine that kept reading
// would buffer most of the 200 MiB.
const (
	uploadInboundBound = 1 << 20
	uploadHeapBound    = 32 << 20
)

func TestSlowHandlerUploadMemoryBounded(t *testing.T) {
	total := int64(200 << 20)
	if raceEnabled {
		total = 32 << 20
	}
	table := crc32.MakeTable(crc32.Castagnoli)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sum := crc32.New(table)
		buf := make([]byte, 64<<10)
		var n int64
		for {
			k, err := r.Body.Read(buf)
			sum.Write(buf[:k])
			n += int64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			time.Sleep(time.Millisecond)
		}
		fmt.Fprintf(w, "%d %08x", n, sum.Sum32())
	})
	cfg := testConfig()
	cfg.BodyTimeout = 30 * time.Second
	cfg.Timeout = 2 * time.Minute
	srv, addr := serveOn(t, cfg, h, "http")

	var maxInbound, maxHeap atomic.Int64
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := int64(ms.HeapInuse)
	stop := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			// InboundBuffered is read on the connection's own loop.
			srv.conns.each(func(c *conn) bool {
				_ = c.gc.Wake(func(gc gnet.Conn, err error) error {
					if err == nil {
						storeMax(&maxInbound, int64(gc.InboundBuffered()))
					}
					return nil
				})
				return true
			})
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			storeMax(&maxHeap, int64(ms.HeapInuse)-baseHeap)
		}
	}()

	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(3 * time.Minute))
	fmt.Fprintf(nc, "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n", total)
	piece := make([]byte, 256<<10)
	rand.New(rand.NewSource(1)).Read(piece)
	want := crc32.New(table)
	start := time.Now()
	for sent := int64(0); sent < total; {
		p := piece[:min(int64(len(piece)), total-sent)]
		if _, err := nc.Write(p); err != nil {
			t.Fatalf("upload cut after %d bytes: %v", sent, err)
		}
		want.Write(p)
		sent += int64(len(p))
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	close(stop)
	sampling.Wait()
	t.Logf("%d MiB in %v: at most %d KiB unread in the inbound buffer, heap grew by at most %d KiB",
		total>>20, time.Since(start).Round(time.Millisecond), maxInbound.Load()>>10, maxHeap.Load()>>10)
	if maxInbound.Load() == 0 && maxHeap.Load() == 0 {
		t.Fatal("no sample was taken during the upload")
	}
	if got := maxInbound.Load(); got > uploadInboundBound {
		t.Errorf("the engine buffered %d KiB of unread upload (bound %d KiB): reads were not paused", got>>10, uploadInboundBound>>10)
	}
	if got := maxHeap.Load(); got > uploadHeapBound {
		t.Errorf("the heap grew by %d KiB during the upload (bound %d KiB)", got>>10, uploadHeapBound>>10)
	}
	if exp := fmt.Sprintf("%d %08x", total, want.Sum32()); resp.StatusCode != 200 || strings.TrimSpace(string(body)) != exp {
		t.Errorf("answer %d %q, want 200 %q", resp.StatusCode, body, exp)
	}
}

func storeMax(m *atomic.Int64, v int64) {
	for {
		old := m.Load()
		if v <= old || m.CompareAndSwap(old, v) {
			return
		}
	}
}
