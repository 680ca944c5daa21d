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

// clock is the time a test's Bar reads, moved by the test alone.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// fakeBar returns a Bar on out whose clock the test moves.
func fakeBar(out *bytes.Buffer, files int) (*Bar, *clock) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return newBar(out, files, c.now), c
}

func TestShowsAfterDelay(t *testing.T) {
	var out bytes.Buffer
	b, c := fakeBar(&out, 4)
	start := c.t
	b.Update(1, 1000, 1e6)
	c.t = start.Add(Delay - time.Nanosecond)
	b.Update(1, 0, 0)
	assert.Empty(t, out.String(), "nothing within the first second")
	c.t = start.Add(2 * Delay)
	b.Update(2, 1000, 1e6)
	s := out.String()
	assert.Equal(t, "\r2000 flows, 1.0 MB/s [========>---------] files 2/4\x1b[K", s)
	// Within the least time between two drawings, nothing more.
	c.t = c.t.Add(every - time.Nanosecond)
	b.Update(3, 1000, 1e6)
	assert.Equal(t, s, out.String())
	c.t = start.Add(2*Delay + every)
	b.Update(4, 1000, 1e6)
	assert.Equal(t, s+"\r4000 flows, 1.9 MB/s [==================] files 4/4\x1b[K", out.String())
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
	b, c := fakeBar(&out, 2)
	b.Update(1, 10, 100)
	c.t = c.t.Add(Delay - time.Nanosecond)
	b.Update(2, 10, 100)
	b.Finish()
	assert.Empty(t, out.String())
}
