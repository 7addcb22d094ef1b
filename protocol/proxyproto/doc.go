// Package proxyproto parses the PROXY protocol header, versions 1 (text) and 2
// (binary), that a load balancer (HAProxy, nginx's proxy_protocol, AWS NLB, GCP)
// sends at the start of a TCP connection to pass on the address of its client:
//
//	PROXY TCP4 203.0.113.7 10.0.0.5 51234 8000\r\n        (v1)
//	\r\n\r\n\x00\r\nQUIT\n 0x21 0x11 len(2) addresses TLVs  (v2)
//
// as specified in HAProxy's proxy-protocol.txt. Parse takes the bytes received so
// far and returns the header, how many bytes it took, ErrNeedMore when the header
// is not complete yet, or an error wrapping ErrInvalid. Detect tells whether bytes
// start a PROXY header at all, for peers that must not send one.
//
// The package owns the wire format and nothing else: it never does I/O, starts no
// goroutine, reads no clock and never panics on any input, which is what makes it
// fuzzable. Whom to believe, and how long to wait, is the engine's decision.
package proxyproto
