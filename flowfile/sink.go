package flowfile

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nfgo/nftools/flow"
)

// Sink writes the records a run selects into one new flow file, as nfdump
// -w does: every flow it is given and, the first time each is met, the
// exporter (by SysID) and sampler records of the files read. Only Open
// creates the file, so a run that reads no file writes none; it is written
// under a temporary name beside its own and appears under its name when
// Close has finished it, so no reader sees half a file.
type Sink struct {
	path      string
	opts      WriteOptions
	w         *Writer
	exporters map[uint16]bool
	samplers  map[flow.Sampler]bool
}

// NewSink returns a Sink for the file at path, to be written with opts
// (its Ident is the one Open gets).
func NewSink(path string, opts WriteOptions) *Sink {
	return &Sink{path: path, opts: opts}
}

// tempPath is where a file that replaces final is written first: a hidden
// name in the same directory, so that the rename stays on one file system.
func tempPath(final string) string {
	return filepath.Join(filepath.Dir(final), fmt.Sprintf(".%s.%d.tmp", filepath.Base(final), os.Getpid()))
}

// Open creates the file with ident, unless it is open already.
func (s *Sink) Open(ident string) error {
	if s.w != nil {
		return nil
	}
	opts := s.opts
	opts.Ident = ident
	w, err := Create(tempPath(s.path), opts)
	if err != nil {
		return err
	}
	s.w = w
	s.exporters = map[uint16]bool{}
	s.samplers = map[flow.Sampler]bool{}
	return nil
}

// IsOpen reports whether Open created the file.
func (s *Sink) IsOpen() bool { return s.w != nil }

// Add writes r's current record: a flow, or an exporter or sampler record
// the first time it is met; other records are not written. The file must
// be open.
func (s *Sink) Add(r *Reader) error {
	switch r.Kind() {
	case KindFlow:
		return s.w.WriteFlow(r.Flow())
	case KindExporter:
		e := r.Exporter()
		if s.exporters[e.SysID] {
			return nil
		}
		s.exporters[e.SysID] = true
		return s.w.WriteExporter(e)
	case KindSampler:
		sm := r.Sampler()
		if s.samplers[*sm] {
			return nil
		}
		s.samplers[*sm] = true
		return s.w.WriteSampler(sm)
	}
	return nil
}

// WriteFlow writes f; the file must be open.
func (s *Sink) WriteFlow(f *flow.Record) error { return s.w.WriteFlow(f) }

// Close finishes the file and puts it in place; without Open it does
// nothing. On failure the temporary file is removed.
func (s *Sink) Close() error {
	if s.w == nil {
		return nil
	}
	if err := s.w.CloseAs(s.path); err != nil {
		os.Remove(s.w.Name())
		return err
	}
	return nil
}

// Rewrite copies the flow file at path into a new file beside it, written
// with the options opts returns for the file (it gets the reader before a
// record is read), and renames the copy over path: the file is replaced
// atomically, and a failure leaves the original untouched. The stat
// record, the creation time and the permissions are kept; nfdump -J and -i
// rewrite files so.
func Rewrite(path string, opts func(r *Reader) WriteOptions) error {
	r, err := Open(path, ReadOptions{})
	if err != nil {
		return err
	}
	defer r.Close()
	wo := opts(r)
	hdr := r.Header()
	wo.Created = hdr.CreatedTime()
	wo.Count = CountNone // the file's own record is kept
	tmp := tempPath(path)
	w, err := Create(tmp, wo)
	if err != nil {
		return err
	}
	if err := w.Copy(r); err != nil {
		w.Close()
		os.Remove(tmp)
		return err
	}
	*w.Stat() = r.Stat()
	if fi, err := os.Stat(path); err == nil {
		os.Chmod(tmp, fi.Mode().Perm())
	}
	if err := w.CloseAs(path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
