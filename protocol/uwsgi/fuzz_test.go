package uwsgi

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse checks that no input makes Parse or NewRequest panic, that n never runs
// past the buffer, and that a packet fed in two reads parses exactly as it does whole.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.bin"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint16(len(b)/2))
	}
	f.Add(nginxGET("HTTP_X_A", "1", "HTTP_X_A", "2", "HTTP_HOST", "h"), uint16(7))
	f.Add(packet("REQUEST_METHOD", "GET"), uint16(3))
	f.Add(packet("REQUEST_METHOD", "GET", "PATH_INFO", "/a b", "QUERY_STRING", "x"), uint16(1))
	f.Add(frame(0, 0, nil), uint16(0))
	f.Add(frame(1, 0, nil), uint16(0))
	f.Add(frame(0, 0, []byte{1, 0, 'K', 5, 0, 'v'}), uint16(2))
	f.Add(frame(0, 0, append(encodeVars("K", "V"), 0)), uint16(5))
	f.Add(nginxGET("CONTENT_LENGTH", "99999999999999999999"), uint16(9))
	f.Add(nginxGET("HTTP_", "x", "HTTP_X Y", "z"), uint16(11))

	f.Fuzz(func(t *testing.T, buf []byte, split uint16) {
		var whole Packet
		n, err := Parse(buf, &Limits{MaxVars: 64}, &whole)
		if n < 0 || n > len(buf) {
			t.Fatalf("n = %d outside the buffer of %d bytes", n, len(buf))
		}
		var pe *Error
		if err != nil && (n != 0 || !errors.As(err, &pe)) {
			t.Fatalf("Parse = (%d, %v): an error must come with n = 0 and be an *Error", n, err)
		}

		// As the engine reads: the first part, then the whole buffer.
		cut := int(split)
		if cut > len(buf) {
			cut = len(buf)
		}
		var split1 Packet
		n1, err1 := Parse(buf[:cut], &Limits{MaxVars: 64}, &split1)
		if n1 != 0 || err1 != nil {
			if n1 != n || err1 != err {
				t.Fatalf("prefix of %d bytes gave (%d, %v), the whole gave (%d, %v)", cut, n1, err1, n, err)
			}
		}
		n2, err2 := Parse(buf, &Limits{MaxVars: 64}, &split1)
		if n2 != n || err2 != err {
			t.Fatalf("reusing a Packet gave (%d, %v), a fresh one (%d, %v)", n2, err2, n, err)
		}
		if err != nil || n == 0 {
			return
		}
		if !reflect.DeepEqual(pairs(&split1), pairs(&whole)) {
			t.Fatalf("vars differ after a split read: %q vs %q", pairs(&split1), pairs(&whole))
		}

		r, rerr := NewRequest(context.Background(), &whole)
		if rerr != nil {
			if r != nil || !errors.As(rerr, &pe) {
				t.Fatalf("NewRequest = (%v, %v): an error must come alone and be an *Error", r, rerr)
			}
			return
		}
		if r.Method == "" || r.URL == nil || r.Header == nil || r.ContentLength < 0 {
			t.Fatalf("NewRequest accepted an unusable request: %+v", r)
		}
	})
}
