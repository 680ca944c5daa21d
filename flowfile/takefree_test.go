package flowfile

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTakeFreeLastFreed: takeFree returns the job freed last, and keeps
// the others free in the order they were freed.
func TestTakeFreeLastFreed(t *testing.T) {
	w := &Writer{free: make(chan *writeJob, 4), older: make([]*writeJob, 0, 4)}
	a, b, c, d := &writeJob{}, &writeJob{}, &writeJob{}, &writeJob{}
	w.free <- a
	w.free <- b
	w.free <- c
	assert.Same(t, c, w.takeFree(), "the last of a, b, c freed")
	w.free <- d
	assert.Same(t, d, w.takeFree(), "d, freed after a and b")
	assert.Same(t, b, w.takeFree(), "b, freed after a")
	assert.Same(t, a, w.takeFree(), "the only one left")
	assert.Zero(t, len(w.free))
	w.free <- c
	assert.Same(t, c, w.takeFree(), "the only one free")
}
