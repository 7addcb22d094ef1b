package config

import "fmt"

// Validate checks every bound of every setting and returns the first violation as a
// one-line error naming the flag, e.g.
// `gonicorn: --workers: invalid value "0": must be a positive integer`.
// It does not touch the file system: whether a user, a directory or a log file exists
// is found out when it is used.
func (c *Config) Validate() error {
	for _, s := range settings {
		if s.action {
			continue
		}
		if s.kind == vList {
			items := s.list(c)
			for _, it := range items {
				if s.item == nil {
					break
				}
				if err := s.item(it); err != nil {
					return fmt.Errorf("gonicorn: %s: invalid value %q: %w", s.long(), it, err)
				}
			}
			if s.whole != nil {
				if err := s.whole(items); err != nil {
					return fmt.Errorf("gonicorn: %s: %w", s.long(), err)
				}
			}
			continue
		}
		if s.check != nil {
			if err := s.check(c); err != nil {
				return fmt.Errorf("gonicorn: %s: invalid value %q: %w", s.long(), s.text(c), err)
			}
		}
	}
	return nil
}
