// Command nethttpserver serves the demo application with the standard library's
// net/http server: the baseline that e2e benchmarks compare gonicorn against.
//
//	nethttpserver -addr 127.0.0.1:9000
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/gonicorn/gonicorn/internal/demo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "TCP address to listen on")
	flag.Parse()
	srv := &http.Server{
		Addr:              *addr,
		Handler:           demo.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
