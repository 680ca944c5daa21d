package main

import (
	"fmt"
	"io"
	"os"

	"github.com/nfgo/nftools/flowfile"
)

func isFileOrDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && (fi.Mode().IsRegular() || fi.IsDir())
}

// verifyFile is -v.
func verifyFile(path string, stdout, stderr io.Writer) int {
	if flowfile.Verify(path, stdout, stderr) {
		return exitOK
	}
	return exitFailure
}

// recompressFiles is -J: every -r/-R file gets the new compression, in
// place and atomically.
func recompressFiles(o *options, files []string, stdout, stderr io.Writer) int {
	code := exitOK
	comp := flowfile.Compression(o.recompress)
	for _, path := range files {
		r, err := flowfile.Open(path, flowfile.ReadOptions{Workers: 1})
		if err != nil {
			fmt.Fprintf(stderr, "godump: %v\n", err)
			code = exitInput
			continue
		}
		same := r.Header().Compression == comp && o.recompressLevel == 0
		r.Close()
		if same {
			fmt.Fprintf(stdout, "File %s is already same compression methode\n", path)
			continue
		}
		err = flowfile.Rewrite(path, func(r *flowfile.Reader) flowfile.WriteOptions {
			ident, _ := r.Ident()
			return flowfile.WriteOptions{Compression: comp, Level: o.recompressLevel, Ident: ident}
		})
		if err != nil {
			fmt.Fprintf(stderr, "godump: %s: compression not changed: %v\n", path, err)
			code = exitInput
			continue
		}
		fmt.Fprintf(stdout, "File %s compression changed\n", path)
	}
	return code
}

// changeIdent is -i with a -r file: it stores the new ident for good,
// where nfdump 1.7.1 only says so (notes §13 fix 10).
func changeIdent(o *options, files []string, stdout, stderr io.Writer) int {
	code := exitOK
	for _, path := range files {
		old := "<null>"
		err := flowfile.Rewrite(path, func(r *flowfile.Reader) flowfile.WriteOptions {
			if id, ok := r.Ident(); ok {
				old = id
			}
			return flowfile.WriteOptions{Compression: r.Header().Compression, Ident: o.identNew}
		})
		if err != nil {
			fmt.Fprintf(stderr, "godump: %s: ident not changed: %v\n", path, err)
			code = exitInput
			continue
		}
		fmt.Fprintf(stdout, "%s ident: %s -> %s\n", path, old, o.identNew)
	}
	return code
}
