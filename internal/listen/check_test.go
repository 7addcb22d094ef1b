package listen

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestCheckBindsAsBindWould(t *testing.T) {
	dir := sockDir(t)
	notSock := filepath.Join(dir, "file")
	if err := os.WriteFile(notSock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	lfd := rawDup(t, l)
	defer os.NewFile(uintptr(lfd), "l").Close()
	notListening, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer notListening.Close()
	cases := []struct {
		bind    string
		errPart string
	}{
		{"127.0.0.1:80", ""},
		{"[::1]:80", ""},
		{"0.0.0.0:80", ""},
		{"localhost:80", ""},
		{"999.1.1.1:80", "not an IPv4 address"},
		{"10.1:80", "not an IPv4 address"},
		{"no-such-host.invalid:80", "does not resolve"},
		{"unix:" + filepath.Join(dir, "ok.sock"), ""},
		{"unix:" + filepath.Join(dir, "missing", "g.sock"), "socket directory"},
		{"unix:" + notSock, "not a socket"},
		{"fd://" + strconv.Itoa(lfd), ""},
		{"uwsgi+fd://" + strconv.Itoa(int(notListening.Fd())), "not a socket"},
		{"fd://999", "fd://999"},
	}
	for _, tc := range cases {
		t.Run(tc.bind, func(t *testing.T) {
			err := Check(testConfig(tc.bind))
			switch {
			case tc.errPart == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tc.errPart != "" && (err == nil || !strings.Contains(err.Error(), tc.errPart)):
				t.Fatalf("Check: %v, want an error with %q", err, tc.errPart)
			}
		})
	}
}
