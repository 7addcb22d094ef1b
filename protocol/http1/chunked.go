package http1

import (
	"bytes"
	"math"
	"net/textproto"
)

// DefaultMaxTrailerBytes is the trailer section bound a zero MaxTrailerBytes stands for.
const DefaultMaxTrailerBytes = 16 << 10

// maxChunkLine bounds one chunk-size line (size digits and extensions, without CRLF).
const maxChunkLine = 4096

// OwnedField is one trailer field copied out of the input. Name is canonicalised as
// net/textproto does ("content-md5" → "Content-Md5"); Value is trimmed of OWS.
type OwnedField struct{ Name, Value string }

// chunkState is where a ChunkedDecoder is in the chunked framing.
type chunkState uint8

const (
	chunkSize           chunkState = iota // reading the hex digits of a chunk size
	chunkExtAfterWord                     // after the size or an extension value: BWS, ';' or CR
	chunkExtBeforeName                    // after ';': BWS or an extension name
	chunkExtName                          // inside an extension name
	chunkExtAfterName                     // BWS after a name: '=' or ';' must follow
	chunkExtBeforeValue                   // after '=': BWS, a token or a quoted-string
	chunkExtToken                         // inside a token extension value
	chunkExtQuoted                        // inside a quoted-string extension value
	chunkExtQuotedPair                    // after a backslash inside a quoted-string
	chunkSizeLF                           // CR of the size line seen, LF must follow
	chunkData                             // inside chunk data
	chunkDataCR                           // chunk data done, CR must follow
	chunkDataLF                           // CR after chunk data seen, LF must follow
	chunkTrailerStart                     // at the start of a trailer line or the final CRLF
	chunkTrailerLine                      // inside a trailer field line
	chunkTrailerEndLF                     // CR of the final CRLF seen, LF must follow
	chunkDone                             // last-chunk and trailer section consumed
)

// ChunkedDecoder decodes a chunked body incrementally (RFC 9112 §7.1), trailers included.
// The zero value is ready to use.
type ChunkedDecoder struct {
	MaxTrailerBytes int          // 0 = 16 KiB; more → *Error 431
	Trailers        []OwnedField // trailer fields, copied (own memory), valid after done

	state        chunkState
	size         int64 // size of the current chunk while its line is read
	remaining    int64 // data bytes of the current chunk not yet decoded
	digits       int   // hex digits of the current size line
	lineLen      int   // bytes of the current size line, without CRLF
	wsPending    bool  // BWS seen in chunkExtAfterWord: only ';' may follow
	trailerBytes int   // bytes of the trailer section so far
	line         []byte
	err          *Error
}

// maxRetainedLine bounds the trailer line buffer a ChunkedDecoder keeps between bodies.
const maxRetainedLine = 1024

// Reset prepares d for the next body. It keeps MaxTrailerBytes and a small line buffer;
// Trailers is set to nil so a caller may keep the previous body's trailers.
func (d *ChunkedDecoder) Reset() {
	line := d.line[:0]
	if cap(line) > maxRetainedLine {
		line = nil
	}
	*d = ChunkedDecoder{MaxTrailerBytes: d.MaxTrailerBytes, line: line}
}

// Decode consumes as much of src as it can and appends decoded body bytes to dst.
// It returns the extended dst, how many src bytes it consumed, and done=true once the
// last-chunk and trailer section (and its final CRLF) have been consumed. Bytes after the
// end are not consumed. Errors are *Error (400 for bad sizes/extensions/CRLF, size
// overflow; 431 for a trailer section over MaxTrailerBytes); after one, every call
// returns it again. On an error, out holds the body bytes decoded before it; consumed
// then says only how far decoding got (it depends on how the input was split), since
// the connection cannot be read further.
func (d *ChunkedDecoder) Decode(dst, src []byte) (out []byte, consumed int, done bool, err error) {
	if d.err != nil {
		return dst, 0, false, d.err
	}
	i := 0
	for i < len(src) && d.state != chunkDone {
		switch d.state {
		case chunkData:
			k := len(src) - i
			if int64(k) > d.remaining {
				k = int(d.remaining)
			}
			dst = append(dst, src[i:i+k]...)
			i += k
			d.remaining -= int64(k)
			if d.remaining == 0 {
				d.state = chunkDataCR
			}
		case chunkTrailerLine:
			n, e := d.readTrailerLine(src[i:])
			i += n
			if e != nil {
				d.err = e
				return dst, i, false, e
			}
		default:
			if e := d.step(src[i]); e != nil {
				d.err = e
				return dst, i, false, e
			}
			i++
		}
	}
	return dst, i, d.state == chunkDone, nil
}

// step advances the framing state machine by one byte outside chunk data and trailer lines.
func (d *ChunkedDecoder) step(c byte) *Error {
	if d.state < chunkSizeLF && c != '\r' {
		d.lineLen++
		if d.lineLen > maxChunkLine {
			return errChunkLineLong
		}
	}
	switch d.state {
	case chunkSize:
		if byteClass[c]&classHex != 0 {
			if d.size > math.MaxInt64>>4 {
				return errChunkSizeRange
			}
			d.size = d.size<<4 | int64(unhex(c))
			d.digits++
			return nil
		}
		if d.digits == 0 {
			return errChunkSize
		}
		switch {
		case c == '\r':
			d.state = chunkSizeLF
		case c == ';':
			d.state = chunkExtBeforeName
		case isOWS(c):
			d.state, d.wsPending = chunkExtAfterWord, true
		default:
			return errChunkSize
		}
	case chunkExtAfterWord:
		switch {
		case isOWS(c):
			d.wsPending = true
		case c == ';':
			d.state = chunkExtBeforeName
		case c == '\r' && !d.wsPending:
			d.state = chunkSizeLF
		default:
			return errChunkExtension
		}
	case chunkExtBeforeName:
		switch {
		case isOWS(c):
		case byteClass[c]&classToken != 0:
			d.state = chunkExtName
		default:
			return errChunkExtension
		}
	case chunkExtName:
		switch {
		case byteClass[c]&classToken != 0:
		case isOWS(c):
			d.state = chunkExtAfterName
		case c == '=':
			d.state = chunkExtBeforeValue
		case c == ';':
			d.state = chunkExtBeforeName
		case c == '\r':
			d.state = chunkSizeLF
		default:
			return errChunkExtension
		}
	case chunkExtAfterName:
		switch {
		case isOWS(c):
		case c == '=':
			d.state = chunkExtBeforeValue
		case c == ';':
			d.state = chunkExtBeforeName
		default:
			return errChunkExtension
		}
	case chunkExtBeforeValue:
		switch {
		case isOWS(c):
		case c == '"':
			d.state = chunkExtQuoted
		case byteClass[c]&classToken != 0:
			d.state = chunkExtToken
		default:
			return errChunkExtension
		}
	case chunkExtToken:
		switch {
		case byteClass[c]&classToken != 0:
		case isOWS(c):
			d.state, d.wsPending = chunkExtAfterWord, true
		case c == ';':
			d.state = chunkExtBeforeName
		case c == '\r':
			d.state = chunkSizeLF
		default:
			return errChunkExtension
		}
	case chunkExtQuoted:
		switch {
		case c == '"':
			d.state, d.wsPending = chunkExtAfterWord, false
		case c == '\\':
			d.state = chunkExtQuotedPair
		case byteClass[c]&classValue == 0:
			return errChunkExtension
		}
	case chunkExtQuotedPair:
		if byteClass[c]&classValue == 0 {
			return errChunkExtension
		}
		d.state = chunkExtQuoted
	case chunkSizeLF:
		if c != '\n' {
			return errChunkBareCR
		}
		d.remaining, d.size, d.digits, d.lineLen, d.wsPending = d.size, 0, 0, 0, false
		if d.remaining == 0 {
			d.state = chunkTrailerStart
		} else {
			d.state = chunkData
		}
	case chunkDataCR:
		if c != '\r' {
			return errChunkCRLF
		}
		d.state = chunkDataLF
	case chunkDataLF:
		if c != '\n' {
			return errChunkCRLF
		}
		d.state = chunkSize
	case chunkTrailerStart:
		if err := d.countTrailerBytes(1); err != nil {
			return err
		}
		if c == '\r' {
			d.state = chunkTrailerEndLF
			return nil
		}
		if c == '\n' {
			return errBareLF
		}
		d.line = append(d.line[:0], c)
		d.state = chunkTrailerLine
	case chunkTrailerEndLF:
		if err := d.countTrailerBytes(1); err != nil {
			return err
		}
		if c != '\n' {
			return errChunkBareCR
		}
		d.state = chunkDone
	}
	return nil
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func (d *ChunkedDecoder) countTrailerBytes(n int) *Error {
	limit := d.MaxTrailerBytes
	if limit <= 0 {
		limit = DefaultMaxTrailerBytes
	}
	if n > limit-d.trailerBytes {
		return errTrailerTooLarge
	}
	d.trailerBytes += n
	return nil
}

// readTrailerLine copies src into the current trailer line up to and including its LF,
// and parses the line once complete. It returns how many bytes of src it consumed.
func (d *ChunkedDecoder) readTrailerLine(src []byte) (int, *Error) {
	lf := bytes.IndexByte(src, '\n')
	n := lf + 1
	if lf < 0 {
		n = len(src)
	}
	if err := d.countTrailerBytes(n); err != nil {
		return 0, err
	}
	if lf < 0 {
		d.line = append(d.line, src...)
		return n, nil
	}
	d.line = append(d.line, src[:lf]...)
	line := d.line
	if line[len(line)-1] != '\r' {
		return 0, errBareLF
	}
	line = line[:len(line)-1]
	nameEnd, valueStart, valueEnd, err := splitFieldLine(line)
	if err != nil {
		return 0, err
	}
	if forbiddenInTrailer(line[:nameEnd]) {
		return 0, errTrailerField
	}
	d.Trailers = append(d.Trailers, OwnedField{
		Name:  textproto.CanonicalMIMEHeaderKey(string(line[:nameEnd])),
		Value: string(line[valueStart:valueEnd]),
	})
	d.state = chunkTrailerStart
	return n, nil
}

// trailerForbidden lists, lower-cased, the fields a trailer section must not carry
// (RFC 9110 §6.5.1): message framing, routing, connection control, request
// modifiers (controls and conditionals), authentication, and the fields that
// describe how to process the content. net/http refuses the same set.
var trailerForbidden = map[string]struct{}{
	"content-length": {}, "transfer-encoding": {}, "trailer": {}, "host": {},
	"connection": {}, "keep-alive": {}, "proxy-connection": {}, "te": {}, "upgrade": {},
	"cache-control": {}, "expect": {}, "max-forwards": {}, "pragma": {}, "range": {},
	"if-match": {}, "if-none-match": {}, "if-modified-since": {}, "if-unmodified-since": {}, "if-range": {},
	"authorization": {}, "proxy-authorization": {}, "proxy-authenticate": {}, "www-authenticate": {},
	"cookie": {}, "set-cookie": {},
	"content-encoding": {}, "content-type": {}, "content-range": {},
}

// forbiddenInTrailer reports whether name (any case) may not appear in a trailer.
func forbiddenInTrailer(name []byte) bool {
	if len(name) > len("proxy-authorization") {
		return false
	}
	var low [len("proxy-authorization")]byte
	for i, c := range name {
		low[i] = lowerASCII(c)
	}
	_, bad := trailerForbidden[string(low[:len(name)])]
	return bad
}
