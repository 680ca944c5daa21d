package capture

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPureGo: capture builds without cgo and without gopacket, whose
// layers package would double gocapd's idle memory (gocapd's -f reads
// capture files through this package).
func TestPureGo(t *testing.T) {
	goTool, err := exec.LookPath("go")
	require.NoError(t, err)
	cmd := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", ".", "../cmd/gocapd", "../cmd/godump")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, dep := range strings.Fields(string(out)) {
		assert.NotContains(t, dep, "gopacket")
		assert.NotEqual(t, "github.com/nfgo/nftools/capture/pcap", dep)
	}
	assert.Contains(t, strings.Fields(string(out)), "github.com/nfgo/nftools/flow")
}
