package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestStatBlocksLikeFlowByFlow runs element statistics with the reader's
// workers counting block by block and with counting flow by flow here,
// and wants the same bytes: rows, ties in first-seen order, times, the
// summary and the errors.
func TestStatBlocksLikeFlowByFlow(t *testing.T) {
	lab, random := statFiles(t)
	inSamples(t)
	cmdlines := []string{
		"-r " + lab + " -s srcip/bytes -n 0", "-r " + lab + " -s ip/flows -n 0 -o csv",
		"-r " + lab + " -s dstport:p/bytes/pps/bpp -n 0 -N", "-r " + lab + " -s srcport/bytes:a -n 20",
		"-r " + lab + " -s proto/flows:a", "-r " + lab + " -s srcip/bytes -L -2k -l 3 -n 0",
		"-B -r " + lab + " -s srcip/bytes -s dstip/bytes -s proto/bytes -n 10",
		// The reader applies -t and -c; -s record counts here.
		"-r " + lab + " -s srcip/bytes -t +20 -n 0", "-r " + lab + " -s ip/bytes -t -15 -n 30 -o pipe",
		"-r " + lab + " -s srcip/bytes -c 5000 -n 0",
		// A filter that tests the records' bytes selects in the workers.
		"-r " + lab + " -s srcip/bytes -s dstport:p/flows -n 0 proto tcp", "-R flows -s ip/bytes -s proto -n 0 proto udp or port 53",
		"-r " + random + " -s srcip/packets -n 0 bytes > 1000", "-r " + lab + " -s srcip/bytes -s record/bytes -n 5",
		"-r " + random + " -s ip/bytes -n 0", "-r " + random + " -s mpls2:p/flows -n 0", "-r " + random + " -s insrcmac/bytes -n 50",
		"-R flows -s ip/bytes -n 0", "-R flows -s srcip/bytes -s dstip/flows -s port/packets -s proto -n 0",
		"-R flows-edge -s dstip/bytes -n 0 -o json", "-r " + f9 + " -s srcip -o null",
		"-R flows -s srcip/packets -t 2026/11/24.21:30:00-2026/11/24.21:30:01",
		"-r sample-nfcapd-sampled -s router/flows -n 0", "-r sample-nfcapd-uncompressed -s port -n 0",
		"-r nonexistent -s srcip",
	}
	for _, cl := range cmdlines {
		args := strings.Fields(cl)
		statInWorkers = false
		want := godump(args...)
		statInWorkers = true
		got := godump(args...)
		assert.Equal(t, want, got, "godump %s", cl)
	}
}
