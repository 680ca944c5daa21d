package main

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/flowgen"
	"github.com/nfgo/nftools/internal/testutil"
)

// blockStarts returns the offsets of a flow file's data blocks: a block is
// a 12-byte header (records, size, type, flags) and size bytes.
func blockStarts(data []byte) []int {
	n := int(binary.LittleEndian.Uint32(data[36:]))
	var offs []int
	off := flowfile.HeaderSize
	for i := 0; i < n; i++ {
		offs = append(offs, off)
		off += 12 + int(binary.LittleEndian.Uint32(data[off+4:]))
	}
	return offs
}

// TestUnfinishedAndDamagedFiles: a file its collector did not close (a
// crash, or still being written) reads as nfdump reads it, nothing of the
// uncounted blocks, but godump says so on stderr; a damaged block ends the
// file's reading as in nfdump, and godump says what it left unread and
// exits 2.
// writeFlows writes a file of 30000 generated flows in three blocks
// compressed with comp, and returns its path, bytes and block offsets.
func writeFlows(t *testing.T, dir string, comp flowfile.Compression) (path string, data []byte, offs []int) {
	t.Helper()
	path = filepath.Join(dir, "good-"+comp.String())
	w, err := flowfile.Create(path, flowfile.WriteOptions{Compression: comp, Ident: "crash"})
	require.NoError(t, err)
	g := flowgen.New(5, 1795556400000)
	e := g.Exporter()
	require.NoError(t, w.WriteExporter(&e))
	var r flow.Record
	for i := 0; i < 30000; i++ {
		g.Next(&r)
		require.NoError(t, w.WriteFlow(&r))
	}
	require.NoError(t, w.Close())
	data, err = os.ReadFile(path)
	require.NoError(t, err)
	offs = blockStarts(data)
	require.Len(t, offs, 3)
	return path, data, offs
}

// TestUnfinishedAndDamagedFiles: a file its collector did not close (a
// crash, or still being written) reads as nfdump reads it, nothing of the
// uncounted blocks, but godump says so on stderr; a damaged block ends the
// file's reading as in nfdump, and godump says what it left unread and
// exits 2.
func TestUnfinishedAndDamagedFiles(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	dir := t.TempDir()
	good, data, offs := writeFlows(t, dir, flowfile.LZ4)

	// What a collector leaves when it dies while writing block 2: the
	// provisional header (no blocks, no appendix), two whole blocks and a
	// part of the third.
	cut := bytes.Clone(data[:offs[2]+100])
	binary.LittleEndian.PutUint32(cut[36:], 0) // blocks
	binary.LittleEndian.PutUint16(cut[18:], 0) // appendix blocks
	binary.LittleEndian.PutUint64(cut[24:], 0) // appendix offset
	crashed := filepath.Join(dir, "crashed")
	current := filepath.Join(dir, flowfile.CurrentName(4242))
	require.NoError(t, os.WriteFile(crashed, cut, 0o644))
	require.NoError(t, os.WriteFile(current, cut, 0o644))
	// A collector that has just opened its file and written nothing yet.
	fresh := filepath.Join(dir, flowfile.CurrentName(4243))
	require.NoError(t, os.WriteFile(fresh, cut[:flowfile.HeaderSize], 0o644))
	// Block 1's LZ4 payload is garbage.
	bad := bytes.Clone(data)
	for i := offs[1] + 12; i < offs[1]+2000; i += 5 {
		bad[i] ^= 0xa5
	}
	damaged := filepath.Join(dir, "damaged")
	require.NoError(t, os.WriteFile(damaged, bad, 0o644))

	unclosed := ": not closed by its collector (still being written, or left by a crash)"
	lost := ": 2 data blocks and one cut short after the 0 its header counts are not read, as nfdump does not read them\n"
	for _, tc := range []struct {
		file, args, stderr string
		code               int
	}{
		{crashed, "-o null", "godump: warning: " + crashed + unclosed + lost, 0},
		{current, "-s srcip/bytes", "godump: warning: " + current + unclosed + lost, 0},
		{fresh, "-o line", "godump: warning: " + fresh + unclosed + "\n", 0},
		{good, "-o null", "", 0},
		{damaged, "-s srcip/bytes -n 3", "godump: " + damaged + ": block 1 at offset " + strconv.Itoa(offs[1]) +
			": lz4: lz4: invalid source or destination buffer too short\n" +
			"godump: " + damaged + ": the rest of the file is not read: 2 of its 3 data blocks, from block 1 on\n", exitInput},
		{damaged, "-o null -c 100", "", 0}, // -c stops before the damage
	} {
		args := append([]string{"-r", tc.file}, strings.Fields(tc.args)...)
		want, got := nfdump(t, args...), godump(args...)
		assert.Equal(t, want.stdout, got.stdout, "godump %v", args)
		assert.Equal(t, result{got.stdout, tc.stderr, tc.code}, got, "godump %v", args)
	}
	// -E reads the records too.
	want, got := nfdump(t, "-E", crashed), godump("-E", crashed)
	assert.Equal(t, result{want.stdout, "godump: warning: " + crashed + unclosed + lost, 0}, got)
}

// TestVerifyDamagedLikeNfdump: -v finds what nfdump -v finds in damaged
// files of each compression, with its report and exit status; on stderr
// godump prints nfdump's messages, less those of nfdump's compression
// libraries.
func TestVerifyDamagedLikeNfdump(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	dir := t.TempDir()
	for _, comp := range []flowfile.Compression{flowfile.None, flowfile.LZO, flowfile.BZ2, flowfile.LZ4} {
		_, data, offs := writeFlows(t, dir, comp)
		variants := map[string][]byte{}
		// Garbage in block 1's payload.
		b := bytes.Clone(data)
		for i := offs[1] + 12 + 100; i < offs[1]+2000; i += 5 {
			b[i] ^= 0xa5
		}
		variants["garbage"] = b
		// The file cut inside block 2.
		variants["cut"] = bytes.Clone(data[:offs[2]+300])
		// Block 0 claims one record more than it holds.
		b = bytes.Clone(data)
		binary.LittleEndian.PutUint32(b[offs[0]:], binary.LittleEndian.Uint32(b[offs[0]:])+1)
		variants["count"] = b
		// The appendix offset points into block 2.
		b = bytes.Clone(data)
		binary.LittleEndian.PutUint64(b[24:], uint64(offs[2]+8))
		variants["appendix"] = b
		// Bytes after the appendix.
		variants["extra"] = append(bytes.Clone(data), 1, 2, 3)
		// A block of an unknown type.
		b = bytes.Clone(data)
		binary.LittleEndian.PutUint16(b[offs[1]+8:], 9)
		variants["type"] = b
		for name, v := range variants {
			p := filepath.Join(dir, comp.String()+"-"+name)
			require.NoError(t, os.WriteFile(p, v, 0o644))
			want, got := nfdump(t, "-v", p), godump("-v", p)
			assert.Equal(t, want.stdout, got.stdout, "-v %s", p)
			assert.Equal(t, want.code, got.code, "-v %s", p)
			for _, l := range strings.SplitAfter(got.stderr, "\n") {
				assert.Contains(t, want.stderr, l, "-v %s", p)
			}
		}
	}
}

// TestExportersLikeNfdump: -E on a file with IPv4 and IPv6 exporters,
// with and without statistics, samplers of every kind, and records of
// unknown exporters, prints what nfdump -E prints.
func TestExportersLikeNfdump(t *testing.T) {
	testutil.RequireTool(t, "nfdump")
	p := filepath.Join(t.TempDir(), "exporters")
	w, err := flowfile.Create(p, flowfile.WriteOptions{})
	require.NoError(t, err)
	v4, v6 := netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("2001:db8::7")
	for _, e := range []flow.Exporter{
		{Version: 5, Addr: v4, SysID: 1, ID: 258}, {Version: 10, Addr: v6, SysID: 2, ID: 7},
		{Version: 9, Addr: v6, SysID: 3, ID: 12}, {Version: 9, Addr: v4, SysID: 4, ID: 1},
	} {
		require.NoError(t, w.WriteExporter(&e))
	}
	for _, s := range []flow.Sampler{
		{ExporterSysID: 1, ID: flow.SamplerGeneric, PacketInterval: 1, SpaceInterval: 9},
		{ExporterSysID: 2, ID: flow.SamplerDefault, PacketInterval: 1, SpaceInterval: 99},
		{ExporterSysID: 3, ID: flow.SamplerOverwrite, PacketInterval: 1, SpaceInterval: 4},
		{ExporterSysID: 4, ID: 17, Algorithm: 2, PacketInterval: 2, SpaceInterval: 98},
		{ExporterSysID: 9, ID: 1, PacketInterval: 1},
	} {
		require.NoError(t, w.WriteSampler(&s))
	}
	require.NoError(t, w.WriteFlow(&flow.Record{Proto: 6, ExporterID: 1}))
	require.NoError(t, w.WriteExporterStats([]flow.ExporterStat{
		{SysID: 1, SequenceFailures: 2, Packets: 10, Flows: 300}, {SysID: 2, Packets: 3, Flows: 40},
		{SysID: 8, Packets: 1, Flows: 1},
	}))
	require.NoError(t, w.Close())
	assert.Equal(t, nfdump(t, "-E", p), godump("-E", p))
}
