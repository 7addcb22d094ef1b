package engine

import (
	"syscall"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
	"github.com/gonicorn/gonicorn/protocol/h2"
)

// TestH2BinaryGracefulStop sends SIGTERM to the gonicorn binary while an HTTP/2
// request is in flight: the client gets GOAWAY NO_ERROR, the request still completes,
// then the connection closes and the master exits 0.
func TestH2BinaryGracefulStop(t *testing.T) {
	p, addr := testutil.StartServer(t, "--graceful-timeout", "10")
	r := dialRaw(t, addr)
	r.write(r.get(1, "/sleep?ms=1000"))
	// The request reaches its handler before the signal.
	r.write(h2.AppendPing(nil, false, [8]byte{1}))
	for {
		f, err := r.next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if f.Type == h2.FramePing && f.Flags.Has(h2.FlagAck) {
			break
		}
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var goAway *h2.Frame
	for goAway == nil {
		f, err := r.next(10 * time.Second)
		if err != nil {
			t.Fatalf("no GOAWAY after SIGTERM: %v", err)
		}
		if f.Type == h2.FrameGoAway {
			goAway = &f
		}
	}
	if goAway.ErrCode != h2.ErrCodeNo || goAway.LastStreamID != 1 {
		t.Fatalf("GOAWAY %s last=%d", goAway.ErrCode, goAway.LastStreamID)
	}
	if resp := r.readResponse(1); resp.status != 200 || string(resp.body) != "slept" {
		t.Fatalf("in-flight request: %+v", resp)
	}
	r.expectClose(10 * time.Second)
	r.c.Close()
	if code, err := p.Wait(15 * time.Second); err != nil || code != 0 {
		t.Fatalf("master exit %d, %v", code, err)
	}
}
