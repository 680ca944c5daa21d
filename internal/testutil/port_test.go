package testutil

import (
	"testing"
)

// A port FreeUDPPort hands out is held against every other test process
// (a lock another open of its file cannot take, as another process's
// could not) until the test that asked for it ends, and then free again.
func TestFreeUDPPortHeldUntilTheTestEnds(t *testing.T) {
	var port int
	t.Run("holder", func(t *testing.T) {
		port = FreeUDPPort(t)
		if port < portLow || port >= portHigh {
			t.Fatalf("port %d outside [%d, %d)", port, portLow, portHigh)
		}
		if f, ok := lockPort(port); ok {
			f.Close()
			t.Fatalf("port %d could be locked again while its test runs", port)
		}
	})
	f, ok := lockPort(port)
	if !ok {
		t.Fatalf("port %d still held after its test ended", port)
	}
	f.Close()
}
