package engine

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

// curlRun runs curl against the server and returns "HTTP-VERSION STATUS" and the body.
func curlRun(t *testing.T, curl string, args ...string) (string, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "body")
	args = append([]string{"-sS", "--max-time", "10", "-o", out, "-w", "%{http_version} %{http_code}"}, args...)
	cmd := exec.Command(curl, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	w, err := cmd.Output()
	if err != nil {
		return "error: " + strings.TrimSpace(stderr.String()), ""
	}
	body, _ := os.ReadFile(out)
	return string(w), string(body)
}

func TestH2Curl(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	payload := filepath.Join(t.TempDir(), "payload")
	big := bytes.Repeat([]byte("gonicorn h2c "), 80000) // about 1 MB
	if err := os.WriteFile(payload, big, 0o600); err != nil {
		t.Fatal(err)
	}
	both := startServer(t, testConfig(), nil)
	h1cfg := testConfig()
	h1cfg.HTTPProtocols = []string{"h1"}
	h1only := startServer(t, h1cfg, nil)
	h2cfg := testConfig()
	h2cfg.HTTPProtocols = []string{"h2c"}
	h2only := startServer(t, h2cfg, nil)
	cases := []struct {
		name     string
		ts       *testServer
		args     []string
		path     string
		wantWhat string
		wantBody string
	}{
		{"prior knowledge GET", both, []string{"--http2-prior-knowledge"}, "/", "2 200", "Hello, World!"},
		{"prior knowledge POST 1 MB", both, []string{"--http2-prior-knowledge", "--data-binary", "@" + payload}, "/echo", "2 200", string(big)},
		{"Upgrade GET", both, []string{"--http2"}, "/", "2 200", "Hello, World!"},
		{"Upgrade POST", both, []string{"--http2", "--data-binary", "upgraded body"}, "/echo", "2 200", "upgraded body"},
		{"Upgrade HEAD", both, []string{"--http2", "-I"}, "/", "2 200", ""},
		{"h1 only ignores Upgrade", h1only, []string{"--http2"}, "/", "1.1 200", "Hello, World!"},
		{"h2c only serves prior knowledge", h2only, []string{"--http2-prior-knowledge"}, "/healthz", "2 200", "ok"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			what, body := curlRun(t, curl, append(tc.args, tc.ts.url(tc.path))...)
			if what != tc.wantWhat || tc.wantBody != "" && body != tc.wantBody {
				t.Fatalf("got %q with %d body bytes, want %q with %d", what, len(body), tc.wantWhat, len(tc.wantBody))
			}
		})
	}
	t.Run("h2c only refuses HTTP/1.1", func(t *testing.T) {
		if what, _ := curlRun(t, curl, "--http1.1", h2only.url("/")); !strings.HasPrefix(what, "error") && !strings.HasSuffix(what, " 000") {
			t.Fatalf("HTTP/1.1 served on an h2c-only listener: %q", what)
		}
	})
}
