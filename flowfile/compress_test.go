package flowfile

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDecompressGrowsToTheBlock checks that every method restores blocks of
// any size up to the reader's limit, whatever buffer it starts from: small
// pooled buffers from appendix blocks, writer-sized ones, none at all.
func TestDecompressGrowsToTheBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, size := range []int{100, 70 << 10, WriteBlockSize, 3 << 20, maxBlockSize} {
		src := make([]byte, size)
		for i := range src {
			src[i] = byte(rng.IntN(4)) // compressible, not trivially
		}
		for _, comp := range allCompressions {
			c, err := newCompressor(comp, 0)
			require.NoError(t, err)
			packed, err := c.compress(nil, src)
			require.NoError(t, err)
			d, err := newDecompressor(comp)
			require.NoError(t, err)
			for _, start := range []int{0, 64 << 10, WriteBlockSize} {
				out, err := d.decompress(make([]byte, 0, start), packed)
				require.NoError(t, err, "%s: %d bytes from a buffer of %d", comp, size, start)
				assert.True(t, bytes.Equal(src, out), "%s: %d bytes from a buffer of %d", comp, size, start)
			}
		}
	}
}

func TestDecompressRefusesMoreThanTheLimit(t *testing.T) {
	src := make([]byte, maxBlockSize+1)
	for _, comp := range []Compression{LZO, BZ2, LZ4, ZSTD} {
		c, err := newCompressor(comp, 0)
		require.NoError(t, err)
		packed, err := c.compress(nil, src)
		require.NoError(t, err)
		d, err := newDecompressor(comp)
		require.NoError(t, err)
		_, err = d.decompress(nil, packed)
		assert.Error(t, err, comp.String())
	}
}

// TestCompressorReused: a compressor, which each writer worker keeps for
// every block it compresses, makes a complete stream of each block in
// turn, after a block of another size and content, appended to what dst
// held.
func TestCompressorReused(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, comp := range allCompressions {
		c, err := newCompressor(comp, 0)
		require.NoError(t, err)
		d, err := newDecompressor(comp)
		require.NoError(t, err)
		for i, size := range []int{WriteBlockSize, 100, 300 << 10, 0, WriteBlockSize} {
			src := make([]byte, size)
			for j := range src {
				src[j] = byte(rng.IntN(4 + 60*i))
			}
			prefix := []byte{1, 2, 3}
			packed, err := c.compress(append([]byte(nil), prefix...), src)
			require.NoError(t, err)
			require.Equal(t, prefix, packed[:3], "%s block %d: dst's bytes kept", comp, i)
			out, err := d.decompress(nil, packed[3:])
			require.NoError(t, err, "%s block %d", comp, i)
			assert.True(t, bytes.Equal(src, out), "%s block %d of %d bytes", comp, i, size)
		}
	}
}
