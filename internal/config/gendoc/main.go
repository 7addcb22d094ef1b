// Command gendoc writes package gonicorn's Config (config_gen.go) from
// internal/config's, so that the public type documents every setting. Run it with
// `go generate` in the module root.
package main

import (
	"fmt"
	"os"

	"github.com/gonicorn/gonicorn/internal/config"
)

func main() {
	src, err := config.PublicSource()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
	if err := os.WriteFile("config_gen.go", src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
