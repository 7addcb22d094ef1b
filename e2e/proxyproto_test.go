package e2e

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
	"github.com/gonicorn/gonicorn/protocol/proxyproto"
)

// The binary with --proxy-protocol auto: the client address of a v1 or v2 header
// reaches the handler as r.RemoteAddr and the access log as %(h)s.
func TestProxyProtocolThroughTheBinary(t *testing.T) {
	addr := testutil.FreeAddr(t)
	p := startGonicorn(t, "tcp", addr, "-b", addr, "--proxy-protocol", "auto",
		"--proxy-allow-from", "127.0.0.0/8", "--access-logfile", "-")
	for i, pre := range [][]byte{
		proxyproto.AppendV1(nil, proxyproto.Header{Proxied: true,
			Source: netip.MustParseAddrPort("198.51.100.1:1111"), Destination: netip.MustParseAddrPort("10.0.0.1:80")}),
		proxyproto.AppendV2(nil, proxyproto.Header{Proxied: true,
			Source: netip.MustParseAddrPort("[2001:db8::7]:2222"), Destination: netip.MustParseAddrPort("[2001:db8::1]:80")}, nil),
	} {
		want := []string{"198.51.100.1:1111", "[2001:db8::7]:2222"}[i]
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(append(pre, "GET /inspect HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"...))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			RemoteAddr string `json:"remote_addr"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		c.Close()
		if err != nil || got.RemoteAddr != want {
			t.Fatalf("remote_addr %q (%v), want %q", got.RemoteAddr, err, want)
		}
	}
	testutil.Eventually(t, 5*time.Second, func() bool {
		return strings.Contains(p.Stdout(), "198.51.100.1 - - [") && strings.Contains(p.Stdout(), "2001:db8::7 - - [")
	}, "access log lines with the proxied clients")
}
