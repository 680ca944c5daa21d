package output

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
)

// TestAppendDecLikeStrconv checks appendDec against strconv at every
// number of digits, at the powers of ten and either side of them, and at
// random numbers, appended to a slice with and without room.
func TestAppendDecLikeStrconv(t *testing.T) {
	vs := []uint64{0, math.MaxUint64, math.MaxUint64 - 1}
	for p := uint64(1); p <= 1e19; p *= 10 {
		vs = append(vs, p-1, p, p+1)
		if p == 1e19 {
			break
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		vs = append(vs, r.Uint64()>>r.UintN(64))
	}
	for _, v := range vs {
		for _, b := range [][]byte{nil, []byte("ab"), make([]byte, 3, 40)} {
			want := strconv.AppendUint([]byte(string(b)), v, 10)
			if got := appendDec(b, v); string(got) != string(want) {
				t.Fatalf("%d: %q, want %q", v, got, want)
			}
		}
	}
}

// TestAppendIP4LikeNetip checks appendIP4 against netip for octets of
// one, two and three digits in every place.
func TestAppendIP4LikeNetip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	octets := []uint32{0, 9, 10, 99, 100, 199, 200, 255}
	for range 50000 {
		var v uint32
		for range 4 {
			v = v<<8 | octets[r.IntN(len(octets))]
		}
		if r.IntN(2) == 0 {
			v = r.Uint32()
		}
		want := "x" + netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
		for _, b := range [][]byte{[]byte("x"), append(make([]byte, 0, 100), 'x')} {
			if got := appendIP4(b, v); string(got) != want {
				t.Fatalf("%08x: %q, want %q", v, got, want)
			}
		}
	}
}

// TestAppendHex16LikeStrconv checks appendHex16 at every 16-bit value.
func TestAppendHex16LikeStrconv(t *testing.T) {
	for v := range 1 << 16 {
		want := strconv.AppendUint([]byte("x"), uint64(v), 16)
		if got := appendHex16([]byte("x"), uint16(v)); string(got) != string(want) {
			t.Fatalf("%#x: %q, want %q", v, got, want)
		}
	}
}
