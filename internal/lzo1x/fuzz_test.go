package lzo1x

import (
	"testing"
)

// FuzzCompress checks that every input survives a round trip through our
// compressor and both decoders (go-lzo and decodeStrict), within
// MaxCompressedLen. The seed corpus in testdata/fuzz/FuzzCompress holds
// inputs with long runs, repeats and literal runs near the encoding limits.
func FuzzCompress(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("a"))
	f.Add([]byte("abcdabcdabcdxy"))
	f.Add(make([]byte, 300))
	f.Add(recordStream(1000))
	var c Compressor
	f.Fuzz(func(t *testing.T, src []byte) {
		roundTrip(t, &c, src)
	})
}
