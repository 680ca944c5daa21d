package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/flowfile/fileset"
)

// listFiles builds the -r/-R/-M file list as nfdump does, and resolves a
// relative -t window against it. With a window, a -r file (alone or under
// -M) whose stat record lies outside the window is dropped, as nfdump does
// (but never a file of -R or of -r with a directory). On a fatal list error
// it prints nfdump's message and returns the exit code.
//
// nfdump 1.7.1 resolves +N and -N only for a single -r file and races
// while it does (notes section 8, fix 12); godump resolves them against
// the stat records of all files listed: +N is the first N seconds from the
// earliest flow, -N the last N seconds up to the latest one.
func listFiles(o *options, stderr io.Writer) ([]string, int) {
	spec := fileset.Spec{Read: o.read, Recursive: o.recursive, Multi: o.multi}
	if o.window != nil && o.window.IsRelative() {
		// A first listing, in silence, for the span of the data.
		files, code := listSpec(spec, stderr)
		if code != exitOK {
			return nil, code
		}
		var first, last uint64
		seen := false
		for _, f := range files {
			fs, ls, ok := fileSpan(f)
			if !ok {
				continue
			}
			if !seen || fs < first {
				first = fs
			}
			if !seen || ls > last {
				last = ls
			}
			seen = true
		}
		w := o.window.Resolve(first, last)
		o.window = &w
	}
	spec.Warn = func(msg string) { fmt.Fprintln(stderr, msg) }
	if w := o.window; w != nil {
		spec.KeepRead = func(path string) bool {
			fs, ls, ok := fileSpan(path)
			// A file that cannot be opened is kept, so that reading it
			// reports the problem.
			return !ok || w.Overlaps(fs, ls)
		}
	}
	return listSpec(spec, stderr)
}

// listSpec lists spec's files, printing nfdump's message for a fatal list
// error and returning its exit code.
func listSpec(spec fileset.Spec, stderr io.Writer) ([]string, int) {
	files, err := fileset.List(spec)
	var lerr *fileset.Error
	if errors.As(err, &lerr) {
		fmt.Fprintln(stderr, lerr.Msg)
		return nil, lerr.Code
	}
	if err != nil {
		fmt.Fprintf(stderr, "godump: %v\n", err)
		return nil, exitFailure
	}
	return files, exitOK
}

// fileSpan returns the time span of the stat record of a file (msec), or
// false when the file cannot be opened.
func fileSpan(path string) (first, last uint64, ok bool) {
	r, err := flowfile.Open(path, flowfile.ReadOptions{Workers: 1})
	if err != nil {
		return 0, 0, false
	}
	defer r.Close()
	st := r.Stat()
	return st.FirstSeen, st.LastSeen, true
}
