package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/protocol/h2"
)

func TestH2ServesDemoAppByPriorKnowledge(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	cl := h2Client(t, nil)
	resp, err := cl.Get(ts.url("/inspect?x=1"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Proto    string              `json:"proto"`
		Method   string              `json:"method"`
		RawQuery string              `json:"raw_query"`
		Host     string              `json:"host"`
		Headers  map[string][]string `json:"headers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if resp.ProtoMajor != 2 || got.Proto != "HTTP/2.0" || got.Method != "GET" || got.RawQuery != "x=1" || got.Host != ts.addr {
		t.Fatalf("response proto %d, handler saw %+v", resp.ProtoMajor, got)
	}
	if resp.Header.Get("Date") == "" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", resp.Header)
	}
}

func TestH2StreamsRunConcurrently(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	cl := h2Client(t, nil)
	const n = 40
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := cl.Get(ts.url("/sleep?ms=300"))
			if err != nil {
				errs <- err
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "slept" || resp.ProtoMajor != 2 {
				errs <- fmt.Errorf("got %q over HTTP/%d", body, resp.ProtoMajor)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Serially this is 12 s; concurrently it is one sleep plus overhead.
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("%d sleeps of 300ms took %v: streams were not concurrent", n, d)
	}
}

func TestH2FlowControlBothWays(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP2InitialWindowSize = 16 << 10 // the client must wait for WINDOW_UPDATEs
	ts := startServer(t, cfg, nil)
	// A small client window makes the server wait on the client's WINDOW_UPDATEs.
	cl := h2Client(t, &http.HTTP2Config{MaxReceiveBufferPerStream: 32 << 10, MaxReceiveBufferPerConnection: 64 << 10})
	t.Run("large response", func(t *testing.T) {
		resp, err := cl.Get(ts.url("/bytes?n=3000000"))
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != 3000000 || resp.ContentLength != 3000000 {
			t.Fatalf("read %d (content-length %d): %v", n, resp.ContentLength, err)
		}
	})
	t.Run("large request body echoed", func(t *testing.T) {
		body := bytes.Repeat([]byte("0123456789abcdef"), 200000) // 3.2 MB
		resp, err := cl.Post(ts.url("/echo"), "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || sha256.Sum256(got) != sha256.Sum256(body) {
			t.Fatalf("echo: %d bytes back, err %v", len(got), err)
		}
	})
}

func TestH2TrailersBothWays(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Trailer", "X-Sum")
		w.WriteHeader(200)
		w.Write(body)
		sum := sha256.Sum256(body)
		w.Header().Set("X-Sum", fmt.Sprintf("%x", sum[:4]))
		w.Header().Set(http.TrailerPrefix+"X-Echo", r.Trailer.Get("X-Client"))
	})
	ts := startServer(t, testConfig(), h)
	cl := h2Client(t, nil)
	req, _ := http.NewRequest("POST", ts.url("/"), io.NopCloser(strings.NewReader("payload")))
	req.ContentLength = -1
	req.Trailer = http.Header{"X-Client": {"from-client"}}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256([]byte("payload"))
	if string(body) != "payload" || resp.Trailer.Get("X-Sum") != fmt.Sprintf("%x", sum[:4]) || resp.Trailer.Get("X-Echo") != "from-client" {
		t.Fatalf("body %q trailers %v", body, resp.Trailer)
	}
}

func TestH2FlusherStreams(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		w.Write([]byte(" second"))
	})
	ts := startServer(t, testConfig(), h)
	resp, err := h2Client(t, nil).Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first" {
		t.Fatalf("flushed chunk: %q %v", buf, err)
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != " second" || resp.ContentLength != -1 {
		t.Fatalf("rest %q, content-length %d", rest, resp.ContentLength)
	}
}

func TestH2BodilessResponsesSendNoData(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/204":
			w.WriteHeader(204)
		case "/304":
			w.WriteHeader(304)
		default:
			w.Write([]byte("body for GET only"))
		}
	})
	ts := startServer(t, testConfig(), h)
	r := dialRaw(t, ts.addr)
	cases := []struct {
		name, method, path string
		status             int
		contentLength      string
	}{
		{"HEAD keeps the GET length", "HEAD", "/", 200, "17"},
		{"204", "GET", "/204", 204, ""},
		{"304", "GET", "/304", 304, ""},
	}
	for i, tc := range cases {
		id := uint32(2*i + 1)
		r.write(h2.AppendHeaders(nil, id, true, true, r.block(":method", tc.method, ":scheme", "http", ":path", tc.path, ":authority", "x")))
		resp := r.readResponse(id)
		if resp.status != tc.status || resp.header.Get("content-length") != tc.contentLength {
			t.Errorf("%s: status %d content-length %q", tc.name, resp.status, resp.header.Get("content-length"))
		}
		for _, ft := range resp.frames {
			if ft == h2.FrameData {
				t.Errorf("%s: DATA frame sent: %v", tc.name, resp.frames)
			}
		}
	}
}

func TestH2HandlerTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.Timeout = 300 * time.Millisecond
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/partial" {
			w.Write([]byte("started"))
			w.(http.Flusher).Flush()
		}
		time.Sleep(time.Second) // ignores its context: a stuck handler
	})
	ts := startServer(t, cfg, h)
	r := dialRaw(t, ts.addr)
	r.write(r.get(1, "/silent"))
	if resp := r.readResponse(1); resp.status != 503 {
		t.Fatalf("silent handler past --timeout: status %d, reset %v", resp.status, resp.isReset)
	}
	r.write(r.get(3, "/partial"))
	if resp := r.readResponse(3); !resp.isReset || resp.status != 200 || string(resp.body) != "started" {
		t.Fatalf("handler past --timeout after sending: %+v", resp)
	}
}

func TestH2GracefulShutdownFinishesInFlightStreams(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	r := dialRaw(t, ts.addr)
	r.write(r.get(1, "/sleep?ms=500"))
	waitUntil(t, 5*time.Second, func() bool { return ts.srv.inflight.Load() == 1 }, "request in flight")
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- ts.srv.Shutdown(ctx)
	}()
	f, err := r.next(5 * time.Second)
	for err == nil && (f.Type == h2.FrameWindowUpdate || f.Type == h2.FrameSettings) {
		f, err = r.next(5 * time.Second)
	}
	if err != nil || f.Type != h2.FrameGoAway || f.ErrCode != h2.ErrCodeNo || f.LastStreamID != 1 {
		t.Fatalf("want GOAWAY NO_ERROR last=1 first, got %v %v", f.FrameHeader, err)
	}
	// A stream opened after GOAWAY is ignored; the in-flight one completes.
	r.write(r.get(3, "/"))
	if resp := r.readResponse(1); resp.status != 200 || string(resp.body) != "slept" {
		t.Fatalf("in-flight stream: %+v", resp)
	}
	r.expectClose(5 * time.Second)
	r.c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestH2UpgradeAnswersAsStreamOne(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	for _, tc := range []struct{ name, method, body string }{
		{"with a body", "POST", "upgrade body"},
		{"without a body", "GET", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ts.dial()
			settings := base64.RawURLEncoding.EncodeToString(h2.AppendSettings(nil, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 1 << 20})[h2.FrameHeaderLen:])
			req := tc.method + " /inspect HTTP/1.1\r\nHost: up\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n" +
				"HTTP2-Settings: " + settings + "\r\n"
			if tc.body != "" {
				req += fmt.Sprintf("Content-Length: %d\r\n", len(tc.body))
			}
			if _, err := io.WriteString(c, req+"\r\n"+tc.body); err != nil {
				t.Fatal(err)
			}
			const switching = "HTTP/1.1 101 Switching Protocols\r\n"
			head := make([]byte, len(switching))
			if _, err := io.ReadFull(c, head); err != nil || string(head) != switching {
				t.Fatalf("want 101, got %q %v", head, err)
			}
			r := &rawH2{t: t, c: c, dec: hpackDecoder()}
			// The rest of the 101 head, then HTTP/2.
			for !bytes.Contains(r.in, []byte("\r\n\r\n")) {
				buf := make([]byte, 4096)
				n, err := c.Read(buf)
				if err != nil {
					t.Fatal(err)
				}
				r.in = append(r.in, buf[:n]...)
			}
			r.in = r.in[bytes.Index(r.in, []byte("\r\n\r\n"))+4:]
			r.write(h2.AppendSettings([]byte(h2.ClientPreface)))
			resp := r.readResponse(1)
			var got struct {
				Proto   string              `json:"proto"`
				Method  string              `json:"method"`
				Headers map[string][]string `json:"headers"`
				Length  int                 `json:"body_bytes"`
			}
			if err := json.Unmarshal(resp.body, &got); err != nil {
				t.Fatalf("status %d body %q: %v", resp.status, resp.body, err)
			}
			if resp.status != 200 || got.Proto != "HTTP/2.0" || got.Method != tc.method || got.Length != len(tc.body) || got.Headers["Upgrade"] != nil {
				t.Fatalf("status %d, handler saw %+v", resp.status, got)
			}
		})
	}
}

// postExpectContinue opens stream 1 as a POST to /echo of length bytes with
// Expect: 100-continue, and waits for the 100 Continue head.
func postExpectContinue(t *testing.T, r *rawH2, length int) {
	t.Helper()
	r.write(h2.AppendHeaders(nil, 1, false, true, r.block(":method", "POST", ":scheme", "http", ":path", "/echo",
		":authority", "x", "expect", "100-continue", "content-length", strconv.Itoa(length))))
	for {
		f, err := r.next(5 * time.Second)
		if err != nil {
			t.Fatalf("no 100 Continue: %v", err)
		}
		if f.Type == h2.FrameHeaders && f.StreamID == 1 {
			fields, _ := r.dec.DecodeFull(f.Data)
			if len(fields) == 0 || fields[0].Value != "100" || f.Flags.Has(h2.FlagEndStream) {
				t.Fatalf("first head %v", fields)
			}
			break
		}
	}
}

func TestH2ExpectContinue(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	r := dialRaw(t, ts.addr)
	postExpectContinue(t, r, 5)
	r.write(h2.AppendData(nil, 1, true, []byte("hello")))
	if resp := r.readResponse(1); resp.status != 200 || string(resp.body) != "hello" {
		t.Fatalf("%+v", resp)
	}
}

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
