// Package progress shows how a long read goes: one line on a terminal's
// stderr with the files done, the flows read and the read speed. It stays
// silent when the stream is not a terminal, so scripts and cron mails never
// see it, and it shows nothing for reads that end within the first second.
package progress

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Delay is how long a read runs before the line appears.
const Delay = time.Second

// Bar is the progress line of one read. A nil *Bar is valid and does
// nothing, so callers need not check whether it is shown.
type Bar struct {
	w      io.Writer
	start  time.Time
	files  int
	bar    *progressbar.ProgressBar
	flows  uint64
	bytes  uint64
	done   int
	shown  bool
	lastUp time.Time
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// New returns the progress line for reading files files, written to w, or
// nil when w is not a terminal.
func New(w io.Writer, files int) *Bar {
	if !IsTerminal(w) {
		return nil
	}
	return newBar(w, files)
}

// newBar makes a Bar on any writer (the tests use a buffer).
func newBar(w io.Writer, files int) *Bar {
	return &Bar{w: w, start: time.Now(), files: files}
}

// Update reports the files finished so far and adds flows and bytes read.
func (b *Bar) Update(filesDone int, flows, bytes uint64) {
	if b == nil {
		return
	}
	b.done = filesDone
	b.flows += flows
	b.bytes += bytes
	now := time.Now()
	if now.Sub(b.start) < Delay || now.Sub(b.lastUp) < 100*time.Millisecond {
		return
	}
	b.lastUp = now
	if !b.shown {
		b.shown = true
		b.bar = progressbar.NewOptions(b.files,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetWidth(20),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish(),
		)
	}
	secs := now.Sub(b.start).Seconds()
	b.bar.Describe(fmt.Sprintf("%d flows, %.1f MB/s, files", b.flows, float64(b.bytes)/1e6/secs))
	_ = b.bar.Set(b.done)
}

// Finish removes the line, so the output that follows starts clean.
func (b *Bar) Finish() {
	if b == nil || !b.shown {
		return
	}
	_ = b.bar.Clear()
	_ = b.bar.Exit()
}
