package proxyproto

import (
	"errors"
	"testing"
)

// FuzzParse: no input panics; a parsed header lies within its input; a header that
// carries addresses encodes back to bytes that parse to the same header.
func FuzzParse(f *testing.F) {
	for _, seed := range [][]byte{
		AppendV1(nil, tcp4), AppendV1(nil, tcp6), AppendV1(nil, Header{}),
		AppendV2(nil, tcp4, nil), AppendV2(nil, tcp6, []byte{0x01, 0, 2, 'h', '2'}), AppendV2(nil, Header{}, nil),
		[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 65535 0\r\nGET / HTTP/1.1\r\n\r\n"),
		[]byte("PROXY UNKNOWN junk\r\n"),
		[]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
		[]byte(sig() + "\x21\x31\x00\xd8"),
		[]byte(sig() + "\x21\x11\x00\x0f\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00"),
	} {
		f.Add(seed, uint8(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, want uint8) {
		v := Version(want % 3)
		h, n, err := Parse(b, v)
		if err != nil {
			if !errors.Is(err, ErrNeedMore) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if n <= 0 || n > len(b) || (v != Any && h.Version != v) {
			t.Fatalf("header %+v of %d bytes from %d (want %v)", h, n, len(b), v)
		}
		if !h.Proxied {
			return
		}
		var again []byte
		if h.Version == V1 {
			again = AppendV1(nil, h)
		} else {
			again = AppendV2(nil, h, nil)
		}
		h2, n2, err := Parse(again, h.Version)
		if err != nil || h2 != h || n2 != len(again) {
			t.Fatalf("%+v encodes to %q, which parses to %+v, %d, %v", h, again, h2, n2, err)
		}
	})
}
