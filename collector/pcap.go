package collector

import (
	"context"
	"io"
	"time"

	"github.com/nfgo/nftools/internal/pcapudp"
)

// nfcapd 1.7.1's -f file reads the datagrams from a capture file instead of
// its socket, as fast as it can, and ends at the end of the file as on
// SIGTERM (the last file is closed under its slot name, exit 0).
// Everything is timed by the clock, not by the capture, as if the
// datagrams had just arrived.

// NewFromPcap makes a collector that reads the datagrams of a capture
// file (-f) instead of a socket; its Run returns at the end of the file.
func NewFromPcap(cfg Config, p *pcapudp.Reader) (*Collector, error) {
	c, err := New(cfg, nil)
	if err != nil {
		return nil, err
	}
	c.pcap = p
	return c, nil
}

// receivePcap is the receive loop of -f. Unlike the socket's it never
// drops: when the worker holds every chunk it waits for one, as reading a
// file faster than it can be decoded loses nothing by waiting.
func (c *Collector) receivePcap(ctx context.Context) {
	defer close(c.full)
	defer c.pcap.Close()
	var k *chunk
	for ctx.Err() == nil {
		b, from, err := c.pcap.Next()
		if err != nil {
			if err != io.EOF {
				c.cfg.Errorf("ERROR: %s: %v", c.pcap.Name(), err)
			}
			break
		}
		c.datagrams.Add(1)
		for _, rp := range c.cfg.Repeaters {
			c.rep.WriteToUDPAddrPort(b, rp)
		}
		at := time.Now()
		if k != nil && k.add(b, from, at) {
			continue
		}
		if k != nil {
			c.hand(k)
		}
		if k = c.freeChunk(); k == nil {
			select {
			case k = <-c.free:
			case <-ctx.Done():
				return
			}
		}
		k.add(b, from, at)
	}
	if k != nil {
		c.hand(k)
	}
}

// closeConn closes the socket, when the collector has one, and so ends
// the receive loop.
func (c *Collector) closeConn() {
	if c.reader != nil {
		c.reader.close()
		return
	}
	if c.conn != nil {
		c.conn.Close()
	}
}
