package flowfile

import (
	"bytes"
	"sync"
	"sync/atomic"
)

// Flow labels read from files (EXlabel) become the strings of
// flow.Record.Label. A file holds few distinct labels (those of the filter
// that wrote it), so each is made once and kept: decoding a labelled flow
// then allocates nothing. The list is copied on write, so the workers
// that decode blocks read it without a lock.
var labels struct {
	mu   sync.Mutex
	list atomic.Pointer[[]string]
}

// maxLabels bounds the labels kept; a file with more distinct labels
// (nfdump's filter makes no such files) costs an allocation per flow
// beyond them.
const maxLabels = 256

// labelOf returns the label EXlabel's payload p holds: the text up to its
// NUL byte.
func labelOf(p []byte) string {
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	if len(p) == 0 {
		return ""
	}
	if l := labels.list.Load(); l != nil {
		for _, s := range *l {
			if s == string(p) {
				return s
			}
		}
	}
	labels.mu.Lock()
	defer labels.mu.Unlock()
	var old []string
	if l := labels.list.Load(); l != nil {
		old = *l
		for _, s := range old {
			if s == string(p) {
				return s
			}
		}
	}
	s := string(p)
	if len(old) < maxLabels {
		l := append(old[:len(old):len(old)], s)
		labels.list.Store(&l)
	}
	return s
}
