// Package mmsg hands a batch of buffers to the kernel in one sendmmsg(2)
// call, for goprobe's exporter (probe) and the load generators of tests
// and benchmarks (scripts/nfsend on a UDP socket, scripts/pktsend on a
// packet socket): at their rates the system call, not the copy, is most
// of what a datagram costs. Linux only; elsewhere the package is empty.
package mmsg
