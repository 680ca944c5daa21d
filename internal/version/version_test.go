package version

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBanner(t *testing.T) {
	assert.Equal(t, "godump: Version: "+Version, Banner("godump"))
}

// TestBinaries builds the three commands the way a release does (gocapd
// and godump without cgo, goprobe with it for libpcap) with the version set
// by -ldflags -X, and runs them: -V must show that version and an unknown
// option must exit 1 from main.
func TestBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the commands")
	}
	goTool, err := exec.LookPath("go")
	require.NoError(t, err)
	bin := t.TempDir()
	for cgo, cmds := range map[string][]string{"0": {"./cmd/godump", "./cmd/gocapd"}, "1": {"./cmd/goprobe"}} {
		build := exec.Command(goTool, append([]string{"build", "-o", bin + string(filepath.Separator),
			"-ldflags", "-X github.com/nfgo/nftools/internal/version.Version=9.8.7-test"}, cmds...)...)
		build.Dir = filepath.Join("..", "..")
		build.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
		out, err := build.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}

	for _, cmd := range []string{"godump", "gocapd", "goprobe"} {
		t.Run(cmd, func(t *testing.T) {
			out, err := exec.Command(filepath.Join(bin, cmd), "-V").Output()
			require.NoError(t, err)
			assert.Equal(t, cmd+": Version: 9.8.7-test\n", string(out))

			c := exec.Command(filepath.Join(bin, cmd), "-W")
			out, err = c.CombinedOutput()
			var exitErr *exec.ExitError
			require.True(t, errors.As(err, &exitErr), "want a non-zero exit, got %v", err)
			assert.Equal(t, 1, exitErr.ExitCode())
			assert.Equal(t, cmd+": invalid option -- 'W'\nTry '"+cmd+" -h' for help.\n", string(out))
		})
	}
}
