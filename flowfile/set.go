package flowfile

// SetReader reads a list of files (a file set from -r, -R or -M) as one
// stream of records, in list order. Like nfdump, it does not stop at a file
// it cannot read: a file that is not a flow file, or one that is damaged,
// is reported through the error callback and reading goes on with the next
// file, after every good record of the damaged one.
type SetReader struct {
	files   []string
	opts    ReadOptions
	onError func(error)
	next    int
	cur     *Reader
	failed  int
}

// NewSetReader reads files in order. onError, if not nil, is called once
// for each file that could not be opened or read to its end.
func NewSetReader(files []string, opts ReadOptions, onError func(error)) *SetReader {
	return &SetReader{files: files, opts: opts, onError: onError}
}

// Next advances to the next record of any file; false when all are read.
func (s *SetReader) Next() bool {
	for {
		if s.cur != nil {
			if s.cur.Next() {
				return true
			}
			if err := s.cur.Err(); err != nil {
				s.fail(err)
			}
			s.cur.Close()
		}
		s.cur = nil
		if s.next >= len(s.files) {
			return false
		}
		r, err := Open(s.files[s.next], s.opts)
		s.next++
		if err != nil {
			s.fail(err)
			continue
		}
		s.cur = r
	}
}

func (s *SetReader) fail(err error) {
	s.failed++
	if s.onError != nil {
		s.onError(err)
	}
}

// Reader returns the reader of the current file, for the record at hand
// (Kind, Flow, Exporter, ...) and for the file's header, ident and stat.
func (s *SetReader) Reader() *Reader { return s.cur }

// Failed returns how many files could not be read completely so far.
func (s *SetReader) Failed() int { return s.failed }

// Close releases the current file.
func (s *SetReader) Close() error {
	if s.cur == nil {
		return nil
	}
	err := s.cur.Close()
	s.cur = nil
	s.next = len(s.files)
	return err
}
