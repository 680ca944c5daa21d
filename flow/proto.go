package flow

import "strings"

// IP protocol numbers the tools treat specially.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// ProtoNames are nfdump 1.7.1's protocol names, indexed by number; numbers
// from 138 on have none and print as numbers.
var ProtoNames = [138]string{
	"0", "ICMP", "IGMP", "GGP", "IPIP", "ST", "TCP", "CBT", "EGP", "IGP",
	"BBN", "NVPII", "PUP", "ARGUS", "ENCOM", "XNET", "CHAOS", "UDP", "MUX", "DCN",
	"HMP", "PRM", "XNS", "Trnk1", "Trnk2", "Leaf1", "Leaf2", "RDP", "IRTP", "ISO-4",
	"NETBK", "MFESP", "MEINP", "DCCP", "3PC", "IDPR", "XTP", "DDP", "IDPR", "TP++",
	"IL", "IPv6", "SDRP", "Rte6", "Frag6", "IDRP", "RSVP", "GRE", "MHRP", "BNA",
	"ESP", "AH", "INLSP", "SWIPE", "NARP", "MOBIL", "TLSP", "SKIP", "ICMP6", "NOHE6",
	"OPTS6", "HOST", "CFTP", "NET", "SATNT", "KLAN", "RVD", "IPPC", "FS", "SATM",
	"VISA", "IPCV", "CPNX", "CPHB", "WSN", "PVP", "BSATM", "SUNND", "WBMON", "WBEXP",
	"ISOIP", "VMTP", "SVMTP", "VINES", "TTP", "NSIGP", "DGP", "TCF", "EIGRP", "OSPF",
	"S-RPC", "LARP", "MTP", "AX.25", "OS", "MICP", "SCCSP", "ETHIP", "ENCAP", "99",
	"GMTP", "IFMP", "PNNI", "PIM", "ARIS", "SCPS", "QNX", "A/N", "IPcmp", "SNP",
	"CpqPP", "IPXIP", "VRRP", "PGM", "0hop", "L2TP", "DDX", "IATP", "STP", "SRP",
	"UTI", "SMP", "SM", "PTP", "ISIS4", "FIRE", "CRTP", "CRUDP", "128", "IPLT",
	"SPS", "PIPE", "SCTP", "FC", "134", "MHEAD", "UDP-L", "MPLS",
}

// ProtoNumber finds a protocol by nfdump's name for it, as the filter's
// proto primitive does: case-insensitively, the first of equal names
// (IDPR is 35), and never a name of six letters or more.
func ProtoNumber(name string) (uint8, bool) {
	if len(name) >= 6 {
		return 0, false
	}
	for i, n := range ProtoNames {
		if strings.EqualFold(n, name) {
			return uint8(i), true
		}
	}
	return 0, false
}

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
