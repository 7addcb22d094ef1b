package demo

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRoutesOnNetHTTP(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"root says hello", "GET", "/", "", 200, "Hello, World!"},
		{"healthz", "GET", "/healthz", "", 200, "ok"},
		{"echo returns the body", "POST", "/echo", "ping", 200, "ping"},
		{"bytes counts", "GET", "/bytes?n=5", "", 200, "abcde"},
		{"stream concatenates chunks", "GET", "/stream?chunks=2&size=3", "", 200, "abcabc"},
		{"sleep zero", "GET", "/sleep?ms=0", "", 200, "slept"},
		{"unknown path", "GET", "/nope", "", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := new(strings.Builder)
			_, _ = io.Copy(buf, resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.want != "" && buf.String() != tc.want {
				t.Fatalf("body %q, want %q", buf.String(), tc.want)
			}
		})
	}
}
