package gonicorn

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gonicorn/gonicorn/internal/config"
)

// config_gen.go is what `go generate` writes from internal/config: a field added
// there and not here fails this test (and the conversions in this package).
func TestConfigGenIsCurrent(t *testing.T) {
	want, err := config.PublicSource()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("config_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("config_gen.go is stale: run `go generate` in the module root")
	}
}

// Every setting's documentation names its flag and its default: `go doc` of this
// package is where users look them up.
func TestEveryConfigFieldNamesFlagAndDefault(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "config_gen.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	flag := regexp.MustCompile(`--[a-z]`)
	fields := 0
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Config" {
			return true
		}
		for _, fl := range ts.Type.(*ast.StructType).Fields.List {
			fields++
			doc := fl.Doc.Text()
			if !flag.MatchString(doc) || !strings.Contains(doc, "Default") {
				t.Errorf("Config.%s: its doc comment must name its flag and its default: %q", fl.Names[0].Name, doc)
			}
		}
		return false
	})
	if fields == 0 {
		t.Fatal("no Config struct in config_gen.go")
	}
}
