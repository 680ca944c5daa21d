package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/flowfile/fileset"
)

// listFiles builds the -r/-R/-M file list as nfdump does. On a fatal list
// error it prints nfdump's message and returns the exit code.
func listFiles(o *options, stderr io.Writer) ([]string, int) {
	files, err := fileset.List(fileset.Spec{
		Read:      o.read,
		Recursive: o.recursive,
		Multi:     o.multi,
		Warn:      func(msg string) { fmt.Fprintln(stderr, msg) },
	})
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

// applyWindow resolves a relative -t window against the data and drops the
// -r files that lie outside the window, as nfdump does for -r (but never
// for -R). nfdump 1.7.1 resolves +N and -N only for a single -r file and
// races while it does (notes §8, fix 12); godump resolves them against the
// stat records of all files read: +N is the first N seconds from the
// earliest flow, -N the last N seconds up to the latest one.
func applyWindow(o *options, files []string) []string {
	if o.window == nil {
		return files
	}
	if o.window.IsRelative() {
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
	if o.read == "" || isDir(o.read) {
		return files
	}
	kept := files[:0:0]
	for _, f := range files {
		fs, ls, ok := fileSpan(f)
		// A file that cannot be opened is kept, so that reading it
		// reports the problem.
		if !ok || o.window.Overlaps(fs, ls) {
			kept = append(kept, f)
		}
	}
	return kept
}
