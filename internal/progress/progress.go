// Package progress shows how a long read goes: one line on a terminal's
// stderr with the files done, the flows read and the read speed. It stays
// silent when the stream is not a terminal, so scripts and cron mails never
// see it, and it shows nothing for reads that end within the first second.
//
// The line is drawn here, with a carriage return and an erase to the end
// of the line, as each file ends. It was drawn by github.com/vbauerster/mpb,
// whose dependencies initialise tables and a regular expression at every
// start of godump (go-runewidth, stripansi, uax29), whether a line is
// shown or not: 3% of the processor time of a godump command on a small
// archive, where all of it is start-up.
package progress

import (
	"io"
	"os"
	"strconv"
	"time"

	"golang.org/x/term"
)

// Delay is how long a read runs before the line appears.
const Delay = time.Second

// every is the least time between two drawings of the line.
const every = 100 * time.Millisecond

// width is the bar's width in characters, between its brackets.
const width = 18

// Bar is the progress line of one read. A nil *Bar is valid and does
// nothing, so callers need not check whether it is shown. It is used from
// one goroutine.
type Bar struct {
	w      io.Writer
	start  time.Time
	files  int
	flows  uint64
	bytes  uint64
	lastUp time.Time
	shown  bool   // the line is on the terminal
	line   []byte // the line being drawn, kept for the next
	// now is time.Now; the tests' clock moves only when they move it, so
	// what they check does not hang on how fast a loaded machine runs
	// them (a test preempted for 100 ms would see a second drawing).
	now func() time.Time
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
	return newBar(w, files, time.Now)
}

// newBar makes a Bar on any writer (the tests use a buffer) with the
// clock now.
func newBar(w io.Writer, files int, now func() time.Time) *Bar {
	return &Bar{w: w, start: now(), files: files, now: now}
}

// Update reports the files finished so far and adds flows and bytes read.
func (b *Bar) Update(filesDone int, flows, bytes uint64) {
	if b == nil {
		return
	}
	b.flows += flows
	b.bytes += bytes
	now := b.now()
	if now.Sub(b.start) < Delay || now.Sub(b.lastUp) < every {
		return
	}
	b.lastUp = now
	b.draw(filesDone, now.Sub(b.start).Seconds())
}

// draw writes the line "N flows, X MB/s [====>    ] files d/n" over the
// one before.
func (b *Bar) draw(done int, secs float64) {
	l := append(b.line[:0], '\r')
	l = strconv.AppendUint(l, b.flows, 10)
	l = append(l, " flows, "...)
	l = strconv.AppendFloat(l, float64(b.bytes)/1e6/secs, 'f', 1, 64)
	l = append(l, " MB/s ["...)
	filled := 0
	if b.files > 0 {
		filled = min(width, done*width/b.files)
	}
	for i := 0; i < width; i++ {
		switch {
		case i < filled-1 || i == width-1 && i < filled:
			l = append(l, '=')
		case i == filled-1:
			l = append(l, '>')
		default:
			l = append(l, '-')
		}
	}
	l = append(l, "] files "...)
	l = strconv.AppendInt(l, int64(done), 10)
	l = append(l, '/')
	l = strconv.AppendInt(l, int64(b.files), 10)
	l = append(l, "\x1b[K"...)
	b.line = l
	b.shown = true
	b.w.Write(l) // a progress line that cannot be drawn is no error
}

// Finish removes the line, so the output that follows starts clean.
func (b *Bar) Finish() {
	if b == nil || !b.shown {
		return
	}
	b.w.Write([]byte("\r\x1b[K"))
	b.shown = false
}
