//go:build !linux

package main

import (
	"errors"
	"io"
	"time"
)

// drain needs Linux's /proc (drain_linux.go).
type drain struct{ trace io.Writer }

type drainReport struct {
	Queued      int64
	SockDrops   uint64
	RcvbufErrs  uint64
	Elapsed     time.Duration
	CPU         time.Duration
	PollsBusy   int
	PollsIdle   int
	QueuedAtEnd int64
}

func newDrain(int, string, time.Duration, time.Duration) (*drain, error) {
	return nil, errors.New("-drain reads the collector's socket and CPU from Linux's /proc")
}

func (d *drain) stop() error               { return nil }
func (d *drain) resume()                   {}
func (d *drain) run() (drainReport, error) { return drainReport{}, nil }
