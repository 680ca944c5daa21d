package flow

// IP protocol numbers the tools treat specially.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// TCP flag bits as they appear in Record.TCPFlags.
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
	TCPUrg = 0x20
	TCPEce = 0x40
	TCPCwr = 0x80
)

// TCPFlagString renders flags the way nfdump does: eight positions
// "CEUAPRSF", a dot for each flag that is not set.
func TCPFlagString(flags uint8) string {
	const names = "CEUAPRSF"
	var b [8]byte
	for i := 0; i < 8; i++ {
		if flags&(0x80>>uint(i)) != 0 {
			b[i] = names[i]
		} else {
			b[i] = '.'
		}
	}
	return string(b[:])
}
