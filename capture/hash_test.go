package capture

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeyHashSeeded: every cache hashes with keys of its own, and a hash
// is the same every time it is taken.
func TestKeyHashSeeded(t *testing.T) {
	a, b := newKeyHash(), newKeyHash()
	var k flowKey
	same := 0
	for i := range 1000 {
		k.setPorts(uint16(i), uint16(i>>16))
		assert.Equal(t, a.sum(&k), a.sum(&k))
		if a.sum(&k)>>48 == b.sum(&k)>>48 {
			same++
		}
	}
	assert.Less(t, same, 5, "two caches put the same keys in the same slots")
}

// TestKeyHashAvalanche: a bit of the key changed changes every bit of the
// hash with a probability near one half, the top bits the index uses
// included, whatever the bit.
func TestKeyHashAvalanche(t *testing.T) {
	h := newKeyHash()
	rng := rand.New(rand.NewPCG(1, 2))
	const rounds = 400
	for bit := range 5 * 64 {
		var flips [64]int
		for range rounds {
			var k flowKey
			for i := range k.addr {
				k.addr[i] = byte(rng.Uint32())
			}
			k.tail = rng.Uint64()
			before := h.sum(&k)
			if bit < 256 {
				k.addr[bit/8] ^= 1 << (bit % 8)
			} else {
				k.tail ^= 1 << (bit - 256)
			}
			d := before ^ h.sum(&k)
			for o := range 64 {
				flips[o] += int(d >> o & 1)
			}
		}
		for o, n := range flips {
			if p := float64(n) / rounds; p < 0.35 || p > 0.65 {
				t.Fatalf("key bit %d flips hash bit %d with probability %.2f", bit, o, p)
			}
		}
	}
}

// TestKeyHashSpread: keys that differ in a few bits only (ports counted
// up, neighbouring addresses, the keys fprobe's xor hash puts in one
// chain) spread over the index's slots as evenly as hash/maphash's
// spreads them: the chi-square of the slot counts stays near the
// number of slots, which is what a uniform hash gives.
func TestKeyHashSpread(t *testing.T) {
	shapes := map[string]func(i int, k *flowKey){
		"ports": func(i int, k *flowKey) {
			k.setPorts(uint16(i), uint16(i>>16))
		},
		"addresses": func(i int, k *flowKey) {
			binary.BigEndian.PutUint32(k.addr[0:], 0x0a000000|uint32(i))
		},
		"xor chain": func(i int, k *flowKey) {
			binary.BigEndian.PutUint32(k.addr[0:], 0x0a000000|uint32(i))
			binary.BigEndian.PutUint32(k.addr[16:], 0x0a000000|uint32(i))
			k.setPorts(uint16(i)^0x1234, uint16(i)^0x4321)
		},
		"v6 hosts": func(i int, k *flowKey) {
			binary.BigEndian.PutUint16(k.addr[0:], 0x2001)
			binary.BigEndian.PutUint16(k.addr[14:], uint16(i))
			binary.BigEndian.PutUint16(k.addr[30:], uint16(i>>16))
			k.tail = keyTail(k.sport(), k.dport(), protoUDP, 0, 6)
		},
	}
	// Every shape is hashed by caches of 40 different keys: a weakness
	// may show for some keys only (without fmix, one cache in fourteen
	// spread the ports shape with a chi-square near 8000). hash/maphash
	// hashes each shape once, for comparison.
	const slotBits, keys, caches = 12, 1 << 16, 40
	for name, shape := range shapes {
		theirs := make([]int, 1<<slotBits)
		seed := maphash.MakeSeed()
		var b [40]byte
		for i := range keys {
			k := flowKey{tail: keyTail(0, 0, protoUDP, 0, 4)}
			shape(i, &k)
			copy(b[:], k.addr[:])
			binary.LittleEndian.PutUint64(b[32:], k.tail)
			theirs[maphash.Bytes(seed, b[:])>>(64-slotBits)]++
		}
		chiTheirs := chiSquare(theirs, keys)
		for range caches {
			ours := make([]int, 1<<slotBits)
			h := newKeyHash()
			for i := range keys {
				k := flowKey{tail: keyTail(0, 0, protoUDP, 0, 4)}
				shape(i, &k)
				ours[h.sum(&k)>>(64-slotBits)]++
			}
			// For 4095 degrees of freedom a uniform hash's chi-square
			// is 4095 give or take 90; 4600 is over five times that
			// above, which a uniform hash passes about once in ten
			// million.
			require.Less(t, chiSquare(ours, keys), 4600.0, "%s: chi-square (maphash: %.0f)", name, chiTheirs)
		}
	}
}

func chiSquare(counts []int, n int) float64 {
	want := float64(n) / float64(len(counts))
	var x float64
	for _, c := range counts {
		x += math.Pow(float64(c)-want, 2) / want
	}
	return x
}

// BenchmarkKeyHash compares the cache's hash with hash/maphash's on a
// flow key.
func BenchmarkKeyHash(b *testing.B) {
	var k flowKey
	b.Run("keyHash", func(b *testing.B) {
		h := newKeyHash()
		var x uint64
		for i := range b.N {
			k.tail = uint64(i)
			x += h.sum(&k)
		}
		hashSink = bits.OnesCount64(x)
	})
	b.Run("maphash", func(b *testing.B) {
		seed := maphash.MakeSeed()
		var x uint64
		var b40 [40]byte
		for i := range b.N {
			b40[32] = byte(i)
			x += maphash.Bytes(seed, b40[:])
		}
		hashSink = bits.OnesCount64(x)
	})
}

// hashSink keeps the benchmarks' hashes from being optimised away.
var hashSink int

// TestKeyHashPacket: a packet's hash taken from its fields is its flow
// key's, for every packet of generated traffic (IPv4 and IPv6, TCP, UDP,
// ICMP, VLANs) decoded into a packet used before: Add finds the flow of
// a packet hashed ahead under the hash it would take itself.
func TestKeyHashPacket(t *testing.T) {
	h := newKeyHash()
	var d Decoder
	var p Packet
	v4, v6 := 0, 0
	for _, f := range traffic(5000) {
		if d.Decode(f.Link, &f, &p) != nil {
			continue
		}
		var k flowKey
		packetKey(&k, &p)
		require.Equal(t, h.sum(&k), h.packet(&p), "%+v", p)
		cp := p
		(&Cache{hash: h, id: 7}).Hash(&cp)
		var s Slim
		hs := Hasher{hash: h, id: 7}
		hs.Slim(&p, 0, &s)
		if !p.Fragment {
			require.Equal(t, cp.hash, s.hash, "Hasher hashes as its cache")
			require.True(t, s.hashed())
		}
		require.Equal(t, h.sum(&k), h.packetTail(&p, k.tail), "%+v", p)
		// The cache finds a packet's flow by comparing the packet's
		// fields with the key (lookupPacket): its own key matches, and
		// one that differs in any word does not.
		require.True(t, k.equalPacket(&p, k.tail), "%+v", p)
		for w := range 5 {
			o := k
			if w < 4 {
				o.addr[w*8] ^= 1
			} else {
				o.tail ^= 1 << 40
			}
			require.False(t, o.equalPacket(&p, k.tail), "word %d, %+v", w, p)
		}
		if p.Version == 4 {
			v4++
		} else {
			v6++
		}
	}
	assert.Positive(t, v4)
	assert.Positive(t, v6)
}
