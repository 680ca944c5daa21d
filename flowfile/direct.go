package flowfile

import (
	"errors"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// Writing a file's blocks with O_DIRECT (WriteOptions.Direct) keeps them
// out of the page cache. On a virtual machine the kernel's copy of written
// data into fresh page cache pages was the largest single cost of a
// collector writing uncompressed files: each new page is first touched
// there, and a guest's free pages often have to be backed again by the
// host. 160 MiB written in 1 MiB pieces cost 0.2 to 1.8 microseconds of
// system time a KiB through the page cache, 0.1 with O_DIRECT (one run
// each on the development machine). The price: a reader of the file
// finds it on the disk, not in memory.
//
// O_DIRECT wants file offsets, lengths and memory aligned to the device's
// block size, and blocks are not: directWriter stages each block behind
// the bytes of the file's last partial page in an aligned buffer, writes
// the whole pages with O_DIRECT and the partial page that remains through
// the page cache, so that the file holds every block written as before.
// Where the file system refuses O_DIRECT the writer falls back to the page
// cache for good.

// directAlign is the alignment O_DIRECT gets: the largest block size of
// common devices and the page size.
const directAlign = 4096

// directStage is the size of the staging buffer: a block goes to the disk
// in writes of at most this many bytes, so that the buffer costs a
// quarter of a block's memory.
const directStage = 256 << 10

// directWriter writes blocks at the end of a file.
type directWriter struct {
	f     *os.File // the file opened with O_DIRECT
	buf   []byte   // directStage bytes, aligned; buf[:tail] holds the file's bytes from base on
	base  int64    // a multiple of directAlign
	tail  int
	wrote bool // a write with O_DIRECT succeeded
	plain io.WriterAt
}

// newDirectWriter stages the first bytes of the file, already written
// through plain (the provisional header).
func newDirectWriter(f *os.File, plain io.WriterAt, head []byte) *directWriter {
	raw := make([]byte, directStage+directAlign)
	skip := int(-uintptr(unsafe.Pointer(&raw[0])) & (directAlign - 1))
	d := &directWriter{f: f, plain: plain, buf: raw[skip : skip+directStage]}
	d.tail = copy(d.buf, head)
	return d
}

// put writes the parts one after the other at off, the end of what was
// written so far. It reports errDirectRefused, with nothing written,
// when the file system refuses O_DIRECT.
func (d *directWriter) put(off int64, parts ...[]byte) error {
	if off != d.base+int64(d.tail) {
		// Not where the file ends: never the case for the writer.
		return errors.New("flowfile: direct write out of order")
	}
	for _, p := range parts {
		for len(p) > 0 {
			n := copy(d.buf[d.tail:], p)
			d.tail += n
			p = p[n:]
			if d.tail == len(d.buf) {
				if err := d.pages(d.tail); err != nil {
					return err
				}
			}
		}
	}
	whole := d.tail &^ (directAlign - 1)
	if whole > 0 {
		if err := d.pages(whole); err != nil {
			return err
		}
	}
	if d.tail > 0 {
		if _, err := d.plain.WriteAt(d.buf[:d.tail], d.base); err != nil {
			return err
		}
	}
	return nil
}

// pages writes the first n bytes of buf, whole pages, with O_DIRECT and
// keeps the rest.
func (d *directWriter) pages(n int) error {
	if _, err := d.f.WriteAt(d.buf[:n], d.base); err != nil {
		if errors.Is(err, syscall.EINVAL) && !d.wrote {
			return errDirectRefused
		}
		return err
	}
	d.wrote = true
	d.tail = copy(d.buf, d.buf[n:d.tail])
	d.base += int64(n)
	return nil
}

// close closes the O_DIRECT descriptor.
func (d *directWriter) close() error { return d.f.Close() }

var errDirectRefused = errors.New("flowfile: O_DIRECT refused")
