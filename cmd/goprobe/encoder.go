package main

import "github.com/nfgo/nftools/probe"

// newEncoder returns the maker of the encoders for -n's version.
var newEncoder = func(o *options) func() (probe.Encoder, error) {
	return func() (probe.Encoder, error) { return nil, errNotImplemented }
}
