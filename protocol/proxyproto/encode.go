package proxyproto

import (
	"encoding/binary"
	"strconv"
)

// AppendV1 appends the v1 header of h to b: TCP4 or TCP6 by the source address's
// family when h.Proxied, else "PROXY UNKNOWN". It is what a proxy sends; tests and
// load generators use it.
func AppendV1(b []byte, h Header) []byte {
	if !h.Proxied {
		return append(b, "PROXY UNKNOWN\r\n"...)
	}
	proto := "TCP6 "
	if h.Source.Addr().Is4() {
		proto = "TCP4 "
	}
	b = append(b, "PROXY "...)
	b = append(b, proto...)
	b = h.Source.Addr().AppendTo(b)
	b = append(b, ' ')
	b = h.Destination.Addr().AppendTo(b)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(h.Source.Port()), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(h.Destination.Port()), 10)
	return append(b, "\r\n"...)
}

// AppendV2 appends the v2 header of h to b, followed by the raw TLV records tlvs:
// a PROXY command over TCP by the source address's family when h.Proxied, else a
// LOCAL command.
func AppendV2(b []byte, h Header, tlvs []byte) []byte {
	b = append(b, signature...)
	if !h.Proxied {
		b = append(b, 0x20|cmdLocal, famUnspec<<4)
		b = binary.BigEndian.AppendUint16(b, uint16(len(tlvs)))
		return append(b, tlvs...)
	}
	src, dst := h.Source.Addr(), h.Destination.Addr()
	if src.Is4() && dst.Is4() {
		b = append(b, 0x20|cmdProxy, famInet<<4|trStream)
		b = binary.BigEndian.AppendUint16(b, uint16(inetLen+len(tlvs)))
		s4, d4 := src.As4(), dst.As4()
		b = append(b, s4[:]...)
		b = append(b, d4[:]...)
	} else {
		b = append(b, 0x20|cmdProxy, famInet6<<4|trStream)
		b = binary.BigEndian.AppendUint16(b, uint16(inet6Len+len(tlvs)))
		s16, d16 := src.As16(), dst.As16()
		b = append(b, s16[:]...)
		b = append(b, d16[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, h.Source.Port())
	b = binary.BigEndian.AppendUint16(b, h.Destination.Port())
	return append(b, tlvs...)
}
