package main

// flowVals is one flow as nfsend sends it: the fields of its template, with
// times as milliseconds since the Unix epoch whatever the protocol carries.
type flowVals struct {
	Src, Dst      [4]byte
	SrcPort       uint16
	DstPort       uint16
	Proto         uint8
	TCPFlags      uint8
	Tos           uint8
	Packets       uint64
	Bytes         uint64
	First, Last   uint64 // msec since the epoch
	Input, Output uint32
}

// content says which flows a stream sends. Flow idx of a stream is the base
// flow idx%ringFlows, built from a hash so that neighbours differ in every
// field, with idx/ringFlows added to its byte count: a datagram of the
// precomputed ring is patched by one per pass, so every flow of a run is
// distinct however long it runs.
type content struct {
	seed      uint64
	baseMsec  uint64 // flows end shortly before this time
	ringFlows uint64 // flows in a stream's ring of datagrams
}

// splitmix64 is a small, good mixing function (Steele, Lea, Flood 2014).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

var tcpFlagSets = [...]uint8{0x02, 0x12, 0x10, 0x18, 0x1b, 0x1a, 0x11, 0x19, 0x14, 0x1f}
var tosValues = [...]uint8{0x00, 0x00, 0x00, 0x10, 0x28, 0x48, 0xb8}
var servicePorts = [...]uint16{443, 80, 53, 22, 25, 123, 993, 3306, 8080, 5432}

// flow returns flow idx of stream s (0-based).
func (c content) flow(s int, idx uint64) flowVals {
	ri, cycle := idx%c.ringFlows, idx/c.ringFlows
	h := splitmix64(c.seed ^ uint64(s)<<48 ^ ri)
	h2 := splitmix64(h)
	var f flowVals
	// 10.<stream>.x.y talks to 172.16-31.x.y or 192.168.x.y
	f.Src = [4]byte{10, byte(s), byte(h >> 8), byte(h)}
	if h>>16&1 == 0 {
		f.Dst = [4]byte{172, 16 + byte(h>>17&15), byte(h >> 24), byte(h >> 32)}
	} else {
		f.Dst = [4]byte{192, 168, byte(h >> 24), byte(h >> 32)}
	}
	eph := uint16(1024 + h2%64512)
	svc := servicePorts[h2>>16%uint64(len(servicePorts))]
	if h2>>20&1 == 0 {
		f.SrcPort, f.DstPort = eph, svc
	} else {
		f.SrcPort, f.DstPort = svc, eph
	}
	if h2>>21%4 == 0 {
		f.Proto = 17 // UDP
	} else {
		f.Proto = 6 // TCP
		f.TCPFlags = tcpFlagSets[h2>>24%uint64(len(tcpFlagSets))]
	}
	f.Tos = tosValues[h2>>28%uint64(len(tosValues))]
	// mostly small flows, a few big ones
	f.Packets = 1 + h2>>32%16
	if h2>>36%8 == 0 {
		f.Packets += h2 >> 40 % 5000
	}
	f.Bytes = f.Packets*(40+h>>40%1460) + cycle
	dur := h >> 44 % 60000 // up to a minute long
	f.Last = c.baseMsec - h>>20%5000
	f.First = f.Last - dur
	f.Input = 1 + uint32(h>>52%48)
	f.Output = 1 + uint32(h>>58%48)
	return f
}
