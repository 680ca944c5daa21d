// Package progress shows how a long read goes: one line on a terminal's
// stderr with the files done, the flows read and the read speed. It stays
// silent when the stream is not a terminal, so scripts and cron mails never
// see it, and it shows nothing for reads that end within the first second.
//
// The line is drawn by github.com/vbauerster/mpb, which, unlike the other
// maintained progress libraries here, links no HTTP stack: godump's
// resident size is measured against nfdump's.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// Delay is how long a read runs before the line appears.
const Delay = time.Second

// Bar is the progress line of one read. A nil *Bar is valid and does
// nothing, so callers need not check whether it is shown.
type Bar struct {
	w       io.Writer
	start   time.Time
	files   int
	p       *mpb.Progress
	bar     *mpb.Bar
	refresh chan any // set by the tests, which draw on demand
	flows   atomic.Uint64
	bytes   atomic.Uint64
	lastUp  time.Time
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
	b.flows.Add(flows)
	b.bytes.Add(bytes)
	now := time.Now()
	if now.Sub(b.start) < Delay || now.Sub(b.lastUp) < 100*time.Millisecond {
		return
	}
	b.lastUp = now
	if b.bar == nil {
		opts := []mpb.ContainerOption{mpb.WithOutput(b.w)}
		if b.refresh != nil {
			opts = append(opts, mpb.WithManualRefresh(b.refresh))
		} else {
			opts = append(opts, mpb.WithAutoRefresh())
		}
		b.p = mpb.New(opts...)
		b.bar = b.p.AddBar(int64(b.files),
			mpb.BarWidth(20),
			mpb.BarRemoveOnComplete(),
			mpb.PrependDecorators(decor.Any(b.describe)),
			mpb.AppendDecorators(decor.CountersNoUnit(" files %d/%d")),
		)
	}
	b.bar.SetCurrent(int64(filesDone))
}

// describe is the text before the bar: flows read and the read speed.
func (b *Bar) describe(decor.Statistics) string {
	secs := time.Since(b.start).Seconds()
	return fmt.Sprintf("%d flows, %.1f MB/s ", b.flows.Load(), float64(b.bytes.Load())/1e6/secs)
}

// Finish removes the line, so the output that follows starts clean.
func (b *Bar) Finish() {
	if b == nil || b.bar == nil {
		return
	}
	b.bar.Abort(true)
	b.p.Wait()
}
