package engine

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// One rule in both writers: the head is the header map at WriteHeader; later changes
// reach the client only as trailers, declared or with http.TrailerPrefix.
func TestLateHeaderChangesReachOnlyTrailers(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held := w.Header()
		held.Set("Trailer", "X-Sum")
		held.Set("X-Before", "1")
		w.WriteHeader(http.StatusAccepted)
		w.Header().Set("X-After", "not sent")
		w.Header().Set("X-Sum", "abc")
		w.Header().Set(http.TrailerPrefix+"X-Undeclared", "def")
		io.WriteString(w, "body")
	})
	ts := startServer(t, testConfig(), h)
	for _, tc := range []struct {
		name   string
		client *http.Client
		proto  int
	}{
		{"HTTP/1.1", &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}, 1},
		{"h2c", h2Client(t, nil), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.client.Get(ts.url("/"))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(body) != "body" || resp.ProtoMajor != tc.proto {
				t.Fatalf("body %q, %v, proto %d", body, err, resp.ProtoMajor)
			}
			if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Before") != "1" {
				t.Errorf("head: %d %v", resp.StatusCode, resp.Header)
			}
			if v := resp.Header.Get("X-After"); v != "" {
				t.Errorf("a change after WriteHeader reached the head: X-After %q", v)
			}
			if resp.Trailer.Get("X-Sum") != "abc" || resp.Trailer.Get("X-Undeclared") != "def" {
				t.Errorf("trailers %v", resp.Trailer)
			}
			if v := resp.Trailer.Get("X-After"); v != "" {
				t.Errorf("an undeclared field became a trailer: X-After %q", v)
			}
		})
	}
}
