package engine

import (
	"errors"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/gonicorn/gonicorn/protocol/uwsgi"
)

// readPacket parses a uWSGI packet (nginx uwsgi_pass) from the inbound buffer. A
// bad packet is logged and the connection closed: uWSGI has no error answer.
func (c *conn) readPacket() (bool, gnet.Action) {
	if c.state == stIdle {
		c.enter(stHead)
	}
	buf, _ := c.gc.Peek(-1)
	n, err := uwsgi.Parse(buf, &uwsgiLimits, &c.packet)
	if err != nil {
		c.srv.log.Info().Str("peer", c.remoteAddr).Err(err).Msg("bad uwsgi packet: closing")
		return false, gnet.Close
	}
	if n == 0 {
		return false, gnet.None
	}
	r, err := uwsgi.NewRequest(c.srv.pool.NewContext(c.lctx), &c.packet)
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
		r.RemoteAddr = c.remoteAddr
	}
	c.requests++
	c.setDeadline(time.Time{})
	ex := newExchange(c, r, true, false)
	return true, c.startBody(ex, r.ContentLength, false, nil)
}

var uwsgiLimits = uwsgi.Limits{MaxVars: 1024}
