package engineconf

import (
	"reflect"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/engine"
	"github.com/gonicorn/gonicorn/internal/config"
)

// The engine's defaults are gonicorn's flag defaults: a program that embeds the
// engine gets the server the command line gives.
func TestDefaultsAgree(t *testing.T) {
	cfg := config.Default()
	got := Options(&cfg, zerolog.Logger{}, nil)
	if want := engine.DefaultOptions(); !reflect.DeepEqual(got, want) {
		t.Fatalf("engine options of config.Default():\n%+v\nengine.DefaultOptions():\n%+v", got, want)
	}
}

// Every engine option is filled from the configuration (a field added to one but
// not mapped shows up here).
func TestEveryOptionMapped(t *testing.T) {
	cfg := config.Default()
	cfg.EventLoops = 3
	cfg.ForwardedForRemoteAddr = true // off by default
	o := Options(&cfg, zerolog.Nop(), nil)
	v := reflect.ValueOf(o)
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		if name == "Access" || name == "Log" || name == "Stats" {
			continue
		}
		if v.Field(i).IsZero() {
			t.Errorf("engine option %s is zero with the default configuration: not mapped?", name)
		}
	}
}
