package engine_test

import (
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/gonicorn/gonicorn/engine"
)

// The engine serves any http.Handler on listeners its caller binds; gonicorn's
// worker processes do just this with the sockets their master hands them.
func Example() {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s", r.Proto)
	})
	o := engine.DefaultOptions()
	o.EventLoops = 1
	srv, err := engine.New(hello, o)
	if err != nil {
		fmt.Println(err)
		return
	}
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	served := make(chan error, 1)
	go func() {
		served <- srv.Serve([]*engine.Listener{{Listener: nl, Protocol: "http", Spec: nl.Addr().String()}})
	}()
	<-srv.Serving()

	resp, err := http.Get("http://" + nl.Addr().String() + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, string(body))

	_ = srv.Close()
	fmt.Println("stopped:", <-served)
	// Output:
	// 200 OK hello over HTTP/1.1
	// stopped: <nil>
}
