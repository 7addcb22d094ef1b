package h2

import (
	"encoding/binary"
	"strconv"
)

// FrameType is the type octet of a frame header (RFC 9113 §6).
type FrameType uint8

// The frame types of RFC 9113 §6.
const (
	FrameData         FrameType = 0x0
	FrameHeaders      FrameType = 0x1
	FramePriority     FrameType = 0x2
	FrameRSTStream    FrameType = 0x3
	FrameSettings     FrameType = 0x4
	FramePushPromise  FrameType = 0x5
	FramePing         FrameType = 0x6
	FrameGoAway       FrameType = 0x7
	FrameWindowUpdate FrameType = 0x8
	FrameContinuation FrameType = 0x9
)

var frameTypeNames = [...]string{
	FrameData:         "DATA",
	FrameHeaders:      "HEADERS",
	FramePriority:     "PRIORITY",
	FrameRSTStream:    "RST_STREAM",
	FrameSettings:     "SETTINGS",
	FramePushPromise:  "PUSH_PROMISE",
	FramePing:         "PING",
	FrameGoAway:       "GOAWAY",
	FrameWindowUpdate: "WINDOW_UPDATE",
	FrameContinuation: "CONTINUATION",
}

// String returns the RFC name of the type, or "UNKNOWN_FRAME_TYPE_N".
func (t FrameType) String() string {
	if int(t) < len(frameTypeNames) {
		return frameTypeNames[t]
	}
	return "UNKNOWN_FRAME_TYPE_" + strconv.Itoa(int(t))
}

// Flags is the flags octet of a frame header.
type Flags uint8

// Frame flags; each is defined only for the frame types named.
const (
	FlagEndStream  Flags = 0x1  // DATA, HEADERS
	FlagAck        Flags = 0x1  // SETTINGS, PING
	FlagEndHeaders Flags = 0x4  // HEADERS, CONTINUATION
	FlagPadded     Flags = 0x8  // DATA, HEADERS
	FlagPriority   Flags = 0x20 // HEADERS
)

// Has reports whether every bit of v is set in f.
func (f Flags) Has(v Flags) bool { return f&v == v }

const (
	// FrameHeaderLen is the size of every frame header.
	FrameHeaderLen = 9
	// MinMaxFrameSize is the smallest SETTINGS_MAX_FRAME_SIZE, and its initial value.
	MinMaxFrameSize = 1 << 14
	// MaxMaxFrameSize is the largest SETTINGS_MAX_FRAME_SIZE.
	MaxMaxFrameSize = 1<<24 - 1
	// MaxStreamID is the largest stream identifier.
	MaxStreamID = 1<<31 - 1
)

// ClientPreface is the connection preface every client sends first (RFC 9113 §3.4).
const ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// FrameHeader is the fixed 9-octet header of a frame.
type FrameHeader struct {
	Length   uint32
	Type     FrameType
	Flags    Flags
	StreamID uint32
}

// ParseFrameHeader decodes the first FrameHeaderLen bytes of p, which must hold them.
// The reserved bit of the stream identifier is ignored, as RFC 9113 §4.1 requires.
func ParseFrameHeader(p []byte) FrameHeader {
	_ = p[8]
	return FrameHeader{
		Length:   uint32(p[0])<<16 | uint32(p[1])<<8 | uint32(p[2]),
		Type:     FrameType(p[3]),
		Flags:    Flags(p[4]),
		StreamID: binary.BigEndian.Uint32(p[5:]) & MaxStreamID,
	}
}

// Priority is the priority information of HEADERS and PRIORITY frames. gonicorn accepts
// it and otherwise ignores it (RFC 9113 §5.3.2 deprecates the scheme).
type Priority struct {
	StreamDep uint32
	Exclusive bool
	Weight    uint8
}

// Frame is one parsed frame. Byte slices alias the buffer given to ReadFrame and are
// valid only until that buffer is reused. Fields that do not belong to the frame's type
// are zero.
type Frame struct {
	FrameHeader
	// Data is the payload without padding for DATA, the header block fragment for
	// HEADERS, PUSH_PROMISE and CONTINUATION, the settings entries for SETTINGS, the
	// debug data for GOAWAY and the raw payload for unknown types.
	Data []byte
	// Priority is set for PRIORITY frames and HEADERS frames with FlagPriority.
	Priority Priority
	// ErrCode is the code of RST_STREAM and GOAWAY.
	ErrCode ErrCode
	// LastStreamID is GOAWAY's last stream identifier.
	LastStreamID uint32
	// Increment is WINDOW_UPDATE's window size increment (may be 0: the caller decides
	// whether that is a stream or a connection error).
	Increment uint32
	// Ping is PING's opaque data.
	Ping [8]byte
}

// ReadFrame parses the frame at the start of p. It returns n == 0 and no error when p
// does not yet hold a whole frame; otherwise n is the number of bytes the frame occupies.
// A frame longer than maxFrameSize, or one whose layout RFC 9113 §6 forbids, is a
// *ConnError (FRAME_SIZE_ERROR or PROTOCOL_ERROR) or, where the RFC says so, a
// *StreamError with n set so that the caller can skip the frame. Semantics that depend
// on connection state (stream states, windows, settings values) are the caller's.
func ReadFrame(p []byte, maxFrameSize uint32) (f Frame, n int, err error) {
	if len(p) < FrameHeaderLen {
		return f, 0, nil
	}
	f.FrameHeader = ParseFrameHeader(p)
	if f.Length > maxFrameSize {
		return f, 0, connError(ErrCodeFrameSize, f.Type.String()+" frame of "+
			strconv.FormatUint(uint64(f.Length), 10)+" bytes exceeds SETTINGS_MAX_FRAME_SIZE")
	}
	end := FrameHeaderLen + int(f.Length)
	if len(p) < end {
		return f, 0, nil
	}
	payload := p[FrameHeaderLen:end:end]
	return f, end, parsePayload(&f, payload)
}

func parsePayload(f *Frame, payload []byte) error {
	switch f.Type {
	case FrameData:
		if f.StreamID == 0 {
			return connError(ErrCodeProtocol, "DATA frame on stream 0")
		}
		data, err := unpad(f, payload)
		f.Data = data
		return err
	case FrameHeaders:
		if f.StreamID == 0 {
			return connError(ErrCodeProtocol, "HEADERS frame on stream 0")
		}
		pos, pad := 0, 0
		if f.Flags.Has(FlagPadded) {
			if len(payload) < 1 {
				return connError(ErrCodeFrameSize, "HEADERS frame too short for its pad length")
			}
			pad, pos = int(payload[0]), 1
		}
		if f.Flags.Has(FlagPriority) {
			if len(payload)-pos < 5 {
				return connError(ErrCodeFrameSize, "HEADERS frame too short for its priority")
			}
			f.Priority = parsePriority(payload[pos:])
			pos += 5
		}
		if pad > len(payload)-pos {
			return connError(ErrCodeProtocol, "HEADERS padding longer than the payload")
		}
		f.Data = payload[pos : len(payload)-pad]
		return nil
	case FramePriority:
		if f.StreamID == 0 {
			return connError(ErrCodeProtocol, "PRIORITY frame on stream 0")
		}
		if len(payload) != 5 {
			return streamError(f.StreamID, ErrCodeFrameSize, "PRIORITY frame length is not 5")
		}
		f.Priority = parsePriority(payload)
		return nil
	case FrameRSTStream:
		if f.StreamID == 0 {
			return connError(ErrCodeProtocol, "RST_STREAM frame on stream 0")
		}
		if len(payload) != 4 {
			return connError(ErrCodeFrameSize, "RST_STREAM frame length is not 4")
		}
		f.ErrCode = ErrCode(binary.BigEndian.Uint32(payload))
		return nil
	case FrameSettings:
		if f.StreamID != 0 {
			return connError(ErrCodeProtocol, "SETTINGS frame on a stream")
		}
		if f.Flags.Has(FlagAck) && len(payload) != 0 {
			return connError(ErrCodeFrameSize, "SETTINGS ACK with a payload")
		}
		if len(payload)%6 != 0 {
			return connError(ErrCodeFrameSize, "SETTINGS frame length is not a multiple of 6")
		}
		f.Data = payload
		return nil
	case FramePushPromise:
		// Only a server may push; the caller rejects it whatever its layout.
		f.Data = payload
		return nil
	case FramePing:
		if f.StreamID != 0 {
			return connError(ErrCodeProtocol, "PING frame on a stream")
		}
		if len(payload) != 8 {
			return connError(ErrCodeFrameSize, "PING frame length is not 8")
		}
		copy(f.Ping[:], payload)
		return nil
	case FrameGoAway:
		if f.StreamID != 0 {
			return connError(ErrCodeProtocol, "GOAWAY frame on a stream")
		}
		if len(payload) < 8 {
			return connError(ErrCodeFrameSize, "GOAWAY frame shorter than 8")
		}
		f.LastStreamID = binary.BigEndian.Uint32(payload) & MaxStreamID
		f.ErrCode = ErrCode(binary.BigEndian.Uint32(payload[4:]))
		f.Data = payload[8:]
		return nil
	case FrameWindowUpdate:
		if len(payload) != 4 {
			return connError(ErrCodeFrameSize, "WINDOW_UPDATE frame length is not 4")
		}
		f.Increment = binary.BigEndian.Uint32(payload) & 0x7fffffff
		return nil
	case FrameContinuation:
		if f.StreamID == 0 {
			return connError(ErrCodeProtocol, "CONTINUATION frame on stream 0")
		}
		f.Data = payload
		return nil
	default:
		f.Data = payload
		return nil
	}
}

// unpad strips the padding of a DATA payload (RFC 9113 §6.1).
func unpad(f *Frame, payload []byte) ([]byte, error) {
	if !f.Flags.Has(FlagPadded) {
		return payload, nil
	}
	if len(payload) == 0 {
		return nil, connError(ErrCodeFrameSize, "DATA frame too short for its pad length")
	}
	pad := int(payload[0])
	if pad >= len(payload) {
		return nil, connError(ErrCodeProtocol, "DATA padding longer than the payload")
	}
	return payload[1 : len(payload)-pad], nil
}

func parsePriority(p []byte) Priority {
	v := binary.BigEndian.Uint32(p)
	return Priority{StreamDep: v & MaxStreamID, Exclusive: v>>31 == 1, Weight: p[4]}
}
