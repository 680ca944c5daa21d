package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/pktgen"
	"github.com/nfgo/nftools/internal/testutil"
)

// aheadCapture returns a capture of frames of every size from 14 bytes to
// four times the headroom (so that records fall across every chunk
// boundary, and some are longer than the headroom), with a pcapng
// block of a type nobody knows between them, in the format asked.
func aheadCapture(t *testing.T, ng bool) ([]byte, [][]byte) {
	rng := rand.New(rand.NewPCG(1, 2))
	var want [][]byte
	var buf bytes.Buffer
	var write func(int64, []byte)
	if ng {
		w := pktgen.NewPcapng(&buf, false)
		w.AddInterface(1, maxCapLen, 0, 0)
		write = func(ts int64, f []byte) {
			if ts%97 == 0 {
				w.WriteBlock(0x0badbeef, bytes.Repeat([]byte{9}, rng.IntN(3*aheadHeadroom)))
			}
			w.Write(0, ts, f)
		}
		defer func() { require.NoError(t, w.Err()) }()
	} else {
		w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{SnapLen: maxCapLen})
		write = w.Write
		defer func() { require.NoError(t, w.Err()) }()
	}
	for i := 0; buf.Len() < 3*aheadChunks*aheadChunk; i++ {
		n := 14 + rng.IntN(1500)
		if i%50 == 0 {
			n = 14 + rng.IntN(4*aheadHeadroom)
		}
		f := make([]byte, n)
		for j := range f {
			f[j] = byte(i + j)
		}
		want = append(want, f)
		write(t0+int64(i)*1000, f)
	}
	return buf.Bytes(), want
}

// aheadFile writes aheadCapture's capture into a file of the test's and
// returns its path and the frames it holds.
func aheadFile(t *testing.T, ng bool) (path string, data []byte, want [][]byte) {
	data, want = aheadCapture(t, ng)
	path = filepath.Join(t.TempDir(), "ahead.pcap")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path, data, want
}

// requireFrames checks that got, the frames read from a file of data,
// are want's and what a stream of data gives.
func requireFrames(t *testing.T, got []Frame, data []byte, want [][]byte, ng bool) {
	t.Helper()
	require.Len(t, got, len(want), "pcapng %v", ng)
	for i := range want {
		require.Equal(t, want[i], got[i].Data, "frame %d, pcapng %v", i, ng)
	}
	stream, err := NewFileSource(bytes.NewReader(data), "stream")
	require.NoError(t, err)
	assert.Equal(t, readAll(t, stream), got, "as a stream reads it")
}

// procs runs f with Go running at most n goroutines at once: with one,
// a file is read in the goroutine that reads its frames.
func procs(t *testing.T, f func(t *testing.T)) {
	for _, n := range []int{2, 1} {
		t.Run(fmt.Sprintf("procs=%d", n), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
			f(t)
		})
	}
}

// TestReadAhead: a capture file, read ahead through chunks, gives the
// frames a stream of the same bytes gives, pcap and pcapng; the frames
// that cross a chunk's end or are longer than its headroom come whole.
// With one processor the file is read in the caller's goroutine, which
// then starts none.
func TestReadAhead(t *testing.T) {
	procs(t, func(t *testing.T) {
		for _, ng := range []bool{false, true} {
			path, data, want := aheadFile(t, ng)
			before := fillers.Load()
			s, err := OpenFile(path)
			require.NoError(t, err)
			a := s.(*fileSource).ahead
			require.NotNil(t, a, "a file is read ahead")
			assert.Equal(t, runtime.GOMAXPROCS(0) == 1, a.sync, "read by the caller")
			if a.sync {
				assert.Equal(t, before, fillers.Load(), "no goroutine reads it")
			} else {
				assert.Equal(t, before+1, fillers.Load(), "a goroutine reads it")
			}
			got := readAll(t, s)
			require.NoError(t, s.Close())
			requireFrames(t, got, data, want, ng)
		}
	})
}

// TestReadAheadShared: a file opened by OpenFileShared, read ahead by
// no goroutine of its own, gives the frames a stream of the same bytes
// gives while another goroutine fills its chunks as it can, pcap and
// pcapng. FillAhead fills the chunks that are free, no more; with one
// processor the file is read as OpenFile's is, and FillAhead does
// nothing.
func TestReadAheadShared(t *testing.T) {
	procs(t, func(t *testing.T) {
		for _, ng := range []bool{false, true} {
			path, data, want := aheadFile(t, ng)
			before := fillers.Load()
			s, err := OpenFileShared(path)
			require.NoError(t, err)
			assert.Equal(t, before, fillers.Load(), "no goroutine reads it")
			f := s.(AheadFiller)
			fills := 0
			for f.FillAhead() {
				fills++
			}
			assert.Equal(t, runtime.GOMAXPROCS(0) > 1, f.Shared())
			if runtime.GOMAXPROCS(0) == 1 {
				assert.Zero(t, fills)
			} else {
				// The header's chunk was filled by the open.
				assert.Equal(t, aheadChunks-1, fills, "the chunks free")
			}
			stop, helped := make(chan struct{}), make(chan int)
			go func() {
				n := 0
				for {
					select {
					case <-stop:
						helped <- n
						return
					default:
					}
					if f.FillAhead() {
						n++
					} else {
						runtime.Gosched()
					}
				}
			}()
			got := readAll(t, s)
			close(stop)
			t.Logf("chunks filled by the helper: %d", <-helped)
			assert.False(t, f.FillAhead(), "nothing left to fill")
			require.NoError(t, s.Close())
			requireFrames(t, got, data, want, ng)
		}
	})
}

// TestReadAheadCutShort: a file cut anywhere fails as a stream cut there
// does, with the same message, read ahead by a goroutine of its own or
// shared.
func TestReadAheadCutShort(t *testing.T) {
	procs(t, func(t *testing.T) {
		data, _ := aheadCapture(t, false)
		dir := t.TempDir()
		for i, n := range []int{23, 30, aheadChunk - 3, aheadChunk + 5, 2*aheadChunk + aheadHeadroom, len(data) - 1,
			23, aheadChunk + 5, 3*aheadChunk + 7, len(data) - 1} {
			open := OpenFile
			if i >= 6 {
				open = OpenFileShared
			}
			path := filepath.Join(dir, "cut.pcap")
			require.NoError(t, os.WriteFile(path, data[:n], 0o644))
			var fileErr, streamErr error
			frames := 0
			if s, err := open(path); err != nil {
				fileErr = err
			} else {
				fileErr = readToError(s)
				frames = int(s.Stats().Received)
				require.NoError(t, s.Close())
			}
			if s, err := NewFileSource(bytes.NewReader(data[:n]), path); err != nil {
				streamErr = err
			} else {
				streamErr = readToError(s)
				assert.Equal(t, int(s.Stats().Received), frames, "cut at %d", n)
			}
			require.Error(t, fileErr, "cut at %d", n)
			assert.Equal(t, streamErr.Error(), fileErr.Error(), "cut at %d", n)
		}
	})
}

// readToError reads s until it fails and returns the failure.
func readToError(s Source) error {
	var f Frame
	for {
		if err := s.Next(&f); err != nil {
			return err
		}
	}
}

// TestReadAheadClose: closing a file read part of the way stops its
// reading goroutine.
func TestReadAheadClose(t *testing.T) {
	path, _, _ := aheadFile(t, false)
	before := runtime.NumGoroutine()
	for range 10 {
		s, err := OpenFile(path)
		require.NoError(t, err)
		var f Frame
		require.NoError(t, s.Next(&f))
		require.NoError(t, s.Close())
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before)
}

// TestReadAheadYields: the goroutine reading ahead, waiting in the
// kernel for a chunk to fill, lets Go's runtime stop the world (a
// collection) all the same.
func TestReadAheadYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	path, _, _ := aheadFile(t, false)
	s, err := OpenFile(path)
	require.NoError(t, err)
	defer s.Close()
	var f Frame
	require.NoError(t, s.Next(&f))
	a := s.(*fileSource).ahead
	testutil.RequireCollectsWhileAsleep(t, &a.sleeping, "the goroutine reading ahead (waiting for a chunk)")
	assert.Len(t, readAll(t, s), int(s.Stats().Received)-1, "the rest of the frames")
}

// TestReadAheadSmallFile: a file shorter than a chunk is read into one
// chunk, the others never made.
func TestReadAheadSmallFile(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var buf bytes.Buffer
	w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{})
	for i := range frames {
		w.Write(t0+int64(i), frames[i])
	}
	require.NoError(t, w.Err())
	path := filepath.Join(t.TempDir(), "small.pcap")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	s, err := OpenFile(path)
	require.NoError(t, err)
	assert.Len(t, readAll(t, s), len(frames))
	a := s.(*fileSource).ahead
	require.NoError(t, s.Close()) // the goroutine has ended: its chunks can be looked at
	made := 0
	for _, c := range a.chunks {
		if c != nil {
			made++
		}
	}
	assert.Equal(t, 1, made)
}

// TestReadAheadWakesForTwo: the goroutine reading ahead, once every
// chunk is full, is woken when aheadWake chunks are given back, not at
// the first.
func TestReadAheadWakesForTwo(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	data := make([]byte, 10*aheadChunk)
	a := newAheadReader(bytes.NewReader(data))
	defer a.Close()
	// filled waits until the chunks ready are n, and says whether they are.
	filled := func(n int) bool {
		deadline := time.Now().Add(5 * time.Second)
		for (len(a.full) != n || !a.sleeping.Load()) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		return len(a.full) == n && a.sleeping.Load()
	}
	// chunk reads the rest of the chunk being read and the next one's
	// first byte.
	chunk := func() {
		_, err := a.Discard(a.end - a.pos)
		require.NoError(t, err)
		_, err = a.Peek(1)
		require.NoError(t, err)
	}
	_, err := a.Peek(1)
	require.NoError(t, err)
	require.True(t, filled(aheadChunks-1), "every chunk read, one being read from")
	chunk()
	time.Sleep(20 * time.Millisecond) // twenty of its timeouts
	assert.Len(t, a.full, aheadChunks-2, "one chunk free: not filled")
	chunk()
	assert.True(t, filled(aheadChunks-1), "two free: both filled")
}

// TestReadAheadReadError: an error reading the file ends the frames as it
// ends a stream's, and the reader keeps it.
func TestReadAheadReadError(t *testing.T) {
	data, _ := aheadCapture(t, false)
	boom := errors.New("boom")
	failing := func() io.Reader { return io.MultiReader(bytes.NewReader(data[:aheadChunk+100]), iotestErr{boom}) }
	a := newAheadReader(failing())
	defer a.Close()
	s, err := newFileSource(a, "x.pcap")
	require.NoError(t, err)
	stream, err := newFileSource(failing(), "x.pcap")
	require.NoError(t, err)
	err = readToError(s)
	assert.EqualError(t, err, readToError(stream).Error())
	assert.Equal(t, stream.Stats(), s.Stats())
	_, err = a.Peek(aheadHeadroom)
	assert.ErrorIs(t, err, boom)
}

// iotestErr is a reader that fails.
type iotestErr struct{ err error }

func (r iotestErr) Read([]byte) (int, error) { return 0, r.err }

// TestReadAheadBadLength: a record that claims more than libpcap's
// largest snap length fails read ahead as in a stream.
func TestReadAheadBadLength(t *testing.T) {
	var buf bytes.Buffer
	w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{})
	w.Write(t0, frames[0])
	w.Write(t0, frames[1])
	require.NoError(t, w.Err())
	data := buf.Bytes()
	binary.LittleEndian.PutUint32(data[24+16+len(frames[0])+8:], maxCapLen+1) // the second record's capture length
	path := filepath.Join(t.TempDir(), "bad.pcap")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	s, err := OpenFile(path)
	require.NoError(t, err)
	defer s.Close()
	stream, err := NewFileSource(bytes.NewReader(data), path)
	require.NoError(t, err)
	err = readToError(s)
	assert.EqualError(t, err, readToError(stream).Error())
	assert.ErrorContains(t, err, "invalid packet capture length 262145")
	assert.Equal(t, uint64(1), s.Stats().Received)
}
