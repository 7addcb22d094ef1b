//go:build !linux

package metrics

import "errors"

// readUnixListenQueues: only Linux reports unix listeners' queues (sock_diag).
func readUnixListenQueues() (map[uint64]uint64, error) {
	return nil, errors.New("unix socket queues are reported on Linux only")
}
