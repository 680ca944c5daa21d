package lzo1x

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	lzo "github.com/anchore/go-lzo"
	"github.com/stretchr/testify/require"
)

// opKind names an LZO1X instruction, as seen by decodeStrict.
type opKind int

const (
	opLiterals opKind = iota
	opM1
	opM2
	opM3
	opM4
)

func (k opKind) String() string {
	return [...]string{"literals", "M1", "M2", "M3", "M4"}[k]
}

// op is one decoded instruction: a literal run (dist 0) or a match.
type op struct {
	kind   opKind
	length int
	dist   int
}

// maxStrictOutput stops decodeStrict from running away on a broken stream.
const maxStrictOutput = 64 << 20

// decodeStrict is a second, deliberately pedantic LZO1X decoder, written for
// the tests from the same format description as the encoder. Besides the
// output it returns every instruction, so tests can check which encodings
// were used, and it rejects anything our encoder must never produce even if
// lenient decoders would accept it: bytes after the end marker, an end marker
// other than exactly 11 00 00, or a distance reaching before the start of the
// output.
func decodeStrict(stream []byte) ([]byte, []op, error) {
	var (
		out []byte
		ops []op
		i   int
	)
	next := func() (byte, error) {
		if i >= len(stream) {
			return 0, errors.New("input overrun")
		}
		i++
		return stream[i-1], nil
	}
	// extension reads a length extension: zero bytes worth 255 each and a
	// final non-zero byte.
	extension := func() (int, error) {
		v := 0
		for {
			b, err := next()
			if err != nil {
				return 0, err
			}
			if b != 0 {
				return v + int(b), nil
			}
			v += 255
		}
	}
	literals := func(n int) error {
		if n == 0 {
			return nil
		}
		if i+n > len(stream) {
			return fmt.Errorf("literal run of %d overruns the input at %d", n, i)
		}
		if len(out)+n > maxStrictOutput {
			return errors.New("output too large")
		}
		out = append(out, stream[i:i+n]...)
		i += n
		ops = append(ops, op{kind: opLiterals, length: n})
		return nil
	}
	le16 := func() (int, error) {
		lo, err := next()
		if err != nil {
			return 0, err
		}
		hi, err := next()
		if err != nil {
			return 0, err
		}
		return int(lo) | int(hi)<<8, nil
	}

	if len(stream) < 3 {
		return nil, nil, errors.New("stream shorter than the end marker")
	}
	// state is the number of literals the previous instruction copied,
	// with 4 standing for "four or more".
	state := 0
	// A first byte of 18 or more is a literal run. Anything else is a
	// normal instruction, and 17 (M4) is then only valid as the end marker
	// of an empty stream: there is nothing yet to copy from.
	if first := stream[0]; first >= 18 {
		i = 1
		n := int(first) - 17
		if err := literals(n); err != nil {
			return nil, nil, err
		}
		state = min(n, 4)
	}

	for {
		inst, err := next()
		if err != nil {
			return nil, nil, err
		}
		var kind opKind
		var length, dist, trailing int
		switch {
		case inst >= 64:
			h, err := next()
			if err != nil {
				return nil, nil, err
			}
			kind = opM2
			length = int(inst>>5) + 1
			dist = int(h)<<3 + int(inst>>2&7) + 1
			trailing = int(inst & 3)
		case inst >= 32:
			kind = opM3
			length = int(inst&31) + 2
			if inst&31 == 0 {
				e, err := extension()
				if err != nil {
					return nil, nil, err
				}
				length = 33 + e
			}
			v, err := le16()
			if err != nil {
				return nil, nil, err
			}
			dist = v>>2 + 1
			trailing = v & 3
		case inst >= 16:
			kind = opM4
			length = int(inst&7) + 2
			if inst&7 == 0 {
				e, err := extension()
				if err != nil {
					return nil, nil, err
				}
				length = 9 + e
			}
			v, err := le16()
			if err != nil {
				return nil, nil, err
			}
			dist = 16384 + int(inst&8)<<11 + v>>2
			trailing = v & 3
			if dist == 16384 {
				switch {
				case inst != 0x11 || v != 0:
					return nil, nil, fmt.Errorf("end marker %02x %04x is not 11 00 00", inst, v)
				case i != len(stream):
					return nil, nil, fmt.Errorf("%d bytes after the end marker", len(stream)-i)
				}
				return out, ops, nil
			}
		case state == 0:
			// A literal run; only a match can follow it.
			n := int(inst) + 3
			if inst == 0 {
				e, err := extension()
				if err != nil {
					return nil, nil, err
				}
				n = 18 + e
			}
			if err := literals(n); err != nil {
				return nil, nil, err
			}
			state = 4
			continue
		default:
			h, err := next()
			if err != nil {
				return nil, nil, err
			}
			kind = opM1
			trailing = int(inst & 3)
			if state == 4 {
				length = 3
				dist = int(h)<<2 + int(inst>>2) + 2049
			} else {
				length = 2
				dist = int(h)<<2 + int(inst>>2) + 1
			}
		}

		if dist < 1 || dist > len(out) {
			return nil, nil, fmt.Errorf("%v distance %d with %d bytes of output", kind, dist, len(out))
		}
		if len(out)+length > maxStrictOutput {
			return nil, nil, errors.New("output too large")
		}
		ops = append(ops, op{kind: kind, length: length, dist: dist})
		// Byte by byte, because a match may overlap the bytes it produces.
		for from := len(out) - dist; length > 0; length-- {
			out = append(out, out[from])
			from++
		}
		if err := literals(trailing); err != nil {
			return nil, nil, err
		}
		state = trailing
	}
}

// roundTrip compresses src with c, checks that the reference decoder
// (github.com/anchore/go-lzo, which insists on consuming the whole stream and
// on an exactly sized output) and decodeStrict both give src back, and
// returns the stream with its instructions.
func roundTrip(t testing.TB, c *Compressor, src []byte) ([]byte, []op) {
	t.Helper()
	comp := c.Compress(nil, src)
	require.LessOrEqual(t, len(comp), MaxCompressedLen(len(src)), "output exceeds MaxCompressedLen")
	require.GreaterOrEqual(t, len(comp), 3)
	require.Equal(t, []byte{0x11, 0x00, 0x00}, comp[len(comp)-3:], "stream must end with the end marker")

	got := make([]byte, len(src))
	n, err := lzo.Decompress(comp, got)
	require.NoError(t, err, "go-lzo rejects the stream")
	require.Equal(t, len(src), n, "go-lzo output length")
	requireSameBytes(t, src, got, "go-lzo output")

	strict, ops, err := decodeStrict(comp)
	require.NoError(t, err, "strict decoder rejects the stream")
	requireSameBytes(t, src, strict, "strict decoder output")
	for _, o := range ops {
		// The encoder only ever finds matches of four bytes or more, which
		// M2, M3 and M4 encode at least as well as M1.
		require.NotEqual(t, opM1, o.kind, "unexpected M1 instruction")
	}
	return comp, ops
}

// requireSameBytes compares without dumping megabytes of hex on failure.
func requireSameBytes(t testing.TB, want, got []byte, what string) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	require.FailNowf(t, what+" differs", "lengths %d and %d, first difference at byte %d", len(want), len(got), i)
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

// nonZeroRandomBytes is randomBytes without zero bytes, so that the data
// cannot extend a match into neighbouring zero filler.
func nonZeroRandomBytes(seed uint64, n int) []byte {
	b := randomBytes(seed, n)
	for i := range b {
		if b[i] == 0 {
			b[i] = byte(i%255) + 1
		}
	}
	return b
}

// textBytes returns n bytes of reproducible English-like text.
func textBytes(seed uint64, n int) []byte {
	words := strings.Fields(`the of and to a in is it you that he was for on are with as
		his they be at one have this from or had by hot word but what some we can out
		other were all there when up use your how said an each she which do their time
		if will way about many then them write would like so these her long make thing
		see him two has look more day could go come did number sound no most people my
		over know water than call first who may down side been now find flow record
		exporter packet bytes address port protocol compression block file`)
	r := rand.New(rand.NewPCG(seed, 1))
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(words[r.IntN(len(words))])
		switch r.IntN(12) {
		case 0:
			sb.WriteString(".\n")
		case 1:
			sb.WriteString(", ")
		default:
			sb.WriteByte(' ')
		}
	}
	return []byte(sb.String()[:n])
}

// recordSize is the size of the flow records recordStream makes.
const recordSize = 120

// recordStream returns n bytes of back-to-back 120-byte records shaped like
// nfdump's V3 flow records, in which a record counter and the timestamps
// derived from it change from one record to the next, as in a real block of
// flows from one exporter.
func recordStream(n int) []byte {
	rec := make([]byte, recordSize)
	binary.LittleEndian.PutUint16(rec[0:], 12) // V3 record
	binary.LittleEndian.PutUint16(rec[2:], recordSize)
	rec[4] = 4 // number of elements
	rec[5], rec[6] = 1, 2
	binary.LittleEndian.PutUint16(rec[8:], 1)                   // exporter
	binary.LittleEndian.PutUint16(rec[12:], 1)                  // generic flow element
	binary.LittleEndian.PutUint16(rec[14:], 44)                 // its size
	binary.LittleEndian.PutUint64(rec[40:], 10)                 // packets
	binary.LittleEndian.PutUint64(rec[48:], 1500)               // bytes
	binary.LittleEndian.PutUint16(rec[56:], 12345)              // source port
	binary.LittleEndian.PutUint16(rec[58:], 80)                 // destination port
	rec[60], rec[61] = 6, 0x1b                                  // TCP, flags
	binary.LittleEndian.PutUint16(rec[64:], 2)                  // IPv4 element
	binary.LittleEndian.PutUint16(rec[66:], 12)                 // its size
	binary.LittleEndian.PutUint32(rec[68:], 0x0a000001)         // 10.0.0.1
	binary.LittleEndian.PutUint32(rec[72:], 0xc0a80102)         // 192.168.1.2
	binary.LittleEndian.PutUint16(rec[76:], 10)                 // AS element
	binary.LittleEndian.PutUint16(rec[78:], 12)                 // its size
	binary.LittleEndian.PutUint32(rec[80:], 65001)              // source AS
	binary.LittleEndian.PutUint32(rec[84:], 65002)              // destination AS
	binary.LittleEndian.PutUint16(rec[88:], 12)                 // exporter address element
	binary.LittleEndian.PutUint16(rec[90:], 28)                 // its size
	binary.LittleEndian.PutUint32(rec[92:], 0x7f000001)         // 127.0.0.1
	copy(rec[100:], []byte{0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 4, 0}) // padding, interfaces

	const firstSeen = 1795555925123 // milliseconds since the epoch
	out := make([]byte, 0, n+recordSize)
	for i := 0; len(out) < n; i++ {
		binary.LittleEndian.PutUint32(rec[112:], uint32(i))            // record counter
		binary.LittleEndian.PutUint64(rec[16:], firstSeen+uint64(i)*7) // first
		binary.LittleEndian.PutUint64(rec[24:], firstSeen+uint64(i)*7+4000)
		binary.LittleEndian.PutUint64(rec[32:], firstSeen+uint64(i)*7+5090) // received
		out = append(out, rec...)
	}
	return out[:n]
}
