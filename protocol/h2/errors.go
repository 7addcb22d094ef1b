package h2

import (
	"fmt"
	"strconv"
)

// ErrCode is an HTTP/2 error code, carried by RST_STREAM and GOAWAY (RFC 9113 §7).
type ErrCode uint32

// The error codes of RFC 9113 §7.
const (
	ErrCodeNo                 ErrCode = 0x0
	ErrCodeProtocol           ErrCode = 0x1
	ErrCodeInternal           ErrCode = 0x2
	ErrCodeFlowControl        ErrCode = 0x3
	ErrCodeSettingsTimeout    ErrCode = 0x4
	ErrCodeStreamClosed       ErrCode = 0x5
	ErrCodeFrameSize          ErrCode = 0x6
	ErrCodeRefusedStream      ErrCode = 0x7
	ErrCodeCancel             ErrCode = 0x8
	ErrCodeCompression        ErrCode = 0x9
	ErrCodeConnect            ErrCode = 0xa
	ErrCodeEnhanceYourCalm    ErrCode = 0xb
	ErrCodeInadequateSecurity ErrCode = 0xc
	ErrCodeHTTP11Required     ErrCode = 0xd
)

var errCodeNames = [...]string{
	ErrCodeNo:                 "NO_ERROR",
	ErrCodeProtocol:           "PROTOCOL_ERROR",
	ErrCodeInternal:           "INTERNAL_ERROR",
	ErrCodeFlowControl:        "FLOW_CONTROL_ERROR",
	ErrCodeSettingsTimeout:    "SETTINGS_TIMEOUT",
	ErrCodeStreamClosed:       "STREAM_CLOSED",
	ErrCodeFrameSize:          "FRAME_SIZE_ERROR",
	ErrCodeRefusedStream:      "REFUSED_STREAM",
	ErrCodeCancel:             "CANCEL",
	ErrCodeCompression:        "COMPRESSION_ERROR",
	ErrCodeConnect:            "CONNECT_ERROR",
	ErrCodeEnhanceYourCalm:    "ENHANCE_YOUR_CALM",
	ErrCodeInadequateSecurity: "INADEQUATE_SECURITY",
	ErrCodeHTTP11Required:     "HTTP_1_1_REQUIRED",
}

// String returns the RFC name of the code, or "unknown error code 0xN".
func (e ErrCode) String() string {
	if int(e) < len(errCodeNames) {
		return errCodeNames[e]
	}
	return "unknown error code 0x" + strconv.FormatUint(uint64(e), 16)
}

// ConnError is a connection error (RFC 9113 §5.4.1): the connection is answered with
// GOAWAY carrying Code and must then be closed.
type ConnError struct {
	Code   ErrCode
	Reason string
}

// Error describes the connection error with its code and reason.
func (e *ConnError) Error() string {
	return fmt.Sprintf("h2: connection error %s: %s", e.Code, e.Reason)
}

// StreamError is a stream error (RFC 9113 §5.4.2): the stream is reset with Code and the
// connection carries on.
type StreamError struct {
	StreamID uint32
	Code     ErrCode
	Reason   string
}

// Error describes the stream error with its stream, code and reason.
func (e *StreamError) Error() string {
	return fmt.Sprintf("h2: stream %d error %s: %s", e.StreamID, e.Code, e.Reason)
}

func connError(code ErrCode, reason string) *ConnError {
	return &ConnError{Code: code, Reason: reason}
}

func streamError(id uint32, code ErrCode, reason string) *StreamError {
	return &StreamError{StreamID: id, Code: code, Reason: reason}
}
