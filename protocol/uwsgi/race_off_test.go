//go:build !race

package uwsgi

// raceEnabled: the race detector adds allocations, so allocation counts are not checked.
const raceEnabled = false
