package flowfile

import (
	"sync"
	"time"

	"github.com/nfgo/nftools/internal/region"
)

// The block buffers of writers past the page cache lie in regions outside
// Go's heap, four buffers (a writer's, start) to a region, whose first
// 2 MiB the kernel backs with a huge page: a direct write pins the pages
// of its memory (get_user_pages) and hands the disk a list of them, and a
// huge page is pinned as one and goes to the disk as one piece, where a
// block in 4 KiB pages is 257 of them. perf of gocapd at 800 000 v5
// flows/s (2 runs each, load 4-6): pwrite(2) took 18.3% of its samples
// with every buffer in Go's heap and 11.8% with these regions (the
// pinning 6.2 -> 3.0%); with the whole region in huge pages (4 MiB for
// the 3.4 MiB of three buffers, then a writer's) 11.3%, for 0.8 MB more
// memory.
// A region's pages are faulted in when it is mapped, at the first file's
// Create, before any flow: the first touch of a huge page (its clearing,
// 0.2 ms to tens of ms on this VM) in the middle of the first blocks
// cost as much as the pinning saved (8 paired 5 s runs at 800 000 v5
// flows/s, load 5-6: median 1.03 of the heap's buffers' CPU a flow;
// faulted in first, 0.90, and 0.94 at 200 000). A writer that stops
// gives its buffers back for the next file's writer to take, so that
// comes once, not at every file; a collector's writer gives them back
// when it is parked at a rotation, before the next file's writer starts
// (Park): gocapd at -t 10 and 800 000 v5 flows/s had 14.4-14.5 MB of
// RSS before its first rotation and 14.8-14.9 MB after two (the code of
// a rotation, 0.3 MB, is read in once; its anonymous memory grew by 24
// KiB a rotation), where it had 18.2-19.5 MB when the buffers came back
// only as the closer finished the old file.
var directBufs struct {
	sync.Mutex
	free [][]byte
	// parked counts the buffers of parked writers' blocks still on
	// their way to the disk, which come back when their writes end;
	// back wakes a takeDirectBuf that waits for one. regions counts the
	// regions mapped (for the tests).
	parked  int
	back    chan struct{}
	regions int
}

// parkWait bounds how long takeDirectBuf waits for a parked writer's
// buffer before it maps a region: a block's write takes milliseconds,
// unless the disk hangs, when the next file had better go on in memory
// of its own.
const parkWait = time.Second

// directBufSize is the memory of one block buffer of a writer past the
// page cache (reset): a block, its slack and a page either side.
const directBufSize = blockHeaderSize + WriteBlockSize + 64*1024 + 2*directAlign

// directBufsPerRegion is how many block buffers a region holds: the
// blocks of one writer without compression (start), one of them held
// back for the next (hand).
const directBufsPerRegion = 4

// takeDirectBuf returns a block buffer of directBufSize bytes, mapping a
// region of them when none is free. When a parked writer's blocks (Park)
// hold some, it waits for one of them rather than map a region that
// would stay for good: at a rotation, when the old file's last blocks
// are still being written as the next file starts (parkWait at most).
func takeDirectBuf() []byte {
	directBufs.Lock()
	defer directBufs.Unlock()
	var timer *time.Timer
	for len(directBufs.free) == 0 && directBufs.parked > 0 {
		if timer == nil {
			timer = time.NewTimer(parkWait)
			defer timer.Stop()
		}
		if directBufs.back == nil {
			directBufs.back = make(chan struct{}, 1)
		}
		back := directBufs.back
		directBufs.Unlock()
		expired := false
		select {
		case <-back:
		case <-timer.C:
			expired = true
		}
		directBufs.Lock()
		if expired {
			break
		}
	}
	if len(directBufs.free) == 0 {
		directBufs.regions++
		// Huge pages from the region's start on: its first huge page
		// only, as the region is less than two.
		r, mapped := region.Map(directBufsPerRegion*directBufSize, 0)
		if mapped {
			region.Populate(r)
		}
		for i := range directBufsPerRegion {
			directBufs.free = append(directBufs.free, r[i*directBufSize:(i+1)*directBufSize:(i+1)*directBufSize])
		}
	}
	n := len(directBufs.free) - 1
	b := directBufs.free[n]
	directBufs.free = directBufs.free[:n]
	return b
}

// giveDirectBuf gives back a buffer that takeDirectBuf returned, which
// nothing uses any more.
func giveDirectBuf(b []byte) {
	directBufs.Lock()
	directBufs.free = append(directBufs.free, b)
	select {
	case directBufs.back <- struct{}{}:
	default:
	}
	directBufs.Unlock()
}

// parkedBufs counts n buffers that a parked writer's blocks hold.
func parkedBufs(n int) {
	directBufs.Lock()
	directBufs.parked += n
	directBufs.Unlock()
}

// parkedBufBack counts one of them given back.
func parkedBufBack() {
	directBufs.Lock()
	directBufs.parked--
	directBufs.Unlock()
}
