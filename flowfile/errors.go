package flowfile

import (
	"errors"
	"fmt"
)

// ErrCorrupt is wrapped by every error about damaged file contents, so a
// caller can tell bad data from a failing disk with errors.Is.
var ErrCorrupt = errors.New("corrupt flow file")

// FormatError says what is wrong where in a file.
type FormatError struct {
	File   string
	Offset int64 // file offset of the block, or of the header
	Block  int   // data block index, -1 for the header or appendix
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Block >= 0 {
		return fmt.Sprintf("%s: block %d at offset %d: %s", e.File, e.Block, e.Offset, e.Msg)
	}
	return fmt.Sprintf("%s: offset %d: %s", e.File, e.Offset, e.Msg)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *FormatError) Unwrap() error { return ErrCorrupt }
