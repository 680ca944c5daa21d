package collector

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpandCommand(t *testing.T) {
	start := time.Date(2026, 11, 24, 21, 44, 35, 0, time.UTC)
	v := CommandVars{Dir: "/flows", File: "2026/11/24/nfcapd.20261124214435", Slot: "20261124214435", Start: start, Ident: "x ident;rm -rf /"}
	argv, unknown := ExpandCommand("/bin/x.sh\t%d %f  %t %u %i %q %% pre%fpost 100%", v)
	assert.Equal(t, []string{"/bin/x.sh", "/flows", "2026/11/24/nfcapd.20261124214435", "20261124214435", "1795556675",
		"x ident;rm -rf /", "%q", "%%", "pre2026/11/24/nfcapd.20261124214435post", "100%"}, argv)
	assert.Equal(t, []string{"%q", "%%"}, unknown)
	assert.Equal(t, []string{"%q"}, CheckCommand("a %q %d"))
}

func TestParseSource(t *testing.T) {
	s, err := ParseSource("r1,10.0.0.1,/a")
	require.NoError(t, err)
	assert.Equal(t, "r1", s.Ident)
	assert.Equal(t, "10.0.0.1", s.Addr.String())
	for _, bad := range []string{"r1,10.0.0.1", "r1,x,/a", ",10.0.0.1,/a", "a,b,c,d"} {
		_, err := ParseSource(bad)
		assert.Error(t, err, bad)
	}
}
