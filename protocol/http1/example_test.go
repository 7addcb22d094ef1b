package http1_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gonicorn/gonicorn/protocol/http1"
)

// An event loop hands the parser every unconsumed byte on each read, from the head's start.
func ExampleParser() {
	var p http1.Parser
	var req http1.Request
	inbound := []byte("POST /echo HTTP/1.1\r\nHost: localhost\r\n")
	n, err := p.Parse(inbound, &req)
	fmt.Println(n, err) // incomplete: wait for more

	inbound = append(inbound, "Content-Length: 5\r\n\r\nhello"...)
	n, err = p.Parse(inbound, &req)
	fmt.Println(n, err, string(req.Method), string(req.Target), req.ContentLength, req.KeepAlive)
	fmt.Printf("body %q\n", inbound[n:n+int(req.ContentLength)])
	p.Reset()

	_, err = p.Parse([]byte("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), &req)
	var refusal *http1.Error
	if errors.As(err, &refusal) {
		fmt.Println(refusal.Status, refusal.Reason)
	}
	// Output:
	// 0 <nil>
	// 59 <nil> POST /echo 5 true
	// body "hello"
	// 501 transfer coding not implemented
}

func ExampleChunkedDecoder() {
	var d http1.ChunkedDecoder
	var body []byte
	for _, read := range []string{"5\r\nhel", "lo\r\n0\r\nX-Sum: 1\r\n\r\nGET /next"} {
		var n int
		var done bool
		var err error
		body, n, done, err = d.Decode(body, []byte(read))
		fmt.Println(n, done, err)
	}
	fmt.Printf("%q %v\n", body, d.Trailers)
	// Output:
	// 6 false <nil>
	// 19 true <nil>
	// "hello" [{X-Sum 1}]
}

func ExampleAppendHeaders() {
	h := http.Header{"Content-Type": {"text/plain"}, "X-Injected": {"a\r\nSet-Cookie: evil=1"}}
	head := http1.AppendStatusLine(nil, 1, 1, http.StatusOK)
	head = http1.AppendHeaders(head, h)
	head = append(head, "Transfer-Encoding: chunked\r\n\r\n"...)
	head = http1.AppendChunkHeader(head, 13)
	fmt.Printf("%q\n", head)
	// Output:
	// "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nd\r\n"
}
