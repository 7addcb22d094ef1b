package engine

import (
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/gonicorn/gonicorn/internal/allow"
)

func TestClientFromForwardedFor(t *testing.T) {
	trusted, err := allow.Parse([]string{"127.0.0.1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		vals []string
		want string // "": none
	}{
		{"one hop", []string{"203.0.113.7"}, "203.0.113.7"},
		{"trusted proxies on the right are skipped", []string{"203.0.113.7, 10.1.2.3, 10.0.0.1"}, "203.0.113.7"},
		{"a spoofed left part is ignored", []string{"1.1.1.1, 203.0.113.7, 10.0.0.1"}, "203.0.113.7"},
		{"repeated headers are one list", []string{"198.51.100.1", "203.0.113.7"}, "203.0.113.7"},
		{"all trusted: the leftmost", []string{"10.0.0.2, 10.0.0.1"}, "10.0.0.2"},
		{"with ports", []string{"203.0.113.7:4711, [2001:db8::1]:80"}, "2001:db8::1"},
		{"IPv4-mapped", []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"garbage ends the walk", []string{"203.0.113.7, unknown"}, ""},
		{"empty", []string{""}, ""},
		{"none", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := clientFromForwardedFor(tc.vals, trusted)
			got := ""
			if ok {
				got = a.String()
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// With --forwarded-for-remote-addr, a trusted proxy's X-Forwarded-For becomes
// r.RemoteAddr over HTTP/1.1 and h2c; an untrusted peer's changes nothing; off,
// nothing changes either.
func TestForwardedForSetsRemoteAddr(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.RemoteAddr) })
	cases := []struct {
		name    string
		on      bool
		trusted []string
		want    string // "self": the test's own address
	}{
		{"on, trusted peer", true, []string{"127.0.0.1"}, "203.0.113.7:0"},
		{"on, untrusted peer", true, []string{"10.0.0.0/8"}, "self"},
		{"off", false, []string{"127.0.0.1"}, "self"},
	}
	for _, tc := range cases {
		for _, proto := range []string{"h1", "h2c"} {
			t.Run(tc.name+"/"+proto, func(t *testing.T) {
				cfg := testConfig()
				cfg.ForwardedForRemoteAddr = tc.on
				cfg.ForwardedAllowIPs = tc.trusted
				ts := startServer(t, cfg, echo)
				c := ts.client()
				if proto == "h2c" {
					c = h2Client(t, nil)
				}
				req, _ := http.NewRequest("GET", ts.url("/"), nil)
				req.Header.Set("X-Forwarded-For", "203.0.113.7, 127.0.0.1")
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				got := string(b)
				if tc.want == "self" {
					if ap, err := netip.ParseAddrPort(got); err != nil || ap.Addr().String() != "127.0.0.1" || ap.Port() == 0 {
						t.Fatalf("RemoteAddr %q, want the peer's own", got)
					}
					return
				}
				if got != tc.want {
					t.Fatalf("RemoteAddr %q, want %q", got, tc.want)
				}
				if strings.Contains(got, "127.0.0.1") {
					t.Fatal("the trusted proxy was taken for the client")
				}
			})
		}
	}
}
