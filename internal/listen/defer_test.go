package listen

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// With --defer-accept a TCP listener queues a connection for accept only once
// its first bytes arrive; with 0 a silent connection is accepted at once.
func TestDeferAccept(t *testing.T) {
	cases := []struct {
		name        string
		deferAccept time.Duration
		wantOption  bool // TCP_DEFER_ACCEPT reads back non-zero
		silentFirst bool // the silent connection is accepted before the one that spoke
	}{
		{"2s defers", 2 * time.Second, true, false},
		{"0 turns it off", 0, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("127.0.0.1:0")
			cfg.DeferAccept = tc.deferAccept
			ls, err := Bind(cfg, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			defer CloseAndRemove(ls)
			if got := sockoptInt(t, ls[0].Listener, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT) != 0; got != tc.wantOption {
				t.Fatalf("TCP_DEFER_ACCEPT set = %v, want %v", got, tc.wantOption)
			}
			addr := ls[0].Addr().String()
			silent, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer silent.Close()
			speaker, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer speaker.Close()
			if _, err := speaker.Write([]byte("GET / HTTP/1.1\r\n")); err != nil {
				t.Fatal(err)
			}
			tl := ls[0].Listener.(*net.TCPListener)
			tl.SetDeadline(time.Now().Add(10 * time.Second))
			first, err := tl.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer first.Close()
			want := speaker.LocalAddr().String()
			if tc.silentFirst {
				want = silent.LocalAddr().String()
			}
			if got := first.RemoteAddr().String(); got != want {
				t.Fatalf("accepted %s first, want %s", got, want)
			}
			if tc.silentFirst {
				return
			}
			// The silent connection stays in the kernel for a while...
			tl.SetDeadline(time.Now().Add(100 * time.Millisecond))
			if c, err := tl.Accept(); err == nil {
				c.Close()
				t.Fatalf("accepted the silent connection %s while deferring", c.RemoteAddr())
			} else if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			// ...and is not lost: it is accepted once the deferral runs out (the
			// kernel counts it in SYN-ACK retransmissions: 1 s, then 2 s more).
			tl.SetDeadline(time.Now().Add(15 * time.Second))
			late, err := tl.Accept()
			if err != nil {
				t.Fatalf("silent connection never accepted: %v", err)
			}
			defer late.Close()
			if got, want := late.RemoteAddr().String(), silent.LocalAddr().String(); got != want {
				t.Fatalf("accepted %s, want the silent connection %s", got, want)
			}
		})
	}
}
