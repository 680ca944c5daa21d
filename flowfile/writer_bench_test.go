package flowfile

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkWriteBurst writes 400 MB of uncompressed V3 records as fast as
// a collector's worker hands them over while it drains a full socket:
// what the writer's goroutines cost (run it under /usr/bin/time for their
// CPU time) and how fast the disk takes them. WRITE_BENCH_DIR says where
// (default: a temporary directory); the file goes through O_DIRECT where
// the file system takes it.
func BenchmarkWriteBurst(b *testing.B) {
	dir := os.Getenv("WRITE_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	f := randomFile(rng, 64)
	var l v3Layout
	var recs [][]byte
	for i := range f.flows {
		recs = append(recs, appendV3(nil, &f.flows[i], &l))
	}
	const total = 400 << 20
	path := filepath.Join(dir, "nfcapd.burst")
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		w, err := Create(path, WriteOptions{Compression: None, Count: CountNone})
		if err != nil {
			b.Fatal(err)
		}
		for n := 0; n < total; {
			r := recs[n%len(recs)]
			if err := w.WriteV3(r); err != nil {
				b.Fatal(err)
			}
			n += len(r)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		os.Remove(path)
	}
}
