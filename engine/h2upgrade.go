package engine

import (
	"net/http"

	"github.com/panjf2000/gnet/v2"
)

// h2Upgrade is an HTTP/1.1 request that asked for h2c with Upgrade: h2c; it is
// answered as stream 1 of the new HTTP/2 connection.
type h2Upgrade struct {
	settings []byte        // the decoded HTTP2-Settings payload
	req      *http.Request // the upgrading request, its body already in memory
}

var switchingToH2C = []byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")

// upgradeH2 answers 101 and hands the connection to the HTTP/2 driver, which
// serves ex's request as stream 1. It runs on the loop.
func (c *conn) upgradeH2(ex *exchange, settings []byte) gnet.Action {
	c.cur = nil
	if _, err := c.gc.Write(switchingToH2C); err != nil {
		return gnet.Close
	}
	ex.req.Header.Del("Upgrade")
	ex.req.Header.Del("Http2-Settings")
	ex.req.Header.Del("Connection")
	c.startH2(&h2Upgrade{settings: settings, req: ex.req})
	if ex.bodyBuf != nil {
		// The request keeps its body (a bufBody over this buffer); the HTTP/2
		// side owns it from here and never returns it to the pool.
		ex.bodyBuf = nil
	}
	return c.onTraffic()
}
