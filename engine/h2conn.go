package engine

import (
	"time"

	"github.com/panjf2000/gnet/v2"
)

// PLACEHOLDER until the HTTP/2 driver lands (owned by the h2 work): h2c
// connections are refused with a log line.

type h2Conn struct{ c *conn }

func newH2Conn(c *conn, up *h2Upgrade) *h2Conn {
	c.srv.log.Warn().Str("peer", c.remoteAddr).Msg("h2c is not available in this build: closing")
	return &h2Conn{c: c}
}

func (h *h2Conn) onTraffic() gnet.Action         { return gnet.Close }
func (h *h2Conn) onClose(error)                  {}
func (h *h2Conn) onExpire(time.Time) gnet.Action { return gnet.Close }
func (h *h2Conn) shutdown()                      {}
func (h *h2Conn) busy() bool                     { return false }
