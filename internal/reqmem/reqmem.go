// Package reqmem is memory for building an *http.Request with fewer
// allocations: a URL parsed in place (ParseTarget, url.ParseRequestURI without
// allocating for the common origin-form target) and room for header values,
// both held in a Memory the caller embeds in a structure it allocates per
// request anyway.
package reqmem

import "net/url"

// Values is how many header values a Memory holds.
const Values = 10

// Memory is room for the parts every request has: its URL and the values of
// its first header fields. The request built with it points into it: use each
// Memory for one request, never again.
type Memory struct {
	URL    url.URL
	Values [Values]string
}

// HeaderValues returns a slice of n strings: the Memory's own when they fit.
func (m *Memory) HeaderValues(n int) []string {
	if n <= len(m.Values) {
		return m.Values[:n:n]
	}
	return make([]string, n)
}

// plainPath marks the bytes a path may hold that url.ParseRequestURI keeps as
// they are: Path is then the path itself and RawPath is empty. Any other byte
// ('%', a byte url escapes, a control byte) takes the url package's path.
var plainPath = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~$&+,/:;=@" {
		t[c] = true
	}
	return t
}()

// ParseTarget sets *u to what url.ParseRequestURI(s) returns, or returns its error
// (u is then unchanged). The strings in u are s or parts of it.
func ParseTarget(u *url.URL, s string) error {
	if len(s) == 0 || s[0] != '/' {
		return parseSlow(u, s)
	}
	path, query, forceQuery := s, "", false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '?' {
			path, query = s[:i], s[i+1:]
			break
		}
		if !plainPath[c] {
			return parseSlow(u, s)
		}
	}
	if len(path) < len(s) {
		// The query is taken as it is; only control bytes are refused, and a
		// lone '?' at the end marks an empty query.
		for i := 0; i < len(query); i++ {
			if c := query[i]; c < ' ' || c == 0x7f {
				return parseSlow(u, s)
			}
		}
		if query == "" {
			forceQuery = true
		}
	}
	*u = url.URL{Path: path, RawQuery: query, ForceQuery: forceQuery}
	return nil
}

func parseSlow(u *url.URL, s string) error {
	p, err := url.ParseRequestURI(s)
	if err != nil {
		return err
	}
	*u = *p
	return nil
}
