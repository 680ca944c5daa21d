package capture

import (
	"bufio"
	"io"
)

// A capture file is read ahead on a goroutine of its own: goprobe --read
// spent about a third of its time in read(2), the kernel copying the file
// into the read buffer, and that time now overlaps with the decoding and
// counting of the frames read before, on another processor. The frames
// are still handed out of the buffers the file was read into, without a
// copy.
//
// Mapping the file instead costs more, even with MAP_POPULATE filling a
// window's page tables in one call (windows of 128 KiB to 4 MiB, paired
// runs on 1 M packets of few flows): 1.9 times the processor time. The
// read(2) copy leaves each chunk in the processor's cache, reused chunk
// after chunk; a mapped page is met cold, and a record's header can only
// be loaded once the one before it has given its length, so every record
// waits for memory (the load of the length took nine tenths of the
// reading function's samples). Neither touching each window's lines on
// the reading goroutine first nor prefetching 1 to 16 KiB ahead of the
// record helped: on the virtual machine measured, the first touch of
// each newly mapped page is what costs, and the reused read buffers
// never pay it.
//
// The reader fills chunks of aheadChunk bytes in turn; each has headroom
// before its data, where the start of a record that the chunk before cut
// is moved, so that every record up to aheadHeadroom bytes is whole in
// one chunk. Longer ones are read through Read, as bufio's are.
const (
	aheadChunk    = 128 << 10
	aheadHeadroom = 16 << 10
	aheadChunks   = 3 // one being read from, one ready, one being filled
)

// reader is what fileSource reads through: a *bufio.Reader, or an
// aheadReader for a file.
type reader interface {
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
	Read(p []byte) (int, error)
}

// aheadReader reads r ahead, on a goroutine of its own, with bufio's
// semantics: what Peek and Read return is valid until the next call.
type aheadReader struct {
	full  chan []byte   // chunks read, in order: headroom, then data
	empty chan []byte   // chunks the goroutine may fill
	done  chan struct{} // closed by Close: the goroutine stops
	err   error         // why the reading ended, once full is closed

	cur      []byte // the chunk being read from
	pos, end int    // its unread bytes
	ended    bool   // full is closed: err says why
}

func newAheadReader(r io.Reader) *aheadReader {
	a := &aheadReader{full: make(chan []byte, aheadChunks), empty: make(chan []byte, aheadChunks),
		done: make(chan struct{})}
	for range aheadChunks {
		a.empty <- make([]byte, aheadHeadroom+aheadChunk)
	}
	go a.fill(r)
	return a
}

// fill reads r into the empty chunks, in turn, until r ends or fails or
// Close is called.
func (a *aheadReader) fill(r io.Reader) {
	defer close(a.full)
	for {
		var b []byte
		select {
		case b = <-a.empty:
		case <-a.done:
			return
		}
		n, err := io.ReadFull(r, b[aheadHeadroom:])
		if n > 0 {
			select {
			case a.full <- b[:aheadHeadroom+n]:
			case <-a.done:
				return
			}
		}
		if err != nil {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			a.err = err
			return
		}
	}
}

// next moves to the next chunk read, keeping the unread bytes of the
// current one (no more than its headroom) in front of its data. It
// returns false when there is none: a.err says why.
func (a *aheadReader) next() bool {
	if a.ended {
		return false
	}
	b, ok := <-a.full
	if !ok {
		a.ended = true
		return false
	}
	left := a.end - a.pos
	copy(b[aheadHeadroom-left:], a.cur[a.pos:a.end])
	if a.cur != nil {
		a.empty <- a.cur[:cap(a.cur)]
	}
	a.cur, a.pos, a.end = b, aheadHeadroom-left, len(b)
	return true
}

// Peek returns the next n bytes (n at most aheadHeadroom) without taking
// them; at the end of the file, what is left and io.EOF or the error that
// ended it.
func (a *aheadReader) Peek(n int) ([]byte, error) {
	if n > aheadHeadroom {
		return nil, bufio.ErrBufferFull
	}
	for a.end-a.pos < n {
		if !a.next() {
			return a.cur[a.pos:a.end], a.err
		}
	}
	return a.cur[a.pos : a.pos+n], nil
}

// Discard takes n bytes that Peek returned.
func (a *aheadReader) Discard(n int) (int, error) {
	a.pos += n
	return n, nil
}

// Read reads what the current chunk holds, or the next one's.
func (a *aheadReader) Read(p []byte) (int, error) {
	if a.pos == a.end && !a.next() {
		return 0, a.err
	}
	n := copy(p, a.cur[a.pos:a.end])
	a.pos += n
	return n, nil
}

// Close stops the goroutine and waits until it has.
func (a *aheadReader) Close() {
	close(a.done)
	for range a.full {
	}
}
