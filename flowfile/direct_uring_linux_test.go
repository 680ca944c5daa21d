package flowfile

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// alignedPages returns n pages of b-aligned memory filled with seed's
// bytes.
func alignedPages(n int, seed byte) []byte {
	raw := make([]byte, (n+1)*directAlign)
	b := raw[(directAlign-addrMod(raw))%directAlign:][:n*directAlign]
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// requireRing skips the test where no io_uring can be set up (pwrite(2)
// then takes the writes), and keeps the ring it made for the test.
func requireRing(t *testing.T) {
	t.Helper()
	r := takeRing()
	if r == nil {
		t.Skip("no io_uring here: pwrite(2) takes the writes")
	}
	putRing(r)
}

// directFile makes an empty file name in the test's directory and opens
// it for O_DIRECT writes (closed when the test ends); it skips the test
// where the file system refuses O_DIRECT.
func directFile(t *testing.T, name string) (string, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	fd := openDirect(path)
	if fd < 0 {
		t.Skip("no O_DIRECT on the test's file system")
	}
	t.Cleanup(func() { closeDirect(fd) })
	return path, fd
}

// TestRingWrites writes pages past the page cache through io_uring from
// several goroutines at once, each at its own offsets, and finds every
// byte in the file; the rings are kept for the next writes.
func TestRingWrites(t *testing.T) {
	requireRing(t)
	path, fd := directFile(t, "ring")
	const writers, rounds, pages = 4, 8, 16
	want := make([]byte, writers*rounds*pages*directAlign)
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range rounds {
				b := alignedPages(pages, byte(g*rounds+k))
				off := int64((k*writers + g) * pages * directAlign)
				copy(want[off:], b)
				n, err, ok := ringWritev(fd, [][]byte{b}, off)
				if !ok {
					errs <- syscall.ENOSYS
					return
				}
				if err == nil && n != len(b) {
					err = syscall.EIO
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "the file holds what the rings wrote")
	rings.Lock()
	idle := len(rings.idle)
	rings.Unlock()
	require.GreaterOrEqual(t, idle, 1, "rings kept for the next writes")
}

// TestRingWriteError: a write the kernel refuses comes back as its error
// (here EBADF, a descriptor open for reading only), not as a ring that
// failed, and pwriteDirect returns it, so that the writer falls back to
// the page cache as for a full disk.
func TestRingWriteError(t *testing.T) {
	requireRing(t)
	path := filepath.Join(t.TempDir(), "ro")
	require.NoError(t, os.WriteFile(path, make([]byte, directAlign), 0o644))
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	b := alignedPages(1, 1)
	_, werr, ok := ringWritev(fd, [][]byte{b}, 0)
	require.True(t, ok, "the ring itself did not fail")
	require.ErrorIs(t, werr, syscall.EBADF)
	require.ErrorIs(t, pwriteDirect(fd, b, 0, true), syscall.EBADF)
	require.False(t, rings.off.Load(), "a refused write leaves the rings on")
}

// TestRingRefusedWrite: a write the ring refuses as invalid (a kernel
// without IORING_OP_WRITEV answers EINVAL; here, memory not aligned for
// O_DIRECT) is made with pwritev(2) instead, which returns its own error,
// and the rings are off from then on.
func TestRingRefusedWrite(t *testing.T) {
	requireRing(t)
	t.Cleanup(func() { rings.off.Store(false) })
	_, fd := directFile(t, "refused")
	b := alignedPages(2, 3)[1 : 1+directAlign]
	_, _, ok := ringWritev(fd, [][]byte{b}, 0)
	require.False(t, ok, "an invalid write is left to pwritev(2)")
	require.True(t, rings.off.Load())
	require.ErrorIs(t, pwriteDirect(fd, b, 0, true), syscall.EINVAL)
}

// TestPwritevDirect writes two buffers one after the other in one write,
// each way pwritevDirect makes it (a system call, a raw one, the ring),
// from an offset past the file's end, and finds both in the file, in
// order, after the zeros before them. It fails when the second buffer
// goes over the first or to the offset of its own.
func TestPwritevDirect(t *testing.T) {
	for _, c := range []struct {
		name      string
		ring, raw bool
	}{{"pwritev", false, false}, {"raw", false, true}, {"ring", true, false}} {
		t.Run(c.name, func(t *testing.T) {
			if c.ring {
				requireRing(t)
			}
			path, fd := directFile(t, "writev")
			a, b := alignedPages(3, 5), alignedPages(2, 9)
			const off = 2 * directAlign
			require.NoError(t, pwritevDirect(fd, [][]byte{a, b}, off, c.ring, c.raw))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			want := append(append(make([]byte, off), a...), b...)
			require.True(t, bytes.Equal(want, got), "the file holds both buffers in order")
		})
	}
}

// TestPwritevDirectError: a write of several buffers that the kernel
// refuses returns its error (EBADF, a descriptor open for reading only),
// through the ring as through pwritev(2).
func TestPwritevDirectError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ro")
	require.NoError(t, os.WriteFile(path, make([]byte, directAlign), 0o644))
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	bufs := [][]byte{alignedPages(1, 1), alignedPages(1, 2)}
	require.ErrorIs(t, pwritevDirect(fd, bufs, 0, false, true), syscall.EBADF)
	require.ErrorIs(t, pwritevDirect(fd, bufs, 0, true, false), syscall.EBADF)
}
