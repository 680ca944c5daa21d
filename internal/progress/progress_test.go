package progress

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestNilBarIsSilent(t *testing.T) {
	var b *Bar
	b.Update(1, 10, 100)
	b.Finish()
}

func TestNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	assert.Nil(t, New(&buf, 3))
	f, err := os.CreateTemp(t.TempDir(), "x")
	assert.NoError(t, err)
	defer f.Close()
	assert.Nil(t, New(f, 3))
}

func TestShowsAfterDelay(t *testing.T) {
	var out bytes.Buffer
	b := newBar(&out, 4)
	b.Update(1, 1000, 1e6)
	assert.Empty(t, out.String(), "nothing within the first second")
	b.start = time.Now().Add(-2 * Delay)
	b.Update(2, 1000, 1e6)
	s := out.String()
	assert.Regexp(t, `^\r2000 flows, [0-9]+\.[0-9] MB/s \[========>---------\] files 2/4\x1b\[K$`, s)
	// Within the least time between two drawings, nothing more.
	b.Update(3, 1000, 1e6)
	assert.Equal(t, s, out.String())
	b.lastUp = b.lastUp.Add(-every)
	b.Update(4, 1000, 1e6)
	assert.Regexp(t, `\r4000 flows, [0-9.]+ MB/s \[==================\] files 4/4\x1b\[K$`, out.String())
	out.Reset()
	b.Finish()
	assert.Equal(t, "\r\x1b[K", out.String(), "the line is erased")
	out.Reset()
	b.Finish()
	assert.Empty(t, out.String())
}

// TestQuickReadLeavesNothing: a read that ends within the first second
// draws no line and erases none.
func TestQuickReadLeavesNothing(t *testing.T) {
	var out bytes.Buffer
	b := newBar(&out, 2)
	b.Update(1, 10, 100)
	b.Update(2, 10, 100)
	b.Finish()
	assert.Empty(t, out.String())
}
