package main

import (
	"debug/elf"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/internal/testutil"
)

// TestLibpcapOnDemand: goprobe does not need libpcap to start (the program
// names no libpcap among its libraries), and reading a capture file or
// stdin without -f never loads it (the dynamic loader's LD_DEBUG=files
// trace names none): the loader's work for libpcap and its eight
// libraries was a fifth of a start. -f loads it, and filters with it.
func TestLibpcapOnDemand(t *testing.T) {
	bin := goprobeBin(t)
	f, err := elf.Open(bin)
	require.NoError(t, err)
	libs, err := f.ImportedLibraries()
	f.Close()
	require.NoError(t, err)
	assert.Contains(t, libs, "libc.so.6")
	for _, l := range libs {
		assert.NotContains(t, l, "libpcap", "goprobe links %s", l)
	}

	sink, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(testutil.FreeUDPPort(t)))
	require.NoError(t, err)
	defer sink.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := sink.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	c := writeCapture(t, 8, 200, false)
	tests := []struct {
		name  string
		args  []string
		stdin bool
		loads bool
	}{
		{"read", []string{"--read", c.path}, false, false},
		{"stdin", []string{"-i", "-"}, true, false},
		{"read with a filter", []string{"--read", c.path, "-f", "udp"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, append(tt.args, "-l", "2", "-n", "9", sink.LocalAddr().String())...)
			cmd.Env = append(os.Environ(), "LD_DEBUG=files")
			if tt.stdin {
				in, err := os.Open(c.path)
				require.NoError(t, err)
				defer in.Close()
				cmd.Stdin = in
			}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			// The trace is there: the C library is always loaded.
			require.Contains(t, string(out), "file=libc.so.6")
			assert.Equal(t, tt.loads, strings.Contains(string(out), "file=libpcap"), "%s", out)
		})
	}
}

// TestLibpcapMissing: where libpcap cannot be loaded, a live capture fails
// at start with the loader's reason, naming the library and the
// interface, and exits 1. Empty files stand for every name goprobe tries.
func TestLibpcapMissing(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"libpcap.so.0.8", "libpcap.so.1", "libpcap.so.8", "libpcap.so"} {
		require.NoError(t, os.WriteFile(dir+"/"+name, nil, 0o644))
	}
	cmd := exec.Command(goprobeBin(t), "-i", "lo", "-l", "2", "127.0.0.1:9")
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, string(out), "[CRIT]: pcap_open_live(): lo: cannot load libpcap: "+dir+"/libpcap.so.0.8: file too short")
}
