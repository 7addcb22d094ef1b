package uwsgi

import (
	"encoding/binary"
	"errors"
)

// ErrTooLarge is returned by AppendPacket when a var or the whole vars block
// does not fit the protocol's 16-bit sizes.
var ErrTooLarge = errors.New("uwsgi: a var or the packet exceeds 65535 bytes")

// AppendPacket appends a modifier1=0 packet (as nginx's uwsgi_pass sends it)
// holding the key/value pairs kv, alternating keys and values. It is what a
// client or a test writes; the server side only parses.
func AppendPacket(dst []byte, kv ...string) ([]byte, error) {
	if len(kv)%2 != 0 {
		return dst, errors.New("uwsgi: AppendPacket needs key/value pairs")
	}
	size := 0
	for _, s := range kv {
		if len(s) > 0xffff {
			return dst, ErrTooLarge
		}
		size += 2 + len(s)
	}
	if size > 0xffff {
		return dst, ErrTooLarge
	}
	dst = append(dst, 0)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(size))
	dst = append(dst, 0)
	for _, s := range kv {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(s)))
		dst = append(dst, s...)
	}
	return dst, nil
}
