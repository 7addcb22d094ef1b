package tools

import (
	"strings"
	"testing"
	"time"
)

func TestParseH2loadReadsTheDataBytes(t *testing.T) {
	out := `finished in 2.00s, 10.00 req/s, 1KB/s
requests: 20 total, 21 started, 20 done, 20 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 20 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 1.00KB (1024) total, 100B (100) headers (space savings 90.00%), 260B (260) data
`
	o, err := ParseH2load(out)
	if err != nil {
		t.Fatal(err)
	}
	if o.Requests != 20 || o.Started != 21 || o.DataBytes != 260 || o.Elapsed != 2*time.Second {
		t.Errorf("got %+v", o)
	}
	o, err = ParseH2load(strings.Replace(out, "traffic:", "other:", 1))
	if err != nil || o.DataBytes != -1 {
		t.Errorf("without a traffic line: %+v %v, want DataBytes -1", o, err)
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := &TailBuffer{Max: 4}
	b.Write([]byte("abc"))
	b.Write([]byte("defg"))
	if got := b.String(); got != "defg" {
		t.Errorf("got %q, want defg", got)
	}
	var d TailBuffer
	d.Write(make([]byte, 10<<10))
	if n := len(d.String()); n != 8<<10 {
		t.Errorf("default tail holds %d bytes, want 8 KiB", n)
	}
}
