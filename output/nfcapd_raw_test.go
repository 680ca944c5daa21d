package output

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/internal/testutil"
)

// TestCollectorPrinterMatchesEELog prints the flows of the file nfcapd
// 1.7.1 -E wrote in nfcapd-tests/EE and compares them with what it printed
// on stdout while receiving them (EE.log), byte for byte.
func TestCollectorPrinterMatchesEELog(t *testing.T) {
	old := time.Local
	defer func() { time.Local = old }()
	time.Local = time.UTC
	dir := filepath.Join(testutil.NfcapdSamples(t), "nfcapd-tests")
	log, err := os.ReadFile(filepath.Join(dir, "EE.log"))
	require.NoError(t, err)
	// EE.log is stdout and stderr together; nfcapd's last stderr lines
	// landed inside a stdout line when it flushed stdout at exit.
	want := strings.Replace(string(log), "Ident: 'none' Flows: 30, Packets: 131, Bytes: 92873, Sequence Errors: 0, Bad Packets: 0\nTerminating nfcapd.\n", "", 1)
	start := strings.Index(want, "\nFlow Record: \n")
	end := strings.Index(want, "File Block Header:")
	require.True(t, start > 0 && end > start)
	want = want[start:end]

	r, err := flowfile.Open(filepath.Join(dir, "EE", "nfcapd.202611242145"), flowfile.ReadOptions{})
	require.NoError(t, err)
	defer r.Close()
	var out bytes.Buffer
	p := NewCollectorPrinter(&out)
	n := 0
	for r.Next() {
		if r.Kind() == flowfile.KindFlow {
			require.NoError(t, p.Print(r.Flow()))
			n++
		}
	}
	require.NoError(t, r.Err())
	require.NoError(t, p.Flush())
	assert.Equal(t, 30, n)
	assert.Equal(t, want, out.String())
	// The one place where -E differs from nfdump -o raw in this file: the
	// echo request prints as 0.8.
	assert.Contains(t, out.String(), "  ICMP         =               0.8  type.code\n")
}

// TestCollectorPrinterDetails covers what the nfcapd traffic above does not
// show: elements after EXipReceivedV6 are listed but not printed, the ICMP
// bytes are swapped, and the source ToS is printed as dst tos.
func TestCollectorPrinterDetails(t *testing.T) {
	old := time.Local
	defer func() { time.Local = old }()
	time.Local = time.UTC
	r := flow.Record{
		NFVersion: 10, ExporterID: 2, First: 1795555849000, Last: 1795555850000, Received: 1795555851000,
		Proto: flow.ProtoICMP, DstPort: 3<<8 | 1, SrcTos: 7, DstTos: 9, InPackets: 1, InBytes: 84,
		SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2"),
		Exporter: netip.MustParseAddr("127.0.0.1"), InSrcMAC: 0x0a0b0c0d0e0f, SrcAS: 65000,
	}
	var out bytes.Buffer
	p := NewCollectorPrinter(&out)
	require.NoError(t, p.Print(&r))
	require.NoError(t, p.Flush())
	s := out.String()
	assert.True(t, strings.HasPrefix(s, "\nFlow Record: \n  Flags        =              0x00 NETFLOW v10, Unsampled\n"), s)
	assert.Contains(t, s, "  Elements     =                 6: 1 2 4 7 12 15 \n")
	// 12 + 52 + 12 + 20 + 12 + 8 + 36
	assert.Contains(t, s, "  size         =               152\n")
	assert.Contains(t, s, "  ICMP         =               1.3  type.code\n")
	assert.Contains(t, s, "  dst tos      =                 7\n")
	assert.Contains(t, s, "  src as       =             65000\n")
	assert.NotContains(t, s, "mac")
	assert.NotContains(t, s, "RecordCount")
	assert.True(t, strings.HasSuffix(s, "  ip exporter  =         127.0.0.1\n"), s)
}
