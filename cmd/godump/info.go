package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/nfgo/nftools/flow"
	"github.com/nfgo/nftools/flowfile"
)

// printInfo is -I: the stat records of all files summed, the ident of the
// first one.
func printInfo(files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		// nfdump 1.7.1 crashes here (notes §13 fix 11).
		fmt.Fprint(stderr, emptyList)
		return exitOK
	}
	var sum flowfile.Stat
	ident, hasIdent := "", false
	opened, failed := 0, 0
	for _, path := range files {
		r, err := flowfile.Open(path, flowfile.ReadOptions{Workers: 1})
		if err != nil {
			fmt.Fprintf(stderr, "godump: %v\n", err)
			failed++
			continue
		}
		for _, w := range r.Warnings() {
			fmt.Fprintf(stderr, "godump: warning: %v\n", w)
		}
		if opened == 0 {
			ident, hasIdent = r.Ident()
		}
		st := r.Stat()
		if opened == 0 {
			sum = st
		} else {
			sum.Merge(&st)
		}
		opened++
		r.Close()
	}
	if opened == 0 {
		return exitFileList
	}
	if !hasIdent {
		ident = "<none>"
	}
	fmt.Fprintf(stdout, "Ident: %s\n", ident)
	for _, l := range []struct {
		name string
		v    uint64
	}{
		{"Flows", sum.Flows}, {"Flows_tcp", sum.FlowsTCP}, {"Flows_udp", sum.FlowsUDP}, {"Flows_icmp", sum.FlowsICMP}, {"Flows_other", sum.FlowsOther},
		{"Packets", sum.Packets}, {"Packets_tcp", sum.PacketsTCP}, {"Packets_udp", sum.PacketsUDP}, {"Packets_icmp", sum.PacketsICMP}, {"Packets_other", sum.PacketsOther},
		{"Bytes", sum.Bytes}, {"Bytes_tcp", sum.BytesTCP}, {"Bytes_udp", sum.BytesUDP}, {"Bytes_icmp", sum.BytesICMP}, {"Bytes_other", sum.BytesOther},
		{"First", sum.FirstSeen / 1000}, {"Last", sum.LastSeen / 1000},
		{"msec_first", sum.FirstSeen % 1000}, {"msec_last", sum.LastSeen % 1000},
		{"Sequence failures", sum.SequenceFailures},
	} {
		fmt.Fprintf(stdout, "%s: %d\n", l.name, l.v)
	}
	if failed > 0 {
		return exitInput
	}
	return exitOK
}

// slotTime reads the time of an nfcapd.YYYYMMDDhhmm[ss] file name, local
// time.
func slotTime(path string) (time.Time, bool) {
	base := filepath.Base(path)
	i := strings.LastIndexByte(base, '.')
	if i < 0 {
		return time.Time{}, false
	}
	digits := base[i+1:]
	layout := ""
	switch len(digits) {
	case 12:
		layout = "200601021504"
	case 14:
		layout = "20060102150405"
	default:
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(layout, digits, time.Local)
	return t, err == nil
}

// printGnuplot is -g: one line per file, its time from the file name and
// its counters from the stat record.
func printGnuplot(files []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stdout, "# yyyy-mm-dd HH:MM:SS,flows,packets,bytes")
	failed := 0
	for _, path := range files {
		r, err := flowfile.Open(path, flowfile.ReadOptions{Workers: 1})
		if err != nil {
			fmt.Fprintf(stderr, "godump: %v\n", err)
			failed++
			continue
		}
		st := r.Stat()
		r.Close()
		t, ok := slotTime(path)
		if !ok {
			// nfdump prints the epoch for a name without a time.
			name := filepath.Base(path)
			if i := strings.LastIndexByte(name, '.'); i >= 0 {
				name = name[i+1:]
			}
			fmt.Fprintf(stderr, "Wrong time format '%s'\n\n", name)
			t = time.Unix(0, 0)
		}
		fmt.Fprintf(stdout, "%s,%d,%d,%d\n", t.Format("2006-01-02 15:04:05"), st.Flows, st.Packets, st.Bytes)
	}
	if failed > 0 {
		return exitInput
	}
	return exitOK
}

// exporterEntry is one exporter -E prints, with its summed statistics and
// its samplers in the order met.
type exporterEntry struct {
	info           flow.Exporter
	seqFailures    uint64
	packets, flows uint64
	samplers       []flow.Sampler
}

// printExporters is -E: the exporters and samplers recorded in a file.
func printExporters(path string, stdout, stderr io.Writer) int {
	if !isFileOrDir(path) {
		fmt.Fprintf(stderr, "%s is not a file or directory\n", path)
		return exitFailure
	}
	fmt.Fprintln(stdout, "Exporters:")
	r, err := flowfile.Open(path, flowfile.ReadOptions{Workers: 1})
	if err != nil {
		fmt.Fprintf(stderr, "godump: %v\n", err)
		return exitInput
	}
	defer r.Close()
	warnUnfinished(stderr, r)
	var list [65536]*exporterEntry
	found := false
	for r.Next() {
		switch r.Kind() {
		case flowfile.KindExporter:
			found = true
			e := r.Exporter()
			if list[e.SysID] == nil {
				list[e.SysID] = &exporterEntry{info: *e}
			}
		case flowfile.KindExporterStat:
			for _, st := range r.ExporterStats() {
				if st.SysID >= uint32(len(list)) || list[st.SysID] == nil {
					fmt.Fprintf(stderr, "Exporter SysID: %d not found! - Skip stat record record.\n", st.SysID)
					continue
				}
				x := list[st.SysID]
				x.seqFailures += uint64(st.SequenceFailures)
				x.packets += st.Packets
				x.flows += st.Flows
			}
		case flowfile.KindSampler:
			s := *r.Sampler()
			x := list[s.ExporterSysID]
			if x == nil {
				fmt.Fprintf(stderr, "Exporter SysID: %d not found! - Skip sampler record\n", s.ExporterSysID)
				continue
			}
			dup := false
			for _, o := range x.samplers {
				dup = dup || o == s
			}
			if !dup {
				x.samplers = append(x.samplers, s)
			}
		}
	}
	code := exitOK
	if err := r.Err(); err != nil {
		fmt.Fprintf(stderr, "godump: %v\n", err)
		reportSkipped(stderr, r, err)
		code = exitInput
	}
	if !found {
		fmt.Fprintln(stdout, "No Exporter records found")
	}
	fmt.Fprintln(stdout)
	// nfdump lists from SysID 1 up to the first unused one.
	for id := 1; id < len(list) && list[id] != nil; id++ {
		x := list[id]
		ip := x.info.Addr.String()
		if x.info.Addr.Is4() || x.info.Addr.Is4In6() {
			ip = x.info.Addr.Unmap().String()
			if x.flows > 0 {
				fmt.Fprintf(stdout, "SysID: %d, IP: %16s, version: %d, ID: %2d, Sequence failures: %d, packets: %d, flows: %d\n",
					x.info.SysID, ip, x.info.Version, x.info.ID, uint32(x.seqFailures), x.packets, x.flows)
			} else {
				fmt.Fprintf(stdout, "SysID: %d, IP: %16s, version: %d, ID: %2d - no flows sent\n", x.info.SysID, ip, x.info.Version, x.info.ID)
			}
		} else {
			// nfdump ends IPv6 exporter lines with a newline and a space.
			if x.flows > 0 {
				fmt.Fprintf(stdout, "SysID: %d, IP: %40s, version: %d, ID: %2d, Sequence failures: %d, packets: %d, flows: %d\n ",
					x.info.SysID, ip, x.info.Version, x.info.ID, uint32(x.seqFailures), x.packets, x.flows)
			} else {
				fmt.Fprintf(stdout, "SysID: %d, IP: %40s, version: %d, ID: %2d\n ", x.info.SysID, ip, x.info.Version, x.info.ID)
			}
		}
		for _, s := range x.samplers {
			switch s.ID {
			case flow.SamplerOverwrite:
				fmt.Fprintf(stdout, "    Sampler: Static overwrite Sampler: algorithm: %d, packet interval: %d, packet space: %d\n", s.Algorithm, s.PacketInterval, s.SpaceInterval)
			case flow.SamplerDefault:
				fmt.Fprintf(stdout, "    Sampler: Static default Sampler: algorithm: %d, packet interval: %d, packet space: %d\n", s.Algorithm, s.PacketInterval, s.SpaceInterval)
			case flow.SamplerGeneric:
				fmt.Fprintf(stdout, "    Sampler: Generic Sampler: algorithm: %d, packet interval: %d, packet space: %d\n", s.Algorithm, s.PacketInterval, s.SpaceInterval)
			default:
				fmt.Fprintf(stdout, "    Sampler: Assigned Sampler: id: %d, algorithm: %d, packet interval: %d, packet space: %d\n", s.ID, s.Algorithm, s.PacketInterval, s.SpaceInterval)
			}
		}
	}
	return code
}
