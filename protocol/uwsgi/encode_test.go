package uwsgi

import (
	"encoding/binary"
	"strings"
	"testing"
)

// encodeVars encodes key/value pairs (alternating) as the vars block of a packet.
func encodeVars(kv ...string) []byte {
	if len(kv)%2 != 0 {
		panic("encodeVars: odd number of strings")
	}
	var b []byte
	for _, s := range kv {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return b
}

// frame puts the packet header in front of a vars block.
func frame(modifier1, modifier2 byte, vars []byte) []byte {
	b := []byte{modifier1, 0, 0, modifier2}
	binary.LittleEndian.PutUint16(b[1:3], uint16(len(vars)))
	return append(b, vars...)
}

// packet encodes a complete modifier1=0 packet holding the given key/value pairs.
func packet(kv ...string) []byte {
	b, err := AppendPacket(nil, kv...)
	if err != nil {
		panic(err)
	}
	return b
}

// nginxGET is the variable set nginx's stock uwsgi_params sends for a plain GET,
// followed by extra pairs.
func nginxGET(extra ...string) []byte {
	return packet(append([]string{
		"QUERY_STRING", "",
		"REQUEST_METHOD", "GET",
		"CONTENT_TYPE", "",
		"CONTENT_LENGTH", "",
		"REQUEST_URI", "/",
		"PATH_INFO", "/",
		"DOCUMENT_ROOT", "/usr/share/nginx/html",
		"SERVER_PROTOCOL", "HTTP/1.1",
		"REQUEST_SCHEME", "http",
		"REMOTE_ADDR", "127.0.0.1",
		"REMOTE_PORT", "40000",
		"SERVER_PORT", "8080",
		"SERVER_NAME", "example.test",
	}, extra...)...)
}

func TestAppendPacketRoundTripsAndRefusesOversize(t *testing.T) {
	b, err := AppendPacket([]byte("x"), "REQUEST_METHOD", "GET", "EMPTY", "")
	if err != nil {
		t.Fatal(err)
	}
	var p Packet
	n, err := Parse(b[1:], &Limits{}, &p)
	if err != nil || n != len(b)-1 || len(p.Vars) != 2 || string(p.Vars[0].Value) != "GET" || len(p.Vars[1].Value) != 0 {
		t.Fatalf("n=%d err=%v vars=%d", n, err, len(p.Vars))
	}
	big := strings.Repeat("v", 0x10000)
	if _, err := AppendPacket(nil, "K", big); err != ErrTooLarge {
		t.Fatalf("a 64 KiB value: %v", err)
	}
	half := strings.Repeat("v", 0x8000)
	if _, err := AppendPacket(nil, "A", half, "B", half); err != ErrTooLarge {
		t.Fatalf("a packet over 64 KiB: %v", err)
	}
	if _, err := AppendPacket(nil, "odd"); err == nil {
		t.Fatal("an odd number of strings was accepted")
	}
}
