package output

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/testutil"
)

// sampleFiles lists the nfcapd files of the shared samples.
func sampleFiles(t *testing.T) []string {
	root := testutil.NfcapdSamples(t)
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, "nfcapd.2") || (strings.HasPrefix(name, "sample-nfcapd-") && !strings.Contains(name, ".")) {
			files = append(files, p)
		}
		return nil
	})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 20)
	return files
}

// randomAddr returns a random IPv4 or IPv6 address.
func randomAddr(rng *rand.Rand, v6 bool) netip.Addr {
	if v6 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		switch rng.IntN(6) {
		case 0: // ::a.b.c.d, printed with a dotted quad
			copy(b[:12], make([]byte, 12))
		case 1: // long zero runs
			copy(b[4:12], make([]byte, 8))
		case 2:
			b[0] = 0x20
		}
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
}

// randomRecord builds a flow with a random choice of elements filled with
// random values, as the reader returns it (adapted from flowfile's).
func randomRecord(rng *rand.Rand) flow.Record {
	u64 := func() uint64 { return rng.Uint64() >> uint(rng.IntN(64)) }
	u32 := func() uint32 { return uint32(u64()) }
	u8 := func() uint8 { return uint8(rng.IntN(256)) }
	v6 := rng.IntN(3) == 0
	first := uint64(1_700_000_000_000 + rng.Int64N(100_000_000_000))
	dur := []uint64{0, 1, 999, 1000, uint64(rng.IntN(300_000)), 90_000_125, 3 * 86400_000}[rng.IntN(7)]
	r := flow.Record{
		NFVersion: []uint8{1, 5, 9, 10}[rng.IntN(4)], Flags: uint8(rng.IntN(8)),
		EngineType: u8(), EngineID: u8(), ExporterID: uint16(1 + rng.IntN(3)),
		First: first, Last: first + dur, Received: first + 300_000,
		InPackets: u64(), InBytes: u64(),
		SrcAddr: randomAddr(rng, v6), DstAddr: randomAddr(rng, v6),
		SrcPort: uint16(rng.IntN(65536)), DstPort: uint16(rng.IntN(65536)),
		Proto: []uint8{1, 6, 17, 58, 47, 0, 200, 137}[rng.IntN(8)], TCPFlags: u8(), FwdStatus: u8(), SrcTos: u8(),
	}
	if rng.IntN(8) == 0 {
		r.Last = first - uint64(rng.IntN(1000)) // last before first
	}
	e := flow.Elements(0).With(flow.ElemGeneric)
	if v6 {
		e = e.With(flow.ElemIPv6)
	} else {
		e = e.With(flow.ElemIPv4)
	}
	pick := func(id int) bool {
		if rng.IntN(2) == 0 {
			return false
		}
		e = e.With(id)
		return true
	}
	if pick(flow.ElemMisc) {
		r.Input, r.Output = u32(), u32()
		if v6 {
			r.SrcMask, r.DstMask = uint8(rng.IntN(33)), uint8(rng.IntN(33))
		} else {
			r.SrcMask, r.DstMask = uint8(rng.IntN(33)), uint8(rng.IntN(33))
		}
		r.Dir, r.DstTos, r.BiFlowDir, r.EndReason = u8()%2, u8(), u8()%5, u8()%7
	}
	if pick(flow.ElemCounters) {
		r.Flows, r.OutPackets, r.OutBytes = u64(), u64(), u64()
	}
	if pick(flow.ElemVLAN) {
		r.SrcVLAN, r.DstVLAN = u32()%4096, u32()%4096
	}
	if pick(flow.ElemAS) {
		r.SrcAS, r.DstAS = u32(), u32()
	}
	addrElem := func(v4, v6 int, a *netip.Addr) {
		if rng.IntN(2) == 0 {
			return
		}
		six := rng.IntN(2) == 0
		*a = randomAddr(rng, six)
		if six {
			e = e.With(v6)
		} else {
			e = e.With(v4)
		}
	}
	addrElem(flow.ElemBGPNextHopV4, flow.ElemBGPNextHopV6, &r.BGPNextHop)
	addrElem(flow.ElemIPNextHopV4, flow.ElemIPNextHopV6, &r.IPNextHop)
	addrElem(flow.ElemExporterIPv4, flow.ElemExporterIPv6, &r.Exporter)
	if pick(flow.ElemMPLS) {
		for i := range r.MPLS[:1+rng.IntN(10)] {
			r.MPLS[i] = u32() & 0xffffff
		}
	}
	if pick(flow.ElemMAC) {
		r.InSrcMAC, r.OutDstMAC, r.InDstMAC, r.OutSrcMAC = u64()&0xffffffffffff, u64()&0xffffffffffff, u64()&0xffffffffffff, u64()&0xffffffffffff
	}
	if pick(flow.ElemAdjacentAS) {
		r.NextAS, r.PrevAS = u32(), u32()
	}
	if pick(flow.ElemLatency) {
		r.ClientNwDelay, r.ServerNwDelay, r.ApplLatency = u64()>>20, u64()>>20, u64()>>20
	}
	r.Elements = e
	return r
}

// writeRandomFile writes n random flows to a new file in dir.
func writeRandomFile(t *testing.T, dir string, seed uint64, n int) string {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	path := filepath.Join(dir, "nfcapd.random")
	w, err := flowfile.Create(path, flowfile.WriteOptions{})
	require.NoError(t, err)
	for i := 0; i < n; i++ {
		r := randomRecord(rng)
		require.NoError(t, w.WriteFlow(&r))
	}
	require.NoError(t, w.Close())
	return path
}

// ourOutput prints every flow of path with opts, the way godump's listing
// does: Begin, Print each flow, End with nfdump's summary.
func ourOutput(t *testing.T, path string, opts Options) string {
	t.Helper()
	var out bytes.Buffer
	p, err := New(&out, opts)
	require.NoError(t, err)
	r, err := flowfile.Open(path, flowfile.ReadOptions{})
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, p.Begin())
	var s Summary
	for r.Next() {
		if r.Kind() != flowfile.KindFlow {
			continue
		}
		f := r.Flow()
		s.Processed++
		s.Passed++
		s.Add(f)
		require.NoError(t, p.Print(f))
	}
	require.NoError(t, r.Err())
	s.BytesRead = r.BytesRead()
	s.WindowFirst, s.WindowLast = r.Stat().FirstSeen, r.Stat().LastSeen
	s.Wall = time.Millisecond
	require.NoError(t, p.End(&s))
	return out.String()
}

// nfdumpOutput runs the real nfdump on path.
func nfdumpOutput(t *testing.T, nfdump, tz, path string, args ...string) string {
	t.Helper()
	cmd := exec.Command(nfdump, append([]string{"-r", path}, args...)...)
	cmd.Env = append(os.Environ(), "TZ="+tz)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "nfdump %v: %s", args, stderr.String())
	return stdout.String()
}

// withoutTiming drops the Sys: line, the only one allowed to differ.
func withoutTiming(s string) string {
	lines := strings.SplitAfter(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(l, "Sys: ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// sameOutput compares and reports the first differing line.
func sameOutput(t *testing.T, want, got string, what string) {
	t.Helper()
	want, got = withoutTiming(want), withoutTiming(got)
	if want == got {
		return
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			t.Errorf("%s: line %d differs\nnfdump: %q\ngodump: %q", what, i+1, w, g)
			return
		}
	}
}

// maskCSVNextHopBGP6 blanks the csv nhb column where we print an IPv6 BGP
// next hop: nfdump 1.7.1 prints the IP next hop there (our deliberate fix).
func maskCSVNextHopBGP6(want, got string) (string, string) {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	if len(wl) != len(gl) {
		return want, got
	}
	for i := range gl {
		wf, gf := strings.Split(wl[i], ","), strings.Split(gl[i], ",")
		if len(wf) == 48 && len(gf) == 48 && strings.Contains(gf[24], ":") {
			wf[24], gf[24] = "nhb", "nhb"
			wl[i], gl[i] = strings.Join(wf, ","), strings.Join(gf, ",")
		}
	}
	return strings.Join(wl, "\n"), strings.Join(gl, "\n")
}

type goldenCase struct {
	args []string // nfdump options after -r FILE
	opts Options
}

// allTokens is a fmt: format with every token of nfdump 1.7.1 (%ter is
// tested on its own: we fix it).
const allTokens = "%nfv|%cnt|%tfs|%ts|%tsr|%te|%tr|%trr|%td|%tds|%exp|%pr|%sa|%da|%gsa|%gda|%sn|%dn|%nh|%nhb|%ra|%sap|%dap|%gsap|%gdap|%sp|%dp|%it|%ic|%sas|%das|%nas|%pas|%in|%inam|%out|%onam|%pkt|%ipkt|%opkt|%byt|%ibyt|%obyt|%fl|%flg|%tos|%stos|%dtos|%dir|%smk|%dmk|%fwd|%bfd|%end|%svln|%dvln|%ismc|%odmc|%idmc|%osmc|%mpls1|%mpls2|%mpls3|%mpls4|%mpls5|%mpls6|%mpls7|%mpls8|%mpls9|%mpls10|%mpls|%bps|%pps|%bpp|%eng|%lbl|%sc|%dc|%sloc|%dloc|%n|%ipl|%opl|%nbid|%ja3|%sni|%nbnam|%odid|%opid|%vrf|%ivrf|%ivrfnam|%evrf|%evrfnam|%nfc|%tevt|%evt|%xevt|%sgt|%msec|%iacl|%eacl|%xsa|%xda|%xsp|%xdp|%xsap|%xdap|%uname|%nevt|%nsa|%nda|%nsp|%ndp|%nsap|%ndap|%pbstart|%pbend|%pbstep|%pbsize|%cl|%sl|%al"

// The sn/dn tokens mask the addresses in place for the tokens after them;
// this format shows it.
const maskTokens = "%sn %sa %dap %dn %da %sap"

func goldenCases() []goldenCase {
	var cs []goldenCase
	add := func(mode string, flags ...string) {
		o := Options{Mode: mode}
		for _, f := range flags {
			switch f {
			case "-q":
				o.Quiet = true
			case "-N":
				o.PlainNumbers = true
			case "-6":
				o.IPv6Long = true
			case "-T":
				o.NfSen = true
			}
		}
		cs = append(cs, goldenCase{args: append([]string{"-o", mode}, flags...), opts: o})
	}
	for _, m := range []string{"raw", "line", "long", "extended", "biline", "bilong", "nsel", "nel", "csv", "json", "pipe", "null",
		"line6", "long6", "extended6", "biline6", "bilong6", "nsel6", "nel6", "csv6", "pipe6", "raw6", "LINE",
		"fmt:" + allTokens, "fmt:" + maskTokens, "fmt:%line %ra", "fmt:%ts %long", "%ts %sap", "fmt:%mpls10 %pkt2"} {
		add(m)
		add(m, "-q")
	}
	for _, m := range []string{"line", "long", "extended", "biline", "bilong", "nsel", "nel", "csv", "raw", "null", "fmt:" + allTokens} {
		add(m, "-N")
		add(m, "-6")
		add(m, "-T")
		add(m, "-N", "-6", "-q")
	}
	return cs
}

func TestGoldenAgainstNfdump(t *testing.T) {
	nfdump := testutil.RequireTool(t, "nfdump")
	files := sampleFiles(t)
	dir := t.TempDir()
	files = append(files, writeRandomFile(t, dir, 1, 400), writeRandomFile(t, t.TempDir(), 11, 2000))
	old := time.Local
	defer func() { time.Local = old }()
	time.Local = time.UTC
	for _, f := range files {
		for _, c := range goldenCases() {
			want := nfdumpOutput(t, nfdump, "UTC", f, c.args...)
			if c.opts.Quiet && c.opts.Mode == "json" {
				// deliberate: we keep the brackets with -q
				want = "[\n" + strings.Replace(want, "No matching flows\n", "", 1) + "]\n"
			}
			got := ourOutput(t, f, c.opts)
			if strings.HasPrefix(c.opts.Mode, "csv") {
				want, got = maskCSVNextHopBGP6(want, got)
			}
			name := strings.Join(c.args, " ")
			if len(name) > 60 {
				name = name[:60] + "..."
			}
			sameOutput(t, want, got, filepath.Base(f)+" "+name)
		}
	}
}

func TestGoldenOtherTimezone(t *testing.T) {
	nfdump := testutil.RequireTool(t, "nfdump")
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata for Europe/Berlin")
	}
	files := sampleFiles(t)
	files = append(files, writeRandomFile(t, t.TempDir(), 2, 100))
	old := time.Local
	defer func() { time.Local = old }()
	time.Local = berlin
	for _, f := range files {
		for _, mode := range []string{"line", "csv", "json", "raw", "fmt:%tr %te %tevt", "nsel"} {
			want := nfdumpOutput(t, nfdump, "Europe/Berlin", f, "-o", mode)
			got := ourOutput(t, f, Options{Mode: mode})
			if mode == "csv" {
				want, got = maskCSVNextHopBGP6(want, got)
			}
			sameOutput(t, want, got, "Europe/Berlin "+filepath.Base(f)+" "+mode)
		}
	}
}
