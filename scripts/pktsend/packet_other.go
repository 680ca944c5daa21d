//go:build !linux

package main

import "errors"

// packetSender needs Linux's AF_PACKET sockets.
type packetSender struct{}

func openSender(string) (*packetSender, error) {
	return nil, errors.New("sending frames needs Linux's AF_PACKET sockets")
}

func (*packetSender) MTU() int                  { return 0 }
func (*packetSender) WriteBatch([][]byte) error { return errors.New("not supported") }
func (*packetSender) Close() error              { return nil }
