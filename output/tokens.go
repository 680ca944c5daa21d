package output

// tokenID names what a %token of a fmt: format prints.
type tokenID uint8

const (
	tLiteral tokenID = iota
	tVersion
	tCount
	tFirst
	tFirstRaw
	tLast
	tLastRaw
	tReceived
	tReceivedRaw
	tDuration
	tDurationSec
	tExpID
	tProto
	tSrcAddr
	tDstAddr
	tSrcGeoAddr
	tDstGeoAddr
	tSrcNet
	tDstNet
	tNextHop
	tBGPNextHop
	tRouter
	tSrcAddrPort
	tDstAddrPort
	tSrcGeoAddrPort
	tDstGeoAddrPort
	tSrcPort
	tDstPort
	tICMPType
	tICMPCode
	tSrcAS
	tDstAS
	tNextAS
	tPrevAS
	tInput
	tInputName
	tOutput
	tOutputName
	tInPackets
	tOutPackets
	tInBytes
	tOutBytes
	tFlows
	tFlags
	tTos
	tSrcTos
	tDstTos
	tDir
	tSrcMask
	tDstMask
	tFwd
	tBiFlowDir
	tEndReason
	tSrcVLAN
	tDstVLAN
	tInSrcMAC
	tOutDstMAC
	tInDstMAC
	tOutSrcMAC
	tMPLS1 // tMPLS1 + i for label i+1
	tMPLS2
	tMPLS3
	tMPLS4
	tMPLS5
	tMPLS6
	tMPLS7
	tMPLS8
	tMPLS9
	tMPLS10
	tMPLSAll
	tBps
	tPps
	tBpp
	tEngine
	tLabel
	tSrcCountry
	tDstCountry
	tSrcLocation
	tDstLocation
	tNewLine
	tInPayload
	tOutPayload
	tNbarID
	tJA3
	tSNI
	tNbarName
	tObsDomain
	tObsPoint
	tIngressVRF
	tIngressVRFName
	tEgressVRF
	tEgressVRFName
	tConnID
	tEventTime
	tEvent
	tXEvent
	tSGT
	tEventMsec
	tIngressACL
	tEgressACL
	tXlateSrcAddr
	tXlateDstAddr
	tXlateSrcPort
	tXlateDstPort
	tXlateSrcAddrPort
	tXlateDstAddrPort
	tUserName
	tPBStart
	tPBEnd
	tPBStep
	tPBSize
	tClientLatency
	tServerLatency
	tApplLatency
)

// token is one entry of nfdump 1.7.1's format token table: the text after
// the %, whether it prints an address (wider header with -6), and its
// header. The order matters: the parser takes the first entry that
// matches and is followed by a non-letter.
type token struct {
	name   string
	isAddr bool
	header string
	id     tokenID
}

var tokenTable = []token{
	{"%nfv", false, "Ver", tVersion},
	{"%cnt", false, "Count", tCount},
	{"%tfs", false, "Date first seen        ", tFirst},
	{"%ts", false, "Date first seen        ", tFirst},
	{"%tsr", false, "Date first seen (raw)    ", tFirstRaw},
	{"%te", false, "Date last seen         ", tLast},
	{"%ter", false, "Date last seen (raw)     ", tLastRaw},
	{"%tr", false, "Date flow received     ", tReceived},
	{"%trr", false, "Date flow received (raw)  ", tReceivedRaw},
	{"%td", false, "    Duration    ", tDuration},
	{"%tds", false, "    Duration    ", tDurationSec},
	{"%exp", false, "Exp ID", tExpID},
	{"%pr", false, "Proto", tProto},
	{"%sa", true, "     Src IP Addr", tSrcAddr},
	{"%da", true, "     Dst IP Addr", tDstAddr},
	{"%gsa", true, "     Src IP Addr(..)", tSrcGeoAddr},
	{"%gda", true, "     Dst IP Addr(..)", tDstGeoAddr},
	{"%sn", true, "        Src Network", tSrcNet},
	{"%dn", true, "        Dst Network", tDstNet},
	{"%nh", true, "     Next-hop IP", tNextHop},
	{"%nhb", true, " BGP next-hop IP", tBGPNextHop},
	{"%ra", true, "       Router IP", tRouter},
	{"%sap", true, "     Src IP Addr:Port ", tSrcAddrPort},
	{"%dap", true, "     Dst IP Addr:Port ", tDstAddrPort},
	{"%gsap", true, "     Src IP Addr(..):Port ", tSrcGeoAddrPort},
	{"%gdap", true, "     Dst IP Addr(..):Port ", tDstGeoAddrPort},
	{"%sp", false, "Src Pt", tSrcPort},
	{"%dp", false, "Dst Pt", tDstPort},
	{"%it", false, "ICMP-T", tICMPType},
	{"%ic", false, "ICMP-C", tICMPCode},
	{"%sas", false, "Src AS", tSrcAS},
	{"%das", false, "Dst AS", tDstAS},
	{"%nas", false, "Next AS", tNextAS},
	{"%pas", false, "Prev AS", tPrevAS},
	{"%in", false, " Input", tInput},
	{"%inam", false, " Input interface name", tInputName},
	{"%out", false, "Output", tOutput},
	{"%onam", false, "Output interface name", tOutputName},
	{"%pkt", false, " Packets", tInPackets},
	{"%ipkt", false, "  In Pkt", tInPackets},
	{"%opkt", false, " Out Pkt", tOutPackets},
	{"%byt", false, "   Bytes", tInBytes},
	{"%ibyt", false, " In Byte", tInBytes},
	{"%obyt", false, "Out Byte", tOutBytes},
	{"%fl", false, "Flows", tFlows},
	{"%flg", false, "   Flags", tFlags},
	{"%tos", false, "Tos", tTos},
	{"%stos", false, "STos", tSrcTos},
	{"%dtos", false, "DTos", tDstTos},
	{"%dir", false, "Dir", tDir},
	{"%smk", false, "SMask", tSrcMask},
	{"%dmk", false, "DMask", tDstMask},
	{"%fwd", false, "Fwd", tFwd},
	{"%bfd", false, "Bfd", tBiFlowDir},
	{"%end", false, "End", tEndReason},
	{"%svln", false, "SVlan", tSrcVLAN},
	{"%dvln", false, "DVlan", tDstVLAN},
	{"%ismc", false, "  In src MAC Addr", tInSrcMAC},
	{"%odmc", false, " Out dst MAC Addr", tOutDstMAC},
	{"%idmc", false, "  In dst MAC Addr", tInDstMAC},
	{"%osmc", false, " Out src MAC Addr", tOutSrcMAC},
	{"%mpls1", false, " MPLS lbl 1 ", tMPLS1},
	{"%mpls2", false, " MPLS lbl 2 ", tMPLS2},
	{"%mpls3", false, " MPLS lbl 3 ", tMPLS3},
	{"%mpls4", false, " MPLS lbl 4 ", tMPLS4},
	{"%mpls5", false, " MPLS lbl 5 ", tMPLS5},
	{"%mpls6", false, " MPLS lbl 6 ", tMPLS6},
	{"%mpls7", false, " MPLS lbl 7 ", tMPLS7},
	{"%mpls8", false, " MPLS lbl 8 ", tMPLS8},
	{"%mpls9", false, " MPLS lbl 9 ", tMPLS9},
	{"%mpls10", false, " MPLS lbl 10", tMPLS10},
	{"%mpls", false, "                                               MPLS labels 1-10                                                                   ", tMPLSAll},
	{"%bps", false, "     bps", tBps},
	{"%pps", false, "     pps", tPps},
	{"%bpp", false, "   Bpp", tBpp},
	{"%eng", false, " engine", tEngine},
	{"%lbl", false, "           label", tLabel},
	{"%sc", false, "SC", tSrcCountry},
	{"%dc", false, "DC", tDstCountry},
	{"%sloc", false, "Src IP location info", tSrcLocation},
	{"%dloc", false, "Src IP location info", tDstLocation},
	{"%n", false, "", tNewLine},
	{"%ipl", false, "", tInPayload},
	{"%opl", false, "", tOutPayload},
	{"%nbid", false, "nbar ID", tNbarID},
	{"%ja3", false, "                             ja3", tJA3},
	{"%sni", false, "sni name", tSNI},
	{"%nbnam", false, "nbar name", tNbarName},
	{"%odid", false, "obsDomainID", tObsDomain},
	{"%opid", false, "  obsPointID", tObsPoint},
	{"%vrf", false, "  I-VRF-ID", tIngressVRF},
	{"%ivrf", false, "  I-VRF-ID", tIngressVRF},
	{"%ivrfnam", false, "  I-VRF-Name", tIngressVRFName},
	{"%evrf", false, "  E-VRF-ID", tEgressVRF},
	{"%evrfnam", false, "  E-VRF-Name", tEgressVRFName},
	// NSEL
	{"%nfc", false, "   Conn-ID", tConnID},
	{"%tevt", false, "Event time             ", tEventTime},
	{"%evt", false, " Event", tEvent},
	{"%xevt", false, " XEvent", tXEvent},
	{"%sgt", false, "  SGT  ", tSGT},
	{"%msec", false, "   Event Time", tEventMsec},
	{"%iacl", false, "Ingress ACL                     ", tIngressACL},
	{"%eacl", false, "Egress ACL                      ", tEgressACL},
	{"%xsa", false, "   X-late Src IP", tXlateSrcAddr},
	{"%xda", false, "   X-late Dst IP", tXlateDstAddr},
	{"%xsp", false, "XsPort", tXlateSrcPort},
	{"%xdp", false, "XdPort", tXlateDstPort},
	{"%xsap", true, "   X-Src IP Addr:Port ", tXlateSrcAddrPort},
	{"%xdap", true, "   X-Dst IP Addr:Port ", tXlateDstAddrPort},
	{"%uname", false, "UserName", tUserName},
	// NEL, kept for 1.6.10 compatibility
	{"%nevt", false, " Event", tEvent},
	{"%nsa", false, "   X-late Src IP", tXlateSrcAddr},
	{"%nda", false, "   X-late Dst IP", tXlateDstAddr},
	{"%nsp", false, "XsPort", tXlateSrcPort},
	{"%ndp", false, "XdPort", tXlateDstPort},
	{"%nsap", true, "   X-Src IP Addr:Port ", tXlateSrcAddrPort},
	{"%ndap", true, "   X-Dst IP Addr:Port ", tXlateDstAddrPort},
	// port block allocation
	{"%pbstart", false, "Pb-Start", tPBStart},
	{"%pbend", false, "Pb-End", tPBEnd},
	{"%pbstep", false, "Pb-Step", tPBStep},
	{"%pbsize", false, "Pb-Size", tPBSize},
	// latency
	{"%cl", false, "C Latency", tClientLatency},
	{"%sl", false, "S latency", tServerLatency},
	{"%al", false, "A latency", tApplLatency},
}

// Predefined formats, in the order nfdump searches them for %name macros.
var predefined = []struct{ name, format string }{
	{"raw", ""},
	{"line", "%ts %td %pr %sap -> %dap %pkt %byt %fl"},
	{"gline", "%ts %td %pr %gsap -> %gdap %pkt %byt %fl"},
	{"long", "%ts %td %pr %sap -> %dap %flg %tos %pkt %byt %fl"},
	{"glong", "%ts %td %pr %gsap -> %gdap %flg %tos %pkt %byt %fl"},
	{"extended", "%ts %td %pr %sap -> %dap %flg %tos %pkt %byt %pps %bps %bpp %fl"},
	{"biline", "%ts %td %pr %sap <-> %dap %opkt %ipkt %obyt %ibyt %fl"},
	{"bilong", "%ts %td %pr %sap <-> %dap %flg %tos %opkt %ipkt %obyt %ibyt %fl"},
	{"pipe", ""},
	{"json", ""},
	{"csv", ""},
	{"null", ""},
	{"nsel", "%tevt %evt %xevt %pr %sap -> %dap %xsap -> %xdap %ibyt %obyt"},
	{"nel", "%tevt %nevt %pr %sap -> %dap %nsap -> %ndap"},
}
