// Package demo is the built-in demo application of cmd/gonicorn: the same routes
// everywhere, because tests, benchmarks and people use it (see DESIGN.md).
package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

var hello = []byte("Hello, World!")

// textPlain is root's Content-Type value, shared by every response: a handler
// may hand net/http a header value it keeps, as long as nothing writes to it
// (nothing in net/http or gonicorn does; appending copies, the capacity is 1).
var textPlain = []string{"text/plain"}[:1:1]

// Handler returns the demo application.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", root)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("POST /echo", echo)
	mux.HandleFunc("/inspect", inspect)
	mux.HandleFunc("GET /sleep", sleep)
	mux.HandleFunc("GET /hang", hang)
	mux.HandleFunc("GET /bytes", sendBytes)
	mux.HandleFunc("GET /stream", stream)
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) {
		panic("demo: /panic was asked to panic")
	})
	return mux
}

func root(w http.ResponseWriter, r *http.Request) {
	w.Header()["Content-Type"] = textPlain
	w.Write(hello)
}

func echo(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	if r.ContentLength >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	io.Copy(w, r.Body)
}

// Inspection is the JSON document /inspect answers with.
type Inspection struct {
	Method        string              `json:"method"`
	Path          string              `json:"path"`
	RawPath       string              `json:"raw_path"`
	RawQuery      string              `json:"raw_query"`
	RequestURI    string              `json:"request_uri"`
	Proto         string              `json:"proto"`
	Host          string              `json:"host"`
	RemoteAddr    string              `json:"remote_addr"`
	Scheme        string              `json:"scheme"`
	ContentLength int64               `json:"content_length"`
	Headers       map[string][]string `json:"headers"`
	Trailers      map[string][]string `json:"trailers,omitempty"`
	BodyBytes     int64               `json:"body_bytes"`
	BodySHA256    string              `json:"body_sha256"`
}

func inspect(w http.ResponseWriter, r *http.Request) {
	sum := sha256.New()
	n, err := io.Copy(sum, r.Body)
	if err != nil {
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	doc := Inspection{
		Method:        r.Method,
		Path:          r.URL.Path,
		RawPath:       r.URL.EscapedPath(),
		RawQuery:      r.URL.RawQuery,
		RequestURI:    r.RequestURI,
		Proto:         r.Proto,
		Host:          r.Host,
		RemoteAddr:    r.RemoteAddr,
		Scheme:        scheme,
		ContentLength: r.ContentLength,
		Headers:       r.Header,
		BodyBytes:     n,
		BodySHA256:    hex.EncodeToString(sum.Sum(nil)),
	}
	if len(r.Trailer) > 0 {
		doc.Trailers = r.Trailer
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(doc)
}

func intParam(r *http.Request, name string, def, max int) int {
	v, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || v < 0 {
		return def
	}
	if v > max {
		return max
	}
	return v
}

func sleep(w http.ResponseWriter, r *http.Request) {
	d := time.Duration(intParam(r, "ms", 0, 3600_000)) * time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
	io.WriteString(w, "slept")
}

func hang(w http.ResponseWriter, r *http.Request) {
	time.Sleep(time.Duration(intParam(r, "ms", 0, 3600_000)) * time.Millisecond)
	io.WriteString(w, "hung")
}

var filler = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}()

func sendBytes(w http.ResponseWriter, r *http.Request) {
	n := intParam(r, "n", 0, 1<<34)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	for n > 0 {
		k := min(n, len(filler))
		if _, err := w.Write(filler[:k]); err != nil {
			return
		}
		n -= k
	}
}

func stream(w http.ResponseWriter, r *http.Request) {
	chunks := intParam(r, "chunks", 3, 1<<20)
	size := intParam(r, "size", 16, 1<<20)
	d := time.Duration(intParam(r, "ms", 0, 60_000)) * time.Millisecond
	w.Header().Set("Content-Type", "text/plain")
	fl, _ := w.(http.Flusher)
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = 'a' + byte(i%26)
	}
	for i := 0; i < chunks; i++ {
		if i > 0 && d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if _, err := w.Write(buf); err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
}
