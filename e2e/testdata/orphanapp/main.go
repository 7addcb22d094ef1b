// Command orphanapp is gonicorn over the demo app plus GET /spawn, which starts a
// process and leaves it behind: `sh -c 'sleep 0.3 &'` returns at once and its
// sleep is orphaned. The end-to-end tests run it as PID 1 of a PID namespace to
// see the master reap such orphans.
package main

import (
	"net/http"
	"os/exec"

	"github.com/gonicorn/gonicorn"
	"github.com/gonicorn/gonicorn/internal/demo"
)

func main() {
	mux := http.NewServeMux()
	mux.Handle("/", demo.Handler())
	mux.HandleFunc("/spawn", func(w http.ResponseWriter, r *http.Request) {
		if err := exec.Command("sh", "-c", "sleep 0.3 &").Run(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write([]byte("spawned"))
	})
	gonicorn.Main(mux)
}
