package engine

import "net/http"

// dialect is how a connection frames its answers. Every difference between the
// protocols that share the HTTP/1 response writer is a method here, so that the
// writer, the exchange and the connection ask one value instead of testing the
// protocol at each site.
type dialect uint8

const (
	// dialectHTTP1 answers HTTP/1.x clients: keep-alive, chunked bodies, 1xx heads,
	// Connection headers and hijacking.
	dialectHTTP1 dialect = iota
	// dialectUWSGI answers nginx's uwsgi_pass: a plain HTTP/1.x response on a
	// connection that carries one request (nginx opens one per request), framed
	// by Content-Length or by the close, with no 1xx heads and no hijacking.
	dialectUWSGI
	// dialectH2 frames answers as HTTP/2 streams (h2Stream is the writer).
	dialectH2
)

// dialectOf returns the dialect a listener's protocol starts its connections in.
func dialectOf(uwsgiListener bool) dialect {
	if uwsgiListener {
		return dialectUWSGI
	}
	return dialectHTTP1
}

func (d dialect) String() string {
	switch d {
	case dialectUWSGI:
		return "uwsgi"
	case dialectH2:
		return "h2"
	}
	return "http/1"
}

// oneRequest reports whether the connection carries a single request: every
// response closes it.
func (d dialect) oneRequest() bool { return d == dialectUWSGI }

// connectionHeader reports whether heads carry Connection: close / keep-alive; the
// uWSGI peer knows the connection ends with the response.
func (d dialect) connectionHeader() bool { return d == dialectHTTP1 }

// sendsInterim reports whether informational (1xx) heads reach the client of r.
func (d dialect) sendsInterim(r *http.Request) bool {
	return d == dialectHTTP1 && r.ProtoMinor != 0
}

// canChunk reports whether a response to r may use the chunked transfer coding.
func (d dialect) canChunk(r *http.Request) bool {
	return d == dialectHTTP1 && r.ProtoMajor == 1 && r.ProtoMinor == 1
}

// holdsHeadForBody reports whether the response head waits until the request
// body is complete: nginx stops sending a body to a uWSGI upstream once the head
// of the response arrives.
func (d dialect) holdsHeadForBody() bool { return d == dialectUWSGI }

// hijackable reports whether a handler may take the connection over.
func (d dialect) hijackable() bool { return d == dialectHTTP1 }
