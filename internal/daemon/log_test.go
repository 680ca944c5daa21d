package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syslogSocket listens where a test logger sends its syslog lines and
// returns the socket's path and a function that reads the next line.
func syslogSocket(t *testing.T) (string, func() string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	buf := make([]byte, 4096)
	return path, func() string {
		t.Helper()
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
		n, err := conn.Read(buf)
		require.NoError(t, err)
		return string(buf[:n])
	}
}

func TestLoggerLevelsAndPrefix(t *testing.T) {
	var out bytes.Buffer
	l, err := NewLogger(LogConfig{Stream: &out, MaxLevel: LevelInfo, LevelPrefix: true})
	require.NoError(t, err)
	l.Logf(LevelWarning, "Filter expression is empty! Are you sure?")
	l.Infof("Starting %s...", "1.1")
	l.Logf(LevelDebug, "not logged: -v 6 stops at INFO")
	l.Errorf("send failed\n")
	l.Logf(LevelCrit, "pcap_open_live(): %s", "no such device")
	assert.Equal(t, "[WARNING]: Filter expression is empty! Are you sure?\n"+
		"[INFO]: Starting 1.1...\n"+
		"[ERR]: send failed\n"+
		"[CRIT]: pcap_open_live(): no such device\n", out.String())
}

func TestLoggerMaxLevel(t *testing.T) {
	for _, tc := range []struct {
		max  Level
		want string
	}{
		{LevelEmerg, "EMERG\n"},
		{LevelErr, "EMERG\nCRIT\nERR\n"},
		{LevelDebug, "EMERG\nCRIT\nERR\nINFO\nDEBUG\n"},
	} {
		var out bytes.Buffer
		l, err := NewLogger(LogConfig{Stream: &out, MaxLevel: tc.max})
		require.NoError(t, err)
		for _, lv := range []Level{LevelEmerg, LevelCrit, LevelErr, LevelInfo, LevelDebug} {
			l.Logf(lv, "%s", lv)
		}
		assert.Equal(t, tc.want, out.String(), "max %s", tc.max)
	}
}

// formatCount counts how often fmt formats it.
type formatCount struct{ n *int }

func (f formatCount) String() string { *f.n++; return "x" }

// TestLoggerNowhere: a logger with neither a stream nor syslog (goprobe
// -l 0) does not format its messages; one with a stream does.
func TestLoggerNowhere(t *testing.T) {
	n := 0
	l, err := NewLogger(LogConfig{MaxLevel: LevelDebug})
	require.NoError(t, err)
	l.Logf(LevelInfo, "%v", formatCount{&n})
	assert.Zero(t, n)
	var out bytes.Buffer
	l, err = NewLogger(LogConfig{Stream: &out, MaxLevel: LevelDebug})
	require.NoError(t, err)
	l.Logf(LevelInfo, "%v", formatCount{&n})
	assert.Equal(t, 1, n)
	assert.Equal(t, "x\n", out.String())
}

func TestLevelString(t *testing.T) {
	assert.Equal(t, "EMERG", LevelEmerg.String())
	assert.Equal(t, "NOTICE", LevelNotice.String())
	assert.Equal(t, "DEBUG", LevelDebug.String())
	assert.Equal(t, "LEVEL9", Level(9).String())
}

// TestLoggerSyslogAndStream: -l 3 logs to both; syslog gets the priority of
// each level with facility daemon and the tag with the pid, as fprobe's
// "fprobe[id][pid]" ident.
func TestLoggerSyslogAndStream(t *testing.T) {
	path, next := syslogSocket(t)
	var out bytes.Buffer
	l, err := NewLogger(LogConfig{Stream: &out, Syslog: true, Tag: "goprobe[test]",
		SyslogNetwork: "unixgram", SyslogAddr: path, MaxLevel: LevelInfo, LevelPrefix: true})
	require.NoError(t, err)
	defer l.Close()
	l.Infof("pid: %d", 42)
	l.Logf(LevelErr, "send(): refused")
	pid := strconv.Itoa(os.Getpid())
	// The local syslog format: <facility daemon (3) * 8 + priority>, the
	// time stamp, tag[pid]: message.
	stamp := `^<%d>\w{3} [ \d]\d \d\d:\d\d:\d\d `
	assert.Regexp(t, regexp.MustCompile(fmt.Sprintf(stamp, 30)+`goprobe\[test\]\[`+pid+`\]: \[INFO\]: pid: 42\n?$`), next())
	assert.Regexp(t, regexp.MustCompile(fmt.Sprintf(stamp, 27)+`goprobe\[test\]\[`+pid+`\]: \[ERR\]: send\(\): refused\n?$`), next())
	assert.Equal(t, "[INFO]: pid: 42\n[ERR]: send(): refused\n", out.String())
}

func TestLoggerSyslogUnreachable(t *testing.T) {
	_, err := NewLogger(LogConfig{Syslog: true, Tag: "goprobe", SyslogNetwork: "unixgram",
		SyslogAddr: filepath.Join(t.TempDir(), "nothing-listens-here")})
	assert.ErrorContains(t, err, "syslog: ")
}

func TestStrerror(t *testing.T) {
	assert.Equal(t, "Cannot assign requested address", Strerror(syscall.EADDRNOTAVAIL))
	assert.Equal(t, "Connection refused", Strerror(fmt.Errorf("write: %w", syscall.ECONNREFUSED)))
	assert.Equal(t, "not a system error", Strerror(errors.New("not a system error")))
}

// TestLoggerSyslogReconnects: when the syslog daemon's socket goes away
// and comes back (the daemon restarted), the next message reaches the
// new one, as with log/syslog, which the logger wrote through before.
func TestLoggerSyslogReconnects(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	first, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	l, err := NewLogger(LogConfig{Syslog: true, Tag: "gocapd", SyslogNetwork: "unixgram", SyslogAddr: path, MaxLevel: LevelDebug})
	require.NoError(t, err)
	defer l.Close()
	first.Close()
	require.NoError(t, os.Remove(path))
	second, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	defer second.Close()
	l.Logf(LevelDebug, "after the restart")
	require.NoError(t, second.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 512)
	n, err := second.Read(buf)
	require.NoError(t, err)
	assert.Regexp(t, `^<31>\w{3} [ \d]\d \d\d:\d\d:\d\d gocapd\[\d+\]: after the restart\n$`, string(buf[:n]))
}
