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

func TestDeterministic(t *testing.T) {
	a, b := Captures(), Captures()
	assert.Equal(t, a, b)
}
