package capture

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// keyHash hashes flow keys for the cache's index, with keys of its own
// drawn at random for every cache, so that a sender who crafts packets
// cannot know which of them share a slot (fprobe's xor of the addresses
// and ports lets one put every flow in one chain).
//
// It is the construction of wyhash, which Go's runtime hashes map keys
// with where the processor has no AES instructions (and hash/maphash
// with it): the key's words xor-ed with secret words and multiplied in
// pairs to 128 bits, whose halves are folded together, then mixed by
// fmix. The flow key is always five words, so the hash is three such
// multiplications and fmix without a branch on the length, under half
// of hash/maphash's time on a flow key (BenchmarkKeyHash): maphash
// reached the AES hash through three calls and a switch on the length.
type keyHash struct{ s [6]uint64 }

func newKeyHash() keyHash {
	var h keyHash
	for i := range h.s {
		// math/rand/v2's generator is seeded from the system's random
		// source when the program starts, and ChaCha8 does not tell its
		// next numbers from its last.
		h.s[i] = rand.Uint64()
	}
	return h
}

// sum returns k's hash.
func (h *keyHash) sum(k *flowKey) uint64 {
	le := binary.LittleEndian
	return h.words(le.Uint64(k.addr[0:]), le.Uint64(k.addr[8:]), le.Uint64(k.addr[16:]), le.Uint64(k.addr[24:]), k.tail)
}

// packet returns the hash of packet p's flow key (packetKey) without
// putting the key together first.
func (h *keyHash) packet(p *Packet) uint64 {
	le := binary.LittleEndian
	return h.words(le.Uint64(p.Src[0:]), le.Uint64(p.Src[8:]), le.Uint64(p.Dst[0:]), le.Uint64(p.Dst[8:]),
		keyTail(p.SrcPort, p.DstPort, p.Proto, p.TOS, p.Version))
}

// packetTail is packet with the key's last word given.
func (h *keyHash) packetTail(p *Packet, tail uint64) uint64 {
	le := binary.LittleEndian
	return h.words(le.Uint64(p.Src[0:]), le.Uint64(p.Src[8:]), le.Uint64(p.Dst[0:]), le.Uint64(p.Dst[8:]), tail)
}

// words hashes a key given as its five words.
func (h *keyHash) words(s0, s1, d0, d1, tail uint64) uint64 {
	a := mum(s0^h.s[0], s1^h.s[1])
	b := mum(d0^h.s[2], d1^h.s[3])
	return fmix(mum(a^tail^h.s[4], b^h.s[5]))
}

// fmix is MurmurHash3's finaliser, a bijection whose every output bit
// depends on every input bit. Without it, keys that differ in the ports
// alone (the same hosts) were hashed by one multiplication by a number
// fixed for the cache, whose top bits, the index's, spread them unevenly
// for some caches' keys (TestKeyHashSpread found a chi-square twice a
// uniform hash's).
func fmix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	return h ^ h>>33
}

// mum multiplies a and b to 128 bits and folds the halves together.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
