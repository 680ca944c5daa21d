package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/nfgo/nftools/flowfile"
)

// warnUnfinished says on stderr when r's file was not closed by its
// collector: it is named nfcapd.current.*, or holds data blocks after the
// ones its header counts (nfcapd writes the count when it closes a file).
// Like nfdump, godump reads only the counted blocks, none of a file nfcapd
// is still writing or that a crash left; nfdump says nothing about it.
func warnUnfinished(stderr io.Writer, r *flowfile.Reader) {
	blocks, cut := r.Uncounted()
	if blocks == 0 && !cut && !flowfile.IsCurrentName(r.Name()) {
		return
	}
	msg := fmt.Sprintf("godump: warning: %s: not closed by its collector (still being written, or left by a crash)", r.Name())
	var follow string
	switch {
	case blocks > 0 && cut:
		follow = fmt.Sprintf("%d data blocks and one cut short", blocks)
	case blocks > 0:
		follow = fmt.Sprintf("%d data blocks", blocks)
	case cut:
		follow = "a data block cut short"
	}
	if follow != "" {
		msg += fmt.Sprintf(": %s after the %d its header counts are not read, as nfdump does not read them", follow, r.Header().NumBlocks)
	}
	fmt.Fprintln(stderr, msg)
}

// reportSkipped says what a damaged block or record, err, made godump
// leave unread of r's file: reading a file stops there, as nfdump's does.
func reportSkipped(stderr io.Writer, r *flowfile.Reader, err error) {
	var fe *flowfile.FormatError
	if !errors.As(err, &fe) || fe.Block < 0 {
		return
	}
	total := int(r.Header().NumBlocks)
	if fe.Block >= total {
		return
	}
	fmt.Fprintf(stderr, "godump: %s: the rest of the file is not read: %d of its %d data blocks, from block %d on\n",
		r.Name(), total-fe.Block, total, fe.Block)
}
