// Command gonicorn serves the built-in demo application with gonicorn: the same
// routes everywhere, because tests, benchmarks and people use it.
//
//	gonicorn -b 127.0.0.1:8000 -w 2
package main

import (
	"github.com/gonicorn/gonicorn"
	"github.com/gonicorn/gonicorn/internal/demo"
)

func main() {
	gonicorn.Main(demo.Handler())
}
