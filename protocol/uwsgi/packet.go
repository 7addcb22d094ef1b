package uwsgi

import "bytes"

// HeaderSize is the size of the fixed packet header: modifier1, datasize, modifier2.
const HeaderSize = 4

// MaxPacketSize is the largest packet Parse can see: the header plus a datasize of 65535.
// A buffer that holds this many bytes always holds a complete packet.
const MaxPacketSize = HeaderSize + 0xffff

// DefaultMaxVars is the variable limit used when Limits.MaxVars is zero.
const DefaultMaxVars = 1024

// Var is one uWSGI variable. Key and Value alias the buffer given to Parse: copy them
// before the buffer is reused.
type Var struct{ Key, Value []byte }

// Packet is a parsed uWSGI packet header and its variables. Reuse one Packet across
// requests: Parse keeps the capacity of Vars.
type Packet struct {
	Modifier1, Modifier2 byte
	// Vars holds the variables in the order they were sent.
	Vars []Var
}

// Limits bounds what Parse accepts. A nil *Limits means the defaults.
type Limits struct {
	// MaxVars caps the number of variables in one packet; a packet with more is an
	// error. 0 (or negative) means DefaultMaxVars.
	MaxVars int
}

// Error is a protocol violation. Reason is a fixed, log-ready text.
type Error struct{ Reason string }

// Error returns the reason prefixed with the protocol name.
func (e *Error) Error() string { return "uwsgi: " + e.Reason }

// The Parse errors are values, so a bad packet costs no allocation.
var (
	errModifier1    = &Error{Reason: "unsupported modifier1 (only 0, an HTTP request, is served)"}
	errKeySize      = &Error{Reason: "variable key length runs past datasize"}
	errValueSize    = &Error{Reason: "variable value length runs past datasize"}
	errTrailingByte = &Error{Reason: "datasize leaves a byte after the last variable"}
	errEmptyKey     = &Error{Reason: "variable with an empty key"}
	errTooManyVars  = &Error{Reason: "too many variables"}
)

// Parse parses the packet header and variables at the start of buf into p.
//
// It returns (n, nil) when the packet is complete, with n = 4 + datasize, the offset
// where the request body (if any) starts; (0, nil) when buf holds only part of the
// packet; and (0, *Error) when the packet is bad: modifier1 is not 0, a variable's
// sizes run past datasize or leave a byte over, a key is empty, or there are more
// variables than lim allows. A bad modifier1 is reported as soon as the first byte
// arrives. p's variables alias buf. Parse allocates nothing once p.Vars has the
// capacity it needs, and once, to the size the packet needs, otherwise.
func Parse(buf []byte, lim *Limits, p *Packet) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	if buf[0] != 0 {
		return 0, errModifier1
	}
	if len(buf) < HeaderSize {
		return 0, nil
	}
	size := int(buf[1]) | int(buf[2])<<8
	end := HeaderSize + size
	if len(buf) < end {
		return 0, nil
	}
	maxVars := DefaultMaxVars
	if lim != nil && lim.MaxVars > 0 {
		maxVars = lim.MaxVars
	}

	vars := p.Vars[:0]
	off := HeaderSize
	for off < end {
		if end-off < 2 {
			p.Vars = vars
			return 0, errTrailingByte
		}
		klen := int(buf[off]) | int(buf[off+1])<<8
		off += 2
		if klen == 0 {
			p.Vars = vars
			return 0, errEmptyKey
		}
		if end-off < klen+2 {
			p.Vars = vars
			return 0, errKeySize
		}
		key := buf[off : off+klen : off+klen]
		off += klen
		vlen := int(buf[off]) | int(buf[off+1])<<8
		off += 2
		if end-off < vlen {
			p.Vars = vars
			return 0, errValueSize
		}
		if len(vars) == maxVars {
			p.Vars = vars
			return 0, errTooManyVars
		}
		if len(vars) == cap(vars) {
			// Grow once, to what the rest of the packet holds (append would grow
			// a fresh Packet four or five times for a typical request).
			grown := make([]Var, len(vars), len(vars)+1+min(countVars(buf[off+vlen:end]), maxVars-len(vars)-1))
			copy(grown, vars)
			vars = grown
		}
		vars = append(vars, Var{Key: key, Value: buf[off : off+vlen : off+vlen]})
		off += vlen
	}
	p.Modifier1, p.Modifier2 = buf[0], buf[3]
	p.Vars = vars
	return end, nil
}

// countVars counts the variables in vars, the variable part of a packet, up to
// the first that runs past its end.
func countVars(vars []byte) int {
	n := 0
	for off := 0; len(vars)-off >= 4; n++ {
		off += 2 + (int(vars[off]) | int(vars[off+1])<<8)
		if len(vars)-off < 2 {
			break
		}
		off += 2 + (int(vars[off]) | int(vars[off+1])<<8)
		if off > len(vars) {
			break
		}
	}
	return n
}

// Lookup returns the value of the last variable named key, as uWSGI's environ would
// hold it, and whether there was one.
func (p *Packet) Lookup(key string) ([]byte, bool) {
	for i := len(p.Vars) - 1; i >= 0; i-- {
		if string(p.Vars[i].Key) == key {
			return p.Vars[i].Value, true
		}
	}
	return nil, false
}

// Scheme returns "https" when the proxy marked the request as secure (HTTPS=on or 1,
// or REQUEST_SCHEME=https), else "http". NewRequest sets r.TLS by the same rule.
func (p *Packet) Scheme() string {
	if p.secure() {
		return "https"
	}
	return "http"
}

func (p *Packet) secure() bool {
	if v, ok := p.Lookup("HTTPS"); ok && (bytes.EqualFold(v, []byte("on")) || string(v) == "1") {
		return true
	}
	v, ok := p.Lookup("REQUEST_SCHEME")
	return ok && bytes.EqualFold(v, []byte("https"))
}
