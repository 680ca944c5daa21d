package pktgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testutil"
)

// TestCapturesPassTshark: tshark reads every test capture and finds every
// checksum right; the only malformed frames are the ones made so on
// purpose.
func TestCapturesPassTshark(t *testing.T) {
	tshark := testutil.RequireTool(t, "tshark")
	// The frame that is broken on purpose: the raw frame that is no IP.
	broken := map[string][]string{"links.pcapng": {"14"}}
	for _, c := range Captures() {
		t.Run(c.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), c.Name)
			require.NoError(t, os.WriteFile(path, c.Data, 0o644))
			out, err := exec.Command(tshark, "-r", path,
				"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
				"-Y", "_ws.expert.severity >= error", "-T", "fields", "-e", "frame.number").Output()
			require.NoError(t, err)
			assert.Equal(t, strings.Join(broken[c.Name], " "), strings.Join(strings.Fields(string(out)), " "))
		})
	}
}

func TestCapturesDeterministic(t *testing.T) {
	a, b := Captures(), Captures()
	assert.Equal(t, a, b)
}

// TestTraffic: the generated traffic is deterministic, in time order and
// of the promised mix.
func TestTraffic(t *testing.T) {
	a, b := NewTraffic(1, Start), NewTraffic(1, Start)
	last := Start
	var v6, vlan int
	protos := map[byte]int{}
	for i := 0; i < 20000; i++ {
		ta, fa := a.Next()
		tb, fb := b.Next()
		require.Equal(t, ta, tb)
		require.Equal(t, fa, fb)
		require.Greater(t, ta, last)
		last = ta
		ip := fa[14:]
		if fa[12] == 0x81 {
			vlan++
			ip = fa[18:]
		}
		if ip[0]>>4 == 6 {
			v6++
			protos[ip[6]]++
		} else {
			protos[ip[9]]++
		}
	}
	assert.InDelta(t, 5000, v6, 1000)
	assert.InDelta(t, 4000, vlan, 1000)
	assert.Greater(t, protos[ProtoTCP], protos[ProtoUDP])
	assert.Positive(t, protos[ProtoICMP])
	assert.Positive(t, protos[ProtoICMPv6])
}

func TestIPv4Traffic(t *testing.T) {
	g := NewIPv4Traffic(1, Start)
	protos := map[byte]int{}
	for i := 0; i < 20000; i++ {
		_, f := g.Next()
		require.Equal(t, []byte{0x08, 0x00}, f[12:14], "frame %d: IPv4 behind a plain Ethernet header", i)
		require.Equal(t, byte(4), f[14]>>4)
		protos[f[14+9]]++
	}
	assert.Greater(t, protos[ProtoTCP], protos[ProtoUDP])
	assert.Positive(t, protos[ProtoICMP])
}
