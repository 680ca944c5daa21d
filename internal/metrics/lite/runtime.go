package lite

import (
	"bytes"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// AddGo adds the Go runtime's metrics (go_*) as client_golang's default
// Go collector serves them: the same names, help texts and sources.
func AddGo(s *Set) {
	var gc debug.GCStats
	gc.PauseQuantiles = make([]time.Duration, 5)
	debug.ReadGCStats(&gc)
	qs := make([]Quantile, len(gc.PauseQuantiles))
	for i, d := range gc.PauseQuantiles {
		qs[i] = Quantile{float64(i) / float64(len(qs)-1), d.Seconds()}
	}
	s.Family("go_gc_duration_seconds", "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.", Summary).
		AddSummary(qs, gc.PauseTotal.Seconds(), uint64(gc.NumGC))

	rm := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}, {Name: "/sched/gomaxprocs:threads"}}
	metrics.Read(rm)
	value := func(i int) float64 {
		if rm[i].Value.Kind() == metrics.KindUint64 {
			return float64(rm[i].Value.Uint64())
		}
		return 0
	}
	s.Family("go_gc_gogc_percent", "Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC environment variable, and the runtime/debug.SetGCPercent function. Sourced from /gc/gogc:percent.", Gauge).Add(value(0))
	s.Family("go_gc_gomemlimit_bytes", "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function. Sourced from /gc/gomemlimit:bytes.", Gauge).Add(value(1))
	s.Family("go_sched_gomaxprocs_threads", "The current runtime.GOMAXPROCS setting, or the number of operating system threads that can execute user-level Go code simultaneously. Sourced from /sched/gomaxprocs:threads.", Gauge).Add(value(2))
	s.Family("go_goroutines", "Number of goroutines that currently exist.", Gauge).Add(float64(runtime.NumGoroutine()))
	threads, _ := runtime.ThreadCreateProfile(nil)
	s.Family("go_threads", "Number of OS threads created.", Gauge).Add(float64(threads))
	s.Family("go_info", "Information about the Go environment.", Gauge, "version").Add(1, runtime.Version())

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for _, m := range []struct {
		name, help string
		typ        Type
		v          uint64
	}{
		{"alloc_bytes", "Number of bytes allocated in heap and currently in use. Equals to /memory/classes/heap/objects:bytes.", Gauge, ms.Alloc},
		{"alloc_bytes_total", "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.", Counter, ms.TotalAlloc},
		{"buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table. Equals to /memory/classes/profiling/buckets:bytes.", Gauge, ms.BuckHashSys},
		{"frees_total", "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.", Counter, ms.Frees},
		{"gc_sys_bytes", "Number of bytes used for garbage collection system metadata. Equals to /memory/classes/metadata/other:bytes.", Gauge, ms.GCSys},
		{"heap_alloc_bytes", "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.", Gauge, ms.HeapAlloc},
		{"heap_idle_bytes", "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", Gauge, ms.HeapIdle},
		{"heap_inuse_bytes", "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes", Gauge, ms.HeapInuse},
		{"heap_objects", "Number of currently allocated objects. Equals to /gc/heap/objects:objects.", Gauge, ms.HeapObjects},
		{"heap_released_bytes", "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes.", Gauge, ms.HeapReleased},
		{"heap_sys_bytes", "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", Gauge, ms.HeapSys},
		{"mallocs_total", "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.", Counter, ms.Mallocs},
		{"mcache_inuse_bytes", "Number of bytes in use by mcache structures. Equals to /memory/classes/metadata/mcache/inuse:bytes.", Gauge, ms.MCacheInuse},
		{"mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system. Equals to /memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes.", Gauge, ms.MCacheSys},
		{"mspan_inuse_bytes", "Number of bytes in use by mspan structures. Equals to /memory/classes/metadata/mspan/inuse:bytes.", Gauge, ms.MSpanInuse},
		{"mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system. Equals to /memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes.", Gauge, ms.MSpanSys},
		{"next_gc_bytes", "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.", Gauge, ms.NextGC},
		{"other_sys_bytes", "Number of bytes used for other system allocations. Equals to /memory/classes/other:bytes.", Gauge, ms.OtherSys},
		{"stack_inuse_bytes", "Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.", Gauge, ms.StackInuse},
		{"stack_sys_bytes", "Number of bytes obtained from system for stack allocator. Equals to /memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes.", Gauge, ms.StackSys},
		{"sys_bytes", "Number of bytes obtained from system. Equals to /memory/classes/total:byte.", Gauge, ms.Sys},
	} {
		s.Family("go_memstats_"+m.name, m.help, m.typ).Add(float64(m.v))
	}
	s.Family("go_memstats_last_gc_time_seconds", "Number of seconds since 1970 of last garbage collection.", Gauge).
		Add(float64(ms.LastGC) / 1e9)
}

// userHZ is the unit of the times in /proc/PID/stat (sysconf(_SC_CLK_TCK)
// is 100 on every Linux platform Go runs on; procfs assumes it too).
const userHZ = 100

// AddProcess adds the process's metrics (process_*) as client_golang's
// process collector serves them on Linux, from /proc. A metric whose
// source cannot be read is left out, as client_golang leaves it out
// (and reports an error).
func AddProcess(s *Set) {
	if st, err := readStat(); err == nil {
		s.Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", Counter).
			Add(float64(st.utime+st.stime) / userHZ)
		s.Family("process_virtual_memory_bytes", "Virtual memory size in bytes.", Gauge).Add(float64(st.vsize))
		s.Family("process_resident_memory_bytes", "Resident memory size in bytes.", Gauge).
			Add(float64(st.rss * uint64(os.Getpagesize())))
		if boot, err := bootTime(); err == nil {
			s.Family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", Gauge).
				Add(float64(st.start)/userHZ + float64(boot))
		}
	}
	if d, err := os.Open("/proc/self/fd"); err == nil {
		names, err := d.Readdirnames(-1)
		d.Close()
		if err == nil {
			s.Family("process_open_fds", "Number of open file descriptors.", Gauge).Add(float64(len(names)))
		}
	}
	if files, space, err := readLimits(); err == nil {
		s.Family("process_max_fds", "Maximum number of open file descriptors.", Gauge).Add(files)
		s.Family("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", Gauge).Add(space)
	}
	if in, out, err := readNetstat(); err == nil {
		s.Family("process_network_receive_bytes_total", "Number of bytes received by the process over the network.", Counter).Add(in)
		s.Family("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.", Counter).Add(out)
	}
}

// stat is what AddProcess reads of /proc/self/stat.
type stat struct {
	utime, stime, start, vsize, rss uint64
}

// readStat reads /proc/self/stat: the fields after the command's name in
// parentheses (which may hold spaces and parentheses itself) are the
// state (field 3) and on.
func readStat() (stat, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return stat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, errMalformed("/proc/self/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 22 {
		return stat{}, errMalformed("/proc/self/stat")
	}
	var st stat
	for _, x := range []struct {
		field int
		to    *uint64
	}{{14, &st.utime}, {15, &st.stime}, {22, &st.start}, {23, &st.vsize}, {24, &st.rss}} {
		if *x.to, err = strconv.ParseUint(f[x.field-3], 10, 64); err != nil {
			return stat{}, errMalformed("/proc/self/stat")
		}
	}
	return st, nil
}

// bootTime reads the system's boot time, in seconds since the epoch, from
// /proc/stat.
func bootTime() (uint64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, errMalformed("/proc/stat")
}

// readLimits reads the soft limits of open files and address space from
// /proc/self/limits; unlimited is 2^64-1, as procfs reads it.
func readLimits() (files, space float64, err error) {
	b, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		return 0, 0, err
	}
	found := 0
	for line := range strings.Lines(string(b)) {
		var to *float64
		switch {
		case strings.HasPrefix(line, "Max open files "):
			to = &files
		case strings.HasPrefix(line, "Max address space "):
			to = &space
		default:
			continue
		}
		// The name takes the first 26 columns; the soft limit follows.
		f := strings.Fields(line[min(26, len(line)):])
		if len(f) == 0 {
			return 0, 0, errMalformed("/proc/self/limits")
		}
		if f[0] == "unlimited" {
			*to = math.MaxUint64
		} else {
			n, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				return 0, 0, errMalformed("/proc/self/limits")
			}
			*to = float64(n)
		}
		found++
	}
	if found != 2 {
		return 0, 0, errMalformed("/proc/self/limits")
	}
	return files, space, nil
}

// readNetstat reads the IP octets received and sent in the process's
// network namespace from /proc/self/net/netstat (IpExt's InOctets and
// OutOctets), where procfs reads them for client_golang.
func readNetstat() (in, out float64, err error) {
	b, err := os.ReadFile("/proc/self/net/netstat")
	if err != nil {
		return 0, 0, err
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, "IpExt:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if i >= len(f) || (n != "InOctets" && n != "OutOctets") {
				continue
			}
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return 0, 0, errMalformed("/proc/self/net/netstat")
			}
			if n == "InOctets" {
				in = v
			} else {
				out = v
			}
		}
		return in, out, nil
	}
	return 0, 0, errMalformed("/proc/self/net/netstat")
}

// errMalformed is a /proc file that does not read as expected.
type errMalformed string

func (e errMalformed) Error() string { return string(e) + ": unexpected format" }
