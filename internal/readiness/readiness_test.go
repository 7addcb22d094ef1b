package readiness

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHandlerAnswersTheReadinessPathFromTheState(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("app")) })
	cases := []struct {
		name     string
		set      func(*State)
		method   string
		path     string
		wantCode int
		wantBody string
	}{
		{"starting worker is not ready", func(*State) {}, "GET", "/readyz", 503, "starting\n"},
		{"serving worker is ready", (*State).SetReady, "GET", "/readyz", 200, "ready\n"},
		{"draining worker is not ready", func(s *State) { s.SetReady(); s.SetDraining() }, "GET", "/readyz", 503, "draining\n"},
		{"HEAD has no body", (*State).SetReady, "HEAD", "/readyz", 200, ""},
		{"other paths reach the handler while draining", func(s *State) { s.SetReady(); s.SetDraining() }, "GET", "/", 200, "app"},
		{"a longer path is not the readiness path", func(*State) {}, "GET", "/readyz/x", 200, "app"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s State
			tc.set(&s)
			rec := httptest.NewRecorder()
			Handler("/readyz", &s, next).ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.wantCode || rec.Body.String() != tc.wantBody {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tc.wantCode, tc.wantBody)
			}
			if tc.path == "/readyz" && rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("readiness answer is cacheable: %v", rec.Header())
			}
		})
	}
}

func TestHandlerWithoutAPathIsTheHandler(t *testing.T) {
	var s State
	next := http.NotFoundHandler()
	rec := httptest.NewRecorder()
	Handler("", &s, next).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 404 {
		t.Fatalf("empty path answered readiness: %d", rec.Code)
	}
}
