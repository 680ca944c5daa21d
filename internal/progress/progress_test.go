package progress

import (
	"bytes"
	"os"
	"sync"
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

// lockedBuffer is written by mpb's render goroutine and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func TestShowsAfterDelay(t *testing.T) {
	var out lockedBuffer
	b := newBar(&out, 4)
	b.refresh = make(chan any)
	b.Update(1, 1000, 1e6)
	assert.Nil(t, b.bar, "nothing within the first second")
	b.start = time.Now().Add(-2 * Delay)
	b.Update(2, 1000, 1e6)
	b.refresh <- time.Now()
	deadline := time.Now().Add(5 * time.Second)
	for !bytes.Contains([]byte(out.String()), []byte("files 2/4")) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s := out.String()
	assert.Contains(t, s, "2000 flows")
	assert.Contains(t, s, "MB/s")
	assert.Contains(t, s, "files 2/4")
	b.Finish()
}
