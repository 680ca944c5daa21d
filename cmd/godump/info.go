package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/nfgo/nftools/flowfile"
	"github.com/nfgo/nftools/output"
)

// printInfo is -I: the stat records of all files summed, the ident of the
// first one.
func printInfo(files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		// nfdump 1.7.1 crashes here (notes §13 fix 11).
		fmt.Fprint(stderr, emptyList)
		return exitOK
	}
	var sum flowfile.StatSum
	failed := 0
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
		sum.Add(r)
		r.Close()
	}
	if sum.Files == 0 {
		return exitFileList
	}
	ident := sum.Ident
	if !sum.HasIdent {
		ident = "<none>"
	}
	fmt.Fprintf(stdout, "Ident: %s\n", ident)
	st := &sum.Stat
	for _, l := range []struct {
		name string
		v    uint64
	}{
		{"Flows", st.Flows}, {"Flows_tcp", st.FlowsTCP}, {"Flows_udp", st.FlowsUDP}, {"Flows_icmp", st.FlowsICMP}, {"Flows_other", st.FlowsOther},
		{"Packets", st.Packets}, {"Packets_tcp", st.PacketsTCP}, {"Packets_udp", st.PacketsUDP}, {"Packets_icmp", st.PacketsICMP}, {"Packets_other", st.PacketsOther},
		{"Bytes", st.Bytes}, {"Bytes_tcp", st.BytesTCP}, {"Bytes_udp", st.BytesUDP}, {"Bytes_icmp", st.BytesICMP}, {"Bytes_other", st.BytesOther},
		{"First", st.FirstSeen / 1000}, {"Last", st.LastSeen / 1000},
		{"msec_first", st.FirstSeen % 1000}, {"msec_last", st.LastSeen % 1000},
		{"Sequence failures", st.SequenceFailures},
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

// printExporters is -E: the exporters and samplers recorded in a file.
func printExporters(path string, stdout, stderr io.Writer) int {
	if !isFileOrDir(path) {
		fmt.Fprintf(stderr, "%s is not a file or directory\n", path)
		return exitFailure
	}
	fmt.Fprint(stdout, output.ExportersTitle)
	r, err := flowfile.Open(path, flowfile.ReadOptions{Workers: 1})
	if err != nil {
		fmt.Fprintf(stderr, "godump: %v\n", err)
		return exitInput
	}
	defer r.Close()
	warnUnfinished(stderr, r)
	list, found, err := flowfile.Exporters(r, func(sysID uint32, sampler bool) {
		// nfdump's messages, with the empty lines it prints after them.
		if sampler {
			fmt.Fprintf(stderr, "Exporter SysID: %d not found! - Skip sampler record\nFailed to add Sampler Record\n\n", sysID)
		} else {
			fmt.Fprintf(stderr, "Exporter SysID: %d not found! - Skip stat record record.\n\n", sysID)
		}
	})
	code := exitOK
	if err != nil {
		fmt.Fprintf(stderr, "godump: %v\n", err)
		reportSkipped(stderr, r, err)
		code = exitInput
	}
	if _, err := stdout.Write(output.AppendExporters(nil, list, found)); err != nil {
		return writeFailed(stderr, err)
	}
	return code
}
