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
	var buf bytes.Buffer
	b := newBar(&buf, 4)
	b.Update(1, 1000, 1e6)
	assert.Empty(t, buf.String(), "nothing within the first second")
	b.start = time.Now().Add(-2 * Delay)
	b.Update(2, 1000, 1e6)
	assert.Contains(t, buf.String(), "2000 flows")
	assert.Contains(t, buf.String(), "MB/s")
	assert.Contains(t, buf.String(), "2/4")
	b.Finish()
}
