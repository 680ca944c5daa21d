// Package expire does nfexpire's work for gocapd -e: it keeps a flow
// directory's .nfstat file (size, age and limits of the directory) and
// removes the oldest flow files down to the limits, in nfdump 1.7.1's
// order and by its rules, so that nfexpire and nfcapd read the .nfstat it
// writes and gocapd honours the limits they set.
//
// One difference is deliberate: nfcapd keeps a book of the files it wrote
// in shared memory and rescans the directory only when .nfstat is missing
// or damaged; this package rescans the directory at every run, which costs
// one stat per file and is right even after files were removed by hand.
package expire

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The status values of .nfstat.
const (
	StatusOK      = 0
	StatusRebuild = 3 // the numbers are not to be trusted: rescan
)

// DefaultWatermark is the watermark when none is set, in percent.
const DefaultWatermark = 95

// Stat is the content of a flow directory's .nfstat file.
type Stat struct {
	First, Last uint64 // slot start of the oldest and newest file, Unix s
	Size        uint64 // bytes on disk: 512-byte blocks of the flow files
	MaxSize     uint64 // bytes; 0: no limit
	NumFiles    uint64
	Lifetime    uint64 // seconds; 0: no limit
	Watermark   uint64 // percent of a limit to go down to
	Status      uint64
}

// FileName is the name of the stat file in a flow directory.
const FileName = ".nfstat"

// keys lists the fields of .nfstat in the order nfdump writes them.
func (s *Stat) keys() []struct {
	name string
	v    *uint64
} {
	return []struct {
		name string
		v    *uint64
	}{
		{"first", &s.First}, {"last", &s.Last}, {"size", &s.Size}, {"maxsize", &s.MaxSize},
		{"numfiles", &s.NumFiles}, {"lifetime", &s.Lifetime}, {"watermark", &s.Watermark}, {"status", &s.Status},
	}
}

// Parse reads the text of a .nfstat file as nfdump does: key=value lines,
// a non-digit in a value read as 0, unknown keys and other lines ignored;
// a missing status, or numbers that cannot be right, ask for a rebuild.
func Parse(text string) Stat {
	st := Stat{Watermark: DefaultWatermark, Status: StatusRebuild}
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, _ = strings.Cut(k, " ")
		v = strings.TrimLeft(v, " ")
		for _, f := range st.keys() {
			if f.name == k {
				*f.v = digits(v)
			}
		}
	}
	if st.First == 0 || st.First > st.Last || st.Status > StatusRebuild || st.Watermark > 100 {
		st.Status = StatusRebuild
	}
	return st
}

// digits reads a decimal number, every non-digit counting as 0 (nfdump's
// string2uint64).
func digits(s string) uint64 {
	var u uint64
	for i := 0; i < len(s); i++ {
		d := s[i]
		if d < '0' || d > '9' {
			d = '0'
		}
		u = 10*u + uint64(d-'0')
	}
	return u
}

// String is the text of the .nfstat file.
func (s Stat) String() string {
	var b strings.Builder
	for _, f := range s.keys() {
		fmt.Fprintf(&b, "%s=%d\n", f.name, *f.v)
	}
	return b.String()
}

// File is a flow directory's .nfstat, open and locked against nfexpire
// and nfcapd, which take the same fcntl lock on it while they work.
type File struct {
	f *os.File
	// Found tells whether the file existed before Open.
	Found bool
}

// Open opens (or creates) dir/.nfstat and locks it, waiting for another
// process's lock. Close releases it.
func Open(dir string) (*File, error) {
	path := filepath.Join(dir, FileName)
	_, err := os.Stat(path)
	found := err == nil
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	for {
		err = syscall.FcntlFlock(f.Fd(), syscall.F_SETLKW, &lk)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &File{f: f, Found: found}, nil
}

// Read reads the stat; a file that did not exist reads as the defaults
// with a rebuild asked for.
func (sf *File) Read() (Stat, error) {
	if !sf.Found {
		return Stat{Watermark: DefaultWatermark, Status: StatusRebuild}, nil
	}
	if _, err := sf.f.Seek(0, io.SeekStart); err != nil {
		return Stat{}, err
	}
	// nfdump refuses a stat file beyond 1 MB as corrupt.
	b, err := io.ReadAll(io.LimitReader(sf.f, 1<<20+1))
	if err != nil {
		return Stat{}, fmt.Errorf("read %s: %w", sf.f.Name(), err)
	}
	if len(b) > 1<<20 {
		return Stat{}, fmt.Errorf("%s: larger than 1 MB, not a stat file", sf.f.Name())
	}
	return Parse(string(b)), nil
}

// Write replaces the content of the file with st, in place: the lock
// holds on this file, so it is not replaced by another.
func (sf *File) Write(st Stat) error {
	if err := sf.f.Truncate(0); err != nil {
		return fmt.Errorf("write %s: %w", sf.f.Name(), err)
	}
	if _, err := sf.f.WriteAt([]byte(st.String()), 0); err != nil {
		return fmt.Errorf("write %s: %w", sf.f.Name(), err)
	}
	return nil
}

// Close releases the lock and closes the file.
func (sf *File) Close() error { return sf.f.Close() }

// ReadFile reads dir/.nfstat without locking it; a missing file gives the
// defaults.
func ReadFile(dir string) (Stat, error) {
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if os.IsNotExist(err) {
		return Stat{Watermark: DefaultWatermark, Status: StatusRebuild}, nil
	}
	if err != nil {
		return Stat{}, err
	}
	return Parse(string(b)), nil
}
