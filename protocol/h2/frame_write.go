package h2

import "encoding/binary"

// The writers below append one frame each to dst and return the extended slice. They
// trust their arguments: the connection state machine calls them with lengths that fit
// the peer's SETTINGS_MAX_FRAME_SIZE.

// AppendFrameHeader appends a 9-octet frame header.
func AppendFrameHeader(dst []byte, h FrameHeader) []byte {
	return append(dst,
		byte(h.Length>>16), byte(h.Length>>8), byte(h.Length),
		byte(h.Type), byte(h.Flags),
		byte(h.StreamID>>24)&0x7f, byte(h.StreamID>>16), byte(h.StreamID>>8), byte(h.StreamID))
}

// AppendData appends a DATA frame carrying p.
func AppendData(dst []byte, streamID uint32, endStream bool, p []byte) []byte {
	var fl Flags
	if endStream {
		fl = FlagEndStream
	}
	dst = AppendFrameHeader(dst, FrameHeader{Length: uint32(len(p)), Type: FrameData, Flags: fl, StreamID: streamID})
	return append(dst, p...)
}

// AppendHeaders appends a HEADERS frame carrying a header block fragment. Without
// endHeaders, CONTINUATION frames must follow.
func AppendHeaders(dst []byte, streamID uint32, endStream, endHeaders bool, frag []byte) []byte {
	var fl Flags
	if endStream {
		fl |= FlagEndStream
	}
	if endHeaders {
		fl |= FlagEndHeaders
	}
	dst = AppendFrameHeader(dst, FrameHeader{Length: uint32(len(frag)), Type: FrameHeaders, Flags: fl, StreamID: streamID})
	return append(dst, frag...)
}

// AppendContinuation appends a CONTINUATION frame.
func AppendContinuation(dst []byte, streamID uint32, endHeaders bool, frag []byte) []byte {
	var fl Flags
	if endHeaders {
		fl = FlagEndHeaders
	}
	dst = AppendFrameHeader(dst, FrameHeader{Length: uint32(len(frag)), Type: FrameContinuation, Flags: fl, StreamID: streamID})
	return append(dst, frag...)
}

// AppendHeaderBlock appends a complete header block as one HEADERS frame followed by as
// many CONTINUATION frames as maxFrameSize requires.
func AppendHeaderBlock(dst []byte, streamID uint32, endStream bool, block []byte, maxFrameSize uint32) []byte {
	max := int(maxFrameSize)
	first := block
	if len(first) > max {
		first = block[:max]
	}
	block = block[len(first):]
	dst = AppendHeaders(dst, streamID, endStream, len(block) == 0, first)
	for len(block) > 0 {
		frag := block
		if len(frag) > max {
			frag = block[:max]
		}
		block = block[len(frag):]
		dst = AppendContinuation(dst, streamID, len(block) == 0, frag)
	}
	return dst
}

// AppendRSTStream appends a RST_STREAM frame.
func AppendRSTStream(dst []byte, streamID uint32, code ErrCode) []byte {
	dst = AppendFrameHeader(dst, FrameHeader{Length: 4, Type: FrameRSTStream, StreamID: streamID})
	return binary.BigEndian.AppendUint32(dst, uint32(code))
}

// AppendSettings appends a SETTINGS frame carrying the given settings in order.
func AppendSettings(dst []byte, settings ...Setting) []byte {
	dst = AppendFrameHeader(dst, FrameHeader{Length: uint32(6 * len(settings)), Type: FrameSettings})
	for _, s := range settings {
		dst = binary.BigEndian.AppendUint16(dst, uint16(s.ID))
		dst = binary.BigEndian.AppendUint32(dst, s.Val)
	}
	return dst
}

// AppendSettingsAck appends an empty SETTINGS frame with the ACK flag.
func AppendSettingsAck(dst []byte) []byte {
	return AppendFrameHeader(dst, FrameHeader{Type: FrameSettings, Flags: FlagAck})
}

// AppendPing appends a PING frame.
func AppendPing(dst []byte, ack bool, data [8]byte) []byte {
	var fl Flags
	if ack {
		fl = FlagAck
	}
	dst = AppendFrameHeader(dst, FrameHeader{Length: 8, Type: FramePing, Flags: fl})
	return append(dst, data[:]...)
}

// AppendGoAway appends a GOAWAY frame.
func AppendGoAway(dst []byte, lastStreamID uint32, code ErrCode, debug []byte) []byte {
	dst = AppendFrameHeader(dst, FrameHeader{Length: uint32(8 + len(debug)), Type: FrameGoAway})
	dst = binary.BigEndian.AppendUint32(dst, lastStreamID&MaxStreamID)
	dst = binary.BigEndian.AppendUint32(dst, uint32(code))
	return append(dst, debug...)
}

// AppendWindowUpdate appends a WINDOW_UPDATE frame.
func AppendWindowUpdate(dst []byte, streamID, increment uint32) []byte {
	dst = AppendFrameHeader(dst, FrameHeader{Length: 4, Type: FrameWindowUpdate, StreamID: streamID})
	return binary.BigEndian.AppendUint32(dst, increment&0x7fffffff)
}
