package flowfile

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallDisk is a file on a disk that holds limit bytes: a write past the
// limit writes what fits and fails with ENOSPC, as a full disk does.
type smallDisk struct {
	buf   []byte
	limit int64
}

func (d *smallDisk) WriteAt(p []byte, off int64) (int, error) {
	n := int64(len(p))
	if off+n > d.limit {
		n = max(d.limit-off, 0)
	}
	if end := off + n; end > int64(len(d.buf)) {
		d.buf = append(d.buf, make([]byte, end-int64(len(d.buf)))...)
	}
	copy(d.buf[off:], p[:n])
	if n < int64(len(p)) {
		return int(n), syscall.ENOSPC
	}
	return int(n), nil
}

func (d *smallDisk) Truncate(size int64) error {
	d.buf = d.buf[:min(size, int64(len(d.buf)))]
	return nil
}

// save puts the disk's bytes into a file for the reader.
func (d *smallDisk) save(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "nfcapd.202611242140")
	require.NoError(t, os.WriteFile(p, d.buf, 0o644))
	return p
}

// blockEnds returns where each block of f ends when written uncompressed.
func blockEnds(t *testing.T, f *testFile) []int64 {
	t.Helper()
	d := &smallDisk{limit: 1 << 40}
	w, err := NewWriter(d, "probe", WriteOptions{})
	require.NoError(t, err)
	var ends []int64
	for i := range f.flows {
		require.NoError(t, w.WriteFlow(&f.flows[i]))
	}
	_, err = w.Finish()
	require.NoError(t, err)
	r, err := NewReader(bytesReaderAt(d.buf), int64(len(d.buf)), "probe", ReadOptions{Recover: true})
	require.NoError(t, err)
	defer r.Close()
	off := int64(HeaderSize)
	for i := 0; i < int(w.hdr.NumBlocks); i++ {
		var bh blockHeader
		bh.unmarshal(d.buf[off:])
		off += blockHeaderSize + int64(bh.Size)
		ends = append(ends, off)
	}
	return ends
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, os.ErrClosed
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, os.ErrClosed
	}
	return n, nil
}

// TestDiskFullKeepsTheWholeBlocks: a block the disk has no room for ends
// the writing; Finish keeps the blocks before it in a file that reads like
// one a crash left, and once there is room again Close gives it its
// appendix with the stat record of what it holds.
func TestDiskFullKeepsTheWholeBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	f := randomFile(rng, 25000)
	ends := blockEnds(t, &f)
	require.GreaterOrEqual(t, len(ends), 3)

	for _, tc := range []struct {
		name     string
		limit    int64 // room on the disk while writing
		appendix bool  // whether the appendix fits right away
	}{
		{"third block cut", ends[1] + 300, true},
		{"no room for the appendix", ends[1] + 20, false},
		{"first block cut", ends[0] - 1000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &smallDisk{limit: tc.limit}
			w, err := NewWriter(d, "full", WriteOptions{Ident: "full"})
			require.NoError(t, err)
			var werr error
			written := 0
			for i := range f.flows {
				if werr = w.WriteFlow(&f.flows[i]); werr != nil {
					break
				}
				written++
			}
			blocks, err := w.Finish()
			require.ErrorIs(t, err, syscall.ENOSPC)
			if werr != nil {
				assert.ErrorIs(t, werr, syscall.ENOSPC)
			}
			kept := 0
			for i, end := range ends {
				if end <= tc.limit {
					kept = i + 1
				}
			}
			assert.Equal(t, uint64(kept), blocks)
			assert.LessOrEqual(t, blocks, w.Queued())
			assert.Equal(t, blocks, w.Written())
			var last int64 = HeaderSize
			if kept > 0 {
				last = ends[kept-1]
			}
			assert.Equal(t, last, int64(len(d.buf)), "cut after the last whole block")
			_, err = w.Finish()
			assert.Error(t, err, "Finish keeps saying what failed")
			assert.Error(t, w.WriteFlow(&f.flows[0]), "nothing more is written")

			// The records of the kept blocks, for the stat record.
			c := readAll(t, d.save(t))
			require.Equal(t, len(f.flows[:len(c.flows)]), len(c.flows))
			for i := range c.flows {
				require.Equal(t, f.flows[i], c.flows[i])
			}
			var want Stat
			for i := range c.flows {
				want.AddNfdump(&c.flows[i])
			}
			if kept > 0 {
				assert.NotEmpty(t, c.flows)
			}
			assert.Empty(t, c.ident, "no appendix yet")
			*w.Stat() = want

			if !tc.appendix {
				require.ErrorIs(t, w.Close(), syscall.ENOSPC)
				assert.Equal(t, last, int64(len(d.buf)), "a failed appendix is cut off again")
				// nfdump 1.7.1 reads such a file too: all its flows.
				p := d.save(t)
				assert.Len(t, readAll(t, p).flows, len(c.flows))
				out := runNfdump(t, "-q", "-r", p, "-o", "fmt:%pr")
				assert.Equal(t, len(c.flows), strings.Count(out, "\n"))
				d.limit = 1 << 40 // room again
			}
			require.NoError(t, w.Close())
			c = readAll(t, d.save(t))
			assert.Equal(t, "full", c.ident)
			assert.Equal(t, want, c.stat)
		})
	}
}

// TestCloseReportsAFailedBlock: a caller that did not ask Finish learns of
// the lost block from Close, which still leaves a readable file.
func TestCloseReportsAFailedBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	f := randomFile(rng, 25000)
	ends := blockEnds(t, &f)
	d := &smallDisk{limit: ends[0] + 200}
	w, err := NewWriter(d, "full", WriteOptions{Ident: "x"})
	require.NoError(t, err)
	for i := range f.flows {
		if w.WriteFlow(&f.flows[i]) != nil {
			break
		}
	}
	assert.ErrorIs(t, w.Close(), syscall.ENOSPC)
	c := readAll(t, d.save(t))
	assert.Equal(t, f.flows[:len(c.flows)], c.flows)
	assert.NotEmpty(t, c.flows)
	assert.Equal(t, "x", c.ident)
}
