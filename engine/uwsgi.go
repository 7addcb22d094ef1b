package engine

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/gonicorn/gonicorn/protocol/uwsgi"
)

// readPacket parses a uWSGI packet (nginx uwsgi_pass) from the inbound buffer. A
// bad packet is logged and the connection closed: uWSGI has no error answer.
func (c *conn) readPacket() (bool, gnet.Action) {
	buf, _ := c.gc.Peek(-1)
	// The variables are needed only until NewRequest has copied what it maps:
	// a pooled Packet, none kept per connection (nginx sends one request each).
	packet := getPacket()
	defer putPacket(packet)
	n, err := uwsgi.Parse(buf, &uwsgiLimits, packet)
	if err != nil {
		c.srv.log.Info().Str("peer", c.remoteAddr).Err(err).Msg("bad uwsgi packet: closing")
		return false, gnet.Close
	}
	if n == 0 {
		if c.state == stIdle {
			c.enter(stHead) // the rest is awaited under --header-timeout
		}
		return false, gnet.None
	}
	// A packet read whole goes from idle straight to its body or handler (nginx
	// sends it with the connection): no header deadline to arm and clear.
	ex := c.newExchange()
	r, err := uwsgi.NewRequestIn(ex.requestContext(), packet, &ex.mem)
	if err != nil {
		var perr *uwsgi.Error
		if !errors.As(err, &perr) {
			perr = &uwsgi.Error{Reason: err.Error()}
		}
		c.srv.log.Info().Str("peer", c.remoteAddr).Str("reason", perr.Reason).Msg("bad uwsgi request: 400")
		_, _ = c.gc.Discard(n)
		c.reject(400, perr.Reason)
		return false, gnet.None
	}
	_, _ = c.gc.Discard(n)
	if r.RemoteAddr == "" || r.RemoteAddr == ":" {
		// A copy: c.remoteAddr lives in the conn's memory (uwsgiConn), which a
		// handler keeping the string would keep alive whole.
		r.RemoteAddr = strings.Clone(c.remoteAddr)
	}
	c.requests++
	c.setDeadline(time.Time{})
	ex.init(r, true, false)
	return true, c.startBody(ex, r.ContentLength, false, nil)
}

var uwsgiLimits = uwsgi.Limits{MaxVars: 1024}

// packets holds parsed packets' variable slices for reuse: the variables alias
// the inbound buffer and live only within readPacket.
var packets = sync.Pool{New: func() any { return new(uwsgi.Packet) }}

// maxPooledVars bounds the variable slice a pooled Packet keeps: nginx's
// uwsgi_params send 15 variables, plus one per client header.
const maxPooledVars = 128

func getPacket() *uwsgi.Packet { return packets.Get().(*uwsgi.Packet) }

func putPacket(p *uwsgi.Packet) {
	if cap(p.Vars) > maxPooledVars {
		return
	}
	clear(p.Vars) // drop the references into the inbound buffer
	p.Vars = p.Vars[:0]
	packets.Put(p)
}
