package h2

import (
	"encoding/binary"
	"strconv"
)

// SettingID identifies a SETTINGS parameter (RFC 9113 §6.5.2).
type SettingID uint16

// The SETTINGS parameters of RFC 9113 §6.5.2 (and RFC 8441's extended CONNECT).
const (
	SettingHeaderTableSize       SettingID = 0x1
	SettingEnablePush            SettingID = 0x2
	SettingMaxConcurrentStreams  SettingID = 0x3
	SettingInitialWindowSize     SettingID = 0x4
	SettingMaxFrameSize          SettingID = 0x5
	SettingMaxHeaderListSize     SettingID = 0x6
	SettingEnableConnectProtocol SettingID = 0x8
)

var settingNames = map[SettingID]string{
	SettingHeaderTableSize:       "HEADER_TABLE_SIZE",
	SettingEnablePush:            "ENABLE_PUSH",
	SettingMaxConcurrentStreams:  "MAX_CONCURRENT_STREAMS",
	SettingInitialWindowSize:     "INITIAL_WINDOW_SIZE",
	SettingMaxFrameSize:          "MAX_FRAME_SIZE",
	SettingMaxHeaderListSize:     "MAX_HEADER_LIST_SIZE",
	SettingEnableConnectProtocol: "ENABLE_CONNECT_PROTOCOL",
}

// String returns the RFC name without its SETTINGS_ prefix.
func (id SettingID) String() string {
	if s, ok := settingNames[id]; ok {
		return s
	}
	return "UNKNOWN_SETTING_" + strconv.Itoa(int(id))
}

// Setting is one SETTINGS parameter and its value.
type Setting struct {
	ID  SettingID
	Val uint32
}

// Valid returns the connection error a peer commits by sending s, or nil
// (RFC 9113 §6.5.2). Unknown identifiers are valid: they are ignored.
func (s Setting) Valid() *ConnError {
	switch s.ID {
	case SettingEnablePush, SettingEnableConnectProtocol:
		if s.Val > 1 {
			return connError(ErrCodeProtocol, "SETTINGS_"+s.ID.String()+" is neither 0 nor 1")
		}
	case SettingInitialWindowSize:
		if s.Val > MaxWindow {
			return connError(ErrCodeFlowControl, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1")
		}
	case SettingMaxFrameSize:
		if s.Val < MinMaxFrameSize || s.Val > MaxMaxFrameSize {
			return connError(ErrCodeProtocol, "SETTINGS_MAX_FRAME_SIZE outside 16384..16777215")
		}
	}
	return nil
}

// PeerSettings are the parameters a client announced; the zero value is not usable,
// start from DefaultPeerSettings.
type PeerSettings struct {
	HeaderTableSize   uint32
	InitialWindowSize uint32
	MaxFrameSize      uint32
	MaxHeaderListSize uint32 // 0 means unlimited
}

// DefaultPeerSettings returns the initial values of RFC 9113 §6.5.2.
func DefaultPeerSettings() PeerSettings {
	return PeerSettings{
		HeaderTableSize:   4096,
		InitialWindowSize: 65535,
		MaxFrameSize:      MinMaxFrameSize,
	}
}

// ForEachSetting decodes a SETTINGS payload (a multiple of 6 octets; the frame reader
// checks the length) and calls fn for each entry in order, stopping at its first error.
func ForEachSetting(payload []byte, fn func(Setting) error) error {
	for len(payload) >= 6 {
		s := Setting{ID: SettingID(binary.BigEndian.Uint16(payload)), Val: binary.BigEndian.Uint32(payload[2:])}
		if err := fn(s); err != nil {
			return err
		}
		payload = payload[6:]
	}
	return nil
}
