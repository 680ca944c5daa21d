//go:build linux

package packaging

import (
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testutil"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveBuilds()
	os.Exit(code)
}

// TestGoprobeUnitPidFile: goprobe.service runs goprobe as its own user,
// who cannot write fprobe's /var/run/goprobe.pid. The unit gives it a
// runtime directory and the pid file inside it, and goprobe, run as the
// unit runs it (an unprivileged user with CAP_NET_RAW only, capturing on
// an interface), writes its pid there, logs no error, and removes it on
// SIGTERM. Without --pidfile the same goprobe logs "Can't create pid
// file", which is what the unit did before. (systemd itself does not run
// here: the runtime directory is one the test makes, owned by the user.)
func TestGoprobeUnitPidFile(t *testing.T) {
	units := renderUnits(t)
	s := unitSettings(t, filepath.Join(units, "goprobe.service"))
	require.Equal(t, []string{"goprobe"}, s["RuntimeDirectory"])
	require.Len(t, s["ExecStart"], 1)
	argv := strings.Fields(s["ExecStart"][0])
	var pidArg int
	for i, a := range argv {
		if strings.HasPrefix(a, "--pidfile=") {
			pidArg = i
		}
	}
	require.NotZero(t, pidArg, "ExecStart names a pid file: %v", argv)
	pidPath := strings.TrimPrefix(argv[pidArg], "--pidfile=")
	assert.Equal(t, "/run/"+s["RuntimeDirectory"][0], filepath.Dir(pidPath), "the pid file is in the runtime directory")

	setpriv := testutil.RequireTool(t, "setpriv")
	vp := testutil.NewVethPair(t)
	nobody, err := user.Lookup("nobody")
	require.NoError(t, err)
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	// The runtime directory as systemd makes it: the service user's.
	runtime, err := os.MkdirTemp("", "goprobe-run")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(runtime) })
	require.NoError(t, os.Chmod(runtime, 0o755))
	require.NoError(t, os.Chown(runtime, uid, gid))
	var sink net.PacketConn
	require.NoError(t, vp.A.Do(func() { sink, err = net.ListenPacket("udp4", "127.0.0.1:0") }))
	require.NoError(t, err)
	defer sink.Close()
	env := envFileVars(t, "default/goprobe")
	goprobe := testutil.BuildCommand(t, "../cmd/goprobe")

	// run starts goprobe as the unit does, with the unit's arguments but
	// for the pid file, and returns it with its log.
	run := func(pidArgs ...string) (*exec.Cmd, *testutil.SyncBuffer) {
		args := []string{"--reuid=" + nobody.Uid, "--regid=" + nobody.Gid, "--clear-groups",
			"--inh-caps=+net_raw", "--ambient-caps=+net_raw", "--", goprobe}
		for i, a := range argv[1:] {
			switch {
			case i+1 == pidArg:
				args = append(args, pidArgs...)
			case a == "-i${INTERFACE}":
				args = append(args, "-i"+vp.IfA)
			case a == "$OTHER_ARGS":
				args = append(args, strings.Fields(env["OTHER_ARGS"])...)
			case a == "$FLOW_COLLECTOR":
				args = append(args, sink.LocalAddr().String())
			default:
				args = append(args, a)
			}
		}
		cmd := vp.A.Command(setpriv, args...)
		log := &testutil.SyncBuffer{}
		cmd.Stdout, cmd.Stderr = log, log
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		require.Eventually(t, func() bool { return strings.Contains(log.String(), "[INFO]: collector #1: ") },
			20*time.Second, 10*time.Millisecond, "%s", log)
		return cmd, log
	}

	pidFile := filepath.Join(runtime, filepath.Base(pidPath))
	cmd, log := run("--pidfile=" + pidFile)
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err, "%s", log)
	assert.Equal(t, strconv.Itoa(cmd.Process.Pid)+"\n", string(b))
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "%s", log)
	assert.NotContains(t, log.String(), "pid file")
	assert.Contains(t, log.String(), "[INFO]: Done.\n")
	_, err = os.Stat(pidFile)
	assert.ErrorIs(t, err, os.ErrNotExist, "removed at the end")

	// fprobe's pid file, as the unit had it.
	cmd, log = run()
	assert.Contains(t, log.String(), "[ERR]: Can't create pid file.")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "%s", log)
}
