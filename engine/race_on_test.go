//go:build race

package engine

// raceEnabled: the race detector slows every memory access; bulk tests move less.
const raceEnabled = true
