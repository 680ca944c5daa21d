package main

import (
	"github.com/nfgo/nftools/netflow"
	"github.com/nfgo/nftools/probe"
)

// newEncoder returns the maker of the encoders for -n's version. The boot
// time stays 0: fprobe's uptime trick, a sysUpTime of 2^20 s in every
// datagram, so the uptime never wraps and a capture file's old packet
// times export as they are.
func newEncoder(o *options) func() (probe.Encoder, error) {
	cfg := netflow.EncoderConfig{Version: o.version}
	return func() (probe.Encoder, error) { return netflow.NewEncoder(cfg) }
}
