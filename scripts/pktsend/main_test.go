package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	ok := config{Count: 10, Ring: 64, Batch: 32}
	for _, tc := range []struct {
		name string
		edit func(*config)
		want string
	}{
		{"fine", func(*config) {}, ""},
		{"no end", func(c *config) { c.Count = 0 }, "give a duration"},
		{"negative rate", func(c *config) { c.Rate = -1 }, "must not be negative"},
		{"no batch", func(c *config) { c.Batch = 0 }, "batch of 0"},
		{"ring under the batch", func(c *config) { c.Ring = 16 }, "ring of 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.check()
			if tc.want == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tc.want)
			}
		})
	}
}

func TestRunArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "10"}, "-i is required"},
		{[]string{"-i", "lo", "-n", "10", "-mix", "ipx"}, `-mix "ipx"`},
		{[]string{"-i", "lo"}, "give a duration"},
		{[]string{"-i", "lo", "-n", "1", "extra"}, `unexpected argument "extra"`},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, &out, &errOut)
		assert.ErrorContains(t, err, tc.want, tc.args)
	}
}

func TestPacing(t *testing.T) {
	assert.Equal(t, int64(0), due(0, 1000))
	assert.Equal(t, int64(50), due(50*time.Millisecond, 1000))
	assert.Equal(t, int64(400000), due(time.Second, 400000))
	assert.Equal(t, 32*time.Millisecond, until(32, 1000))
	assert.Equal(t, time.Second, until(400000, 400000))
}

// fakeWriter keeps what it is given.
type fakeWriter struct {
	mtu     int
	batches []int
	frames  [][]byte
	fail    error
}

func (w *fakeWriter) MTU() int { return w.mtu }

func (w *fakeWriter) WriteBatch(b [][]byte) error {
	if w.fail != nil {
		return w.fail
	}
	w.batches = append(w.batches, len(b))
	w.frames = append(w.frames, b...)
	return nil
}

func TestSendCount(t *testing.T) {
	w := &fakeWriter{mtu: 1500}
	rep, err := send(context.Background(), w, config{Count: 1000, Ring: 256, Batch: 32, Seed: 1})
	require.NoError(t, err)
	assert.Equal(t, int64(1000), rep.Frames)
	require.Len(t, w.frames, 1000)
	// Whole batches, then what is left.
	assert.Equal(t, 32, w.batches[0])
	assert.Equal(t, 1000%32, w.batches[len(w.batches)-1])
	var sum int64
	for _, f := range w.frames {
		sum += int64(len(f))
		// IPv4 behind a plain Ethernet header, as fprobe reads.
		assert.Equal(t, uint16(0x0800), binary.BigEndian.Uint16(f[12:]))
	}
	assert.Equal(t, sum, rep.Bytes)
	// The ring goes round: frame 256 is frame 0 again.
	assert.Equal(t, w.frames[0], w.frames[256])
}

func TestSendMixWithinMTU(t *testing.T) {
	w := &fakeWriter{mtu: 1500}
	_, err := send(context.Background(), w, config{Count: 4096, Ring: 4096, Batch: 64, Full: true, Seed: 1})
	require.NoError(t, err)
	types := map[uint16]int{}
	for _, f := range w.frames {
		l2 := l2Len(f)
		types[binary.BigEndian.Uint16(f[l2-2:])]++
		assert.LessOrEqual(t, len(f)-l2, 1500)
		if l2 > 14 {
			types[0x8100]++
		}
	}
	assert.Positive(t, types[0x0800], "IPv4")
	assert.Positive(t, types[0x86dd], "IPv6")
	assert.Positive(t, types[0x8100], "VLAN tags")
}

func TestSendRateAndDuration(t *testing.T) {
	w := &fakeWriter{mtu: 1500}
	const rate = 20000
	rep, err := send(context.Background(), w, config{Rate: rate, Duration: 100 * time.Millisecond, Ring: 64, Batch: 16})
	require.NoError(t, err)
	// Never ahead of the clock by more than a batch, and only whole
	// batches.
	assert.LessOrEqual(t, rep.Frames, due(rep.Elapsed, rate)+16)
	assert.Zero(t, rep.Frames%16)
	assert.Positive(t, rep.Frames)
	assert.GreaterOrEqual(t, rep.Elapsed, 100*time.Millisecond)
}

func TestSendStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := send(ctx, &fakeWriter{mtu: 1500}, config{Count: 100, Ring: 64, Batch: 16})
	require.NoError(t, err)
	assert.Zero(t, rep.Frames)

	boom := errors.New("boom")
	rep, err = send(context.Background(), &fakeWriter{mtu: 1500, fail: boom}, config{Count: 100, Ring: 64, Batch: 16})
	assert.ErrorIs(t, err, boom)
	assert.Zero(t, rep.Frames)
}
