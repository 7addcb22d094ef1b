package engine

import (
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gonicorn/gonicorn/internal/header"
	"github.com/gonicorn/gonicorn/protocol/http1"
)

// writerState is what both response writers (response for HTTP/1 and uWSGI,
// h2Stream for HTTP/2) know of the handler's answer: its header, under the rule
// for late changes, its status, and the body written against the length it
// declared. The writer's mutex guards it.
type writerState struct {
	hdr         handlerHeader
	status      int
	wroteHeader bool
	headSent    bool  // the head has been framed
	isHead      bool  // the request is HEAD: body bytes are counted, not sent
	declared    int64 // the handler's Content-Length, or -1
	written     int64 // body bytes the handler wrote
}

// lockedWriter is what the start of both writers' Write needs, called under
// their mutex.
type lockedWriter interface {
	usableLocked() error        // why the handler may no longer write, if so
	writeHeaderLocked(code int) // records the status and fixes the head
}

// begin starts a Write or a Flush under w's mutex: it reports why the handler may
// no longer write, else makes the implicit WriteHeader(200).
func (ws *writerState) begin(w lockedWriter) error {
	if err := w.usableLocked(); err != nil {
		return err
	}
	if !ws.wroteHeader {
		w.writeHeaderLocked(http.StatusOK)
	}
	return nil
}

// startWrite begins a Write of n body bytes under w's mutex: begin, then admit.
// It reports whether the bytes are to be sent (a HEAD response counts them
// only), or why the Write fails.
func (ws *writerState) startWrite(w lockedWriter, n int) (send bool, err error) {
	if err := ws.begin(w); err != nil {
		return false, err
	}
	if err := ws.admit(n); err != nil {
		return false, err
	}
	return !ws.isHead, nil
}

// checkWriteHeaderCode panics, as net/http does, on a status no response can carry.
func checkWriteHeaderCode(code int) {
	if code < 100 || code > 999 {
		panic("gonicorn: invalid WriteHeader code " + strconv.Itoa(code))
	}
}

// admit checks n more body bytes against the status and the declared length, as
// net/http's Write does, and counts them.
func (ws *writerState) admit(n int) error {
	if !bodyAllowed(ws.status) {
		return http.ErrBodyNotAllowed
	}
	if ws.declared >= 0 && ws.written+int64(n) > ws.declared {
		return http.ErrContentLength
	}
	ws.written += int64(n)
	return nil
}

// handlerHeader is a handler's response header map under the rule both response
// writers (HTTP/1 and uWSGI in response.go, HTTP/2 in h2response.go) follow, as
// net/http does: the head is what the map holds at WriteHeader; changes made after
// it reach the client only as trailers (declared in the Trailer field, or keys
// carrying http.TrailerPrefix). The writer that owns it guards it with its mutex.
type handlerHeader struct {
	head  http.Header // the map the head is built from
	late  http.Header // after WriteHeader: the map Header returns, for trailers
	fixed bool        // WriteHeader has been called
}

// headerMaps holds emptied response header maps for reuse: a handler that sets
// a header otherwise costs a map and its first group of slots per response.
var headerMaps sync.Pool

// maxPooledHeader bounds the fields of a map kept for reuse (clear keeps a
// map's capacity).
const maxPooledHeader = 16

// newHeaderMap returns an empty header map, reused when one is pooled.
func newHeaderMap() http.Header {
	if h, ok := headerMaps.Get().(http.Header); ok {
		return h
	}
	return make(http.Header)
}

// putHeaderMap empties h and pools it; nothing may use h afterwards.
func putHeaderMap(h http.Header) {
	if len(h) > maxPooledHeader {
		return
	}
	clear(h)
	headerMaps.Put(h)
}

// get is the writer's Header: the live map before WriteHeader, a copy of it
// (made on first use) afterwards.
func (h *handlerHeader) get() http.Header {
	if !h.fixed {
		if h.head == nil {
			h.head = newHeaderMap()
		}
		return h.head
	}
	if h.late == nil {
		h.late = h.head.Clone()
		if h.late == nil {
			h.late = make(http.Header)
		}
	}
	return h.late
}

// fix records WriteHeader and returns the head's map. With detach the head is a
// copy, and the handler keeps its map for trailers: a writer whose head is framed
// on another goroutine (h2, on the loop) needs that, since the handler may still
// hold the map it got before WriteHeader and change it. The HTTP/1 writer frames
// its head on the handler's goroutine and saves the copy; for a handler that
// never asked for its header the head stays nil (reading a nil map is reading
// an empty one), and the writer makes one only if it must store into it.
func (h *handlerHeader) fix(detach bool) http.Header {
	h.fixed = true
	if detach {
		if h.head == nil {
			h.head = make(http.Header)
		}
		h.late = h.head
		h.head = h.head.Clone()
	}
	return h.head
}

// headScan is one pass over the head's map for an HTTP/1 head: its fields in wire
// order with the trailers left out, the trailer names (as trailerKeys), and the
// fields the writer consults itself.
type headScan struct {
	fields     []http1.OutField
	trailers   []string
	connection []string // the Connection field's values
	date       bool     // the handler set Date
	ctype      bool     // the handler set Content-Type
}

// scan reads the head (and the late map's trailer keys) once, collecting the
// fields into buf, which may be a caller's stack array.
func (h *handlerHeader) scan(buf []http1.OutField) headScan {
	s := headScan{fields: buf[:0], trailers: h.declaredTrailers()}
	declared := len(s.trailers) > 0
	for k, v := range h.head {
		switch k {
		case "Connection":
			s.connection = v
		case "Date":
			s.date = true
		case "Content-Type":
			s.ctype = true
		}
		if strings.HasPrefix(k, http.TrailerPrefix) {
			s.trailers = addPrefixedTrailer(s.trailers, k)
			continue
		}
		if declared && isTrailerKey(k, s.trailers) {
			continue
		}
		s.fields = append(s.fields, http1.OutField{Name: k, Values: v})
	}
	for k := range h.late {
		s.trailers = addPrefixedTrailer(s.trailers, k)
	}
	http1.SortFields(s.fields)
	return s
}

// trailerKeys returns the names of the trailers: those declared in the head's
// Trailer field (canonical) and the keys carrying http.TrailerPrefix.
func (h *handlerHeader) trailerKeys() []string {
	keys := h.declaredTrailers()
	for _, m := range [...]http.Header{h.head, h.late} {
		for k := range m {
			keys = addPrefixedTrailer(keys, k)
		}
	}
	return keys
}

// declaredTrailers returns the names the head's Trailer field declares, canonical.
func (h *handlerHeader) declaredTrailers() []string {
	var keys []string
	for _, v := range h.head["Trailer"] {
		for _, k := range header.SplitList(v) {
			keys = append(keys, http.CanonicalHeaderKey(k))
		}
	}
	return keys
}

// addPrefixedTrailer adds k to keys when it carries http.TrailerPrefix and is
// not there yet.
func addPrefixedTrailer(keys []string, k string) []string {
	if strings.HasPrefix(k, http.TrailerPrefix) && !isTrailerKey(k, keys) {
		keys = append(keys, k)
	}
	return keys
}

func isTrailerKey(k string, keys []string) bool {
	for _, t := range keys {
		if t == k {
			return true
		}
	}
	return false
}

// trailers returns the trailer fields with their final values (http.TrailerPrefix
// removed), or nil when there are none.
func (h *handlerHeader) trailers(keys []string) http.Header {
	final := h.late
	if final == nil {
		final = h.head
	}
	var tr http.Header
	for _, k := range keys {
		vv := final[k]
		if len(vv) == 0 {
			continue
		}
		if tr == nil {
			tr = make(http.Header, len(keys))
		}
		tr[strings.TrimPrefix(k, http.TrailerPrefix)] = vv
	}
	return tr
}
