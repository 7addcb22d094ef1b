//go:build !race

package http1

// raceEnabled: the race detector adds allocations, so allocation counts are not checked.
const raceEnabled = false
