package probe

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfgo/nftools/capture"
	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/internal/pktgen"
)

// TestQueuedCarries: the export queue carries exactly these fields of a
// record, each whole (every bit set survives); the others come out zero.
func TestQueuedCarries(t *testing.T) {
	want := []string{"First", "Last", "InPackets", "InBytes", "SrcAddr", "DstAddr", "SrcPort", "DstPort",
		"Proto", "TCPFlags", "SrcTos", "Input", "Output", "EndReason", "SrcVLAN", "InSrcMAC", "InDstMAC"}
	var carried []string
	typ := reflect.TypeFor[flow.Record]()
	for i := range typ.NumField() {
		var r flow.Record
		f := reflect.ValueOf(&r).Elem().Field(i)
		switch {
		case f.Type() == reflect.TypeFor[netip.Addr]():
			f.Set(reflect.ValueOf(netip.MustParseAddr("2001:db8::ffff:1")))
		case f.Kind() >= reflect.Uint && f.Kind() <= reflect.Uint64:
			f.SetUint(^uint64(0) >> (64 - f.Type().Bits()))
		case f.Kind() == reflect.String:
			f.SetString("label")
		case f.Kind() == reflect.Array:
			f.Index(0).SetUint(1)
		default:
			t.Fatalf("field %s of a kind the test does not fill", typ.Field(i).Name)
		}
		var q queued
		var got flow.Record
		q.pack(&r)
		q.unpack(&got)
		switch got {
		case r:
			carried = append(carried, typ.Field(i).Name)
		case flow.Record{}:
		default:
			t.Errorf("%s came out as %+v", typ.Field(i).Name, got)
		}
	}
	assert.ElementsMatch(t, want, carried)
}

// TestQueuedKeepsCacheFlows: every flow the probe's flow cache exports
// comes out of the queue as it went in (IPv4 and IPv6, TCP, UDP and
// ICMP, tagged and untagged frames, interfaces set), unpacked into a
// record used before.
func TestQueuedKeepsCacheFlows(t *testing.T) {
	var buf bytes.Buffer
	g := pktgen.NewTraffic(5, pktgen.Start)
	w := pktgen.NewPcap(&buf, 1, pktgen.PcapOptions{SnapLen: 128})
	for range 20000 {
		w.Write(g.Next())
	}
	require.NoError(t, w.Err())
	src, err := capture.NewFileSource(&buf, "test")
	require.NoError(t, err)
	cfg := capture.CacheConfig{Idle: 60 * time.Second, Active: 300 * time.Second, Fragment: 30 * time.Second,
		Input: 3, Output: 65537}
	var got flow.Record
	n, v6, vlan := 0, 0, 0
	m := newCaptureMeter(src, MeterConfig{Cache: cfg}, func(r *flow.Record, _ capture.ExpiryReason) {
		var q queued
		q.pack(r)
		q.unpack(&got)
		require.Equal(t, *r, got)
		n++
		if r.SrcAddr.Is6() {
			v6++
		}
		if r.SrcVLAN != 0 {
			vlan++
		}
	})
	for {
		if _, err := m.Read(); err != nil {
			break
		}
	}
	m.Flush()
	assert.Positive(t, n)
	assert.Positive(t, v6, "IPv6 flows")
	assert.Positive(t, vlan, "tagged flows")
}
