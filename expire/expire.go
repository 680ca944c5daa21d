package expire

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Limits are the limits given on the command line (gocapd --maxsize,
// --maxlife, --watermark): each one set replaces the value in .nfstat and
// is stored there, as nfexpire -e -s/-t/-w do.
type Limits struct {
	MaxSize, Lifetime, Watermark          uint64
	SetMaxSize, SetLifetime, SetWatermark bool
}

func (l Limits) apply(st *Stat) {
	if l.SetMaxSize {
		st.MaxSize = l.MaxSize
	}
	if l.SetLifetime {
		st.Lifetime = l.Lifetime
	}
	if l.SetWatermark {
		st.Watermark = l.Watermark
	}
}

// Result says what a Run found and did.
type Result struct {
	Before, After Stat
	// Rebuilt is true when .nfstat was missing or asked for a rebuild:
	// nfcapd logs "Force rebuild stat record" then.
	Rebuilt bool
	Removed uint64
	// Errors are the files and directories that could not be removed.
	Errors []error
}

// Run is one expire cycle of dir, as nfcapd -e runs after each rotation:
// lock .nfstat, count the flow files, remove the oldest while the
// directory is beyond a limit (down to the watermark), write .nfstat.
// Times in file names are read in loc; now is the current time.
func Run(dir string, lim Limits, now time.Time, loc *time.Location) (Result, error) {
	sf, err := Open(dir)
	if err != nil {
		return Result{}, err
	}
	defer sf.Close()
	st, err := sf.Read()
	if err != nil {
		return Result{}, err
	}
	res := Result{Rebuilt: !sf.Found || st.Status == StatusRebuild}
	lim.apply(&st)
	Rescan(dir, &st, now, loc)
	res.Before = st
	if st.MaxSize > 0 || st.Lifetime > 0 {
		res.Removed, res.Errors = expireDir(dir, &st, now, loc)
	}
	res.After = st
	return res, sf.Write(st)
}

// flowName returns the time digits of a finished flow file's name
// (nfcapd.YYYYMMDDhhmm or nfcapd.YYYYMMDDhhmmss), or "".
func flowName(name string) string {
	if (len(name) != 19 && len(name) != 21) || name[:7] != "nfcapd." {
		return ""
	}
	for i := 7; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return ""
		}
	}
	return name[7:]
}

// slotTime reads the time digits of a file name in loc, as Unix seconds.
func slotTime(digits string, loc *time.Location) uint64 {
	layout := "200601021504"
	if len(digits) == 14 {
		layout = "20060102150405"
	}
	t, err := time.ParseInLocation(layout, digits, loc)
	if err != nil || t.Unix() < 0 {
		return 0
	}
	return uint64(t.Unix())
}

// subdir tells whether a directory below the flow directory holds flow
// files: nfdump looks only into those whose name starts with a digit (a
// year of the -S layouts), never into hidden ones.
func subdir(name string) bool {
	return name != "" && name[0] >= '0' && name[0] <= '9'
}

// diskSize is the space a file takes, in 512-byte blocks as nfdump counts.
func diskSize(fi os.FileInfo) uint64 {
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Blocks) * 512
	}
	return uint64(fi.Size())
}

// walk visits the flow files under dir in nfdump's order: the entries of
// each directory sorted by name, sub directories where they sort. visit
// returns false to stop the walk; after a sub directory's entries, empty
// is called for it when it has none left. walk returns false when
// stopped.
func walk(dir string, top bool, visit func(path, digits string, fi os.FileInfo) bool, empty func(path string)) bool {
	ents, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return true
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			if !subdir(e.Name()) {
				continue
			}
			if !walk(p, false, visit, empty) {
				return false
			}
			continue
		}
		d := flowName(e.Name())
		if d == "" || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if !visit(p, d, fi) {
			return false
		}
	}
	if !top && empty != nil {
		if rest, err := os.ReadDir(dir); err == nil && len(rest) == 0 {
			empty(dir)
		}
	}
	return true
}

// Rescan counts the flow files under dir into st: size, number, the
// oldest and newest slot. Without files, first and last are now and the
// status asks for a rebuild next time, as nfdump does.
func Rescan(dir string, st *Stat, now time.Time, loc *time.Location) {
	st.Size, st.NumFiles = 0, 0
	first, last := "", ""
	walk(dir, true, func(_, d string, fi os.FileInfo) bool {
		if first == "" || d < first {
			first = d
		}
		if d > last {
			last = d
		}
		st.Size += diskSize(fi)
		st.NumFiles++
		return true
	}, nil)
	if st.NumFiles == 0 {
		st.First, st.Last = uint64(now.Unix()), uint64(now.Unix())
		st.Status = StatusRebuild
		return
	}
	st.First, st.Last = slotTime(first, loc), slotTime(last, loc)
	st.Status = StatusOK
}

// expireDir removes files oldest first, by nfdump's rules: while the
// directory is at or beyond the size limit, down to the watermark's share
// of it; then while it is older than the lifetime, the files before the
// watermark's share of it. Emptied sub directories go too.
func expireDir(dir string, st *Stat, now time.Time, loc *time.Location) (uint64, []error) {
	wm := st.Watermark
	if wm == 0 {
		wm = DefaultWatermark
		st.Watermark = wm
	}
	sizeDone := st.MaxSize == 0 || st.Size < st.MaxSize
	lifeDone := st.Lifetime == 0 || uint64(now.Unix())-st.First < st.Lifetime
	sizeGoal := wm * st.MaxSize / 100
	// nfdump compares the names with the time of the watermark as a
	// string of 14 digits, so a file of the minute of that time, named
	// without seconds, sorts before it and goes.
	timeGoal := now.Add(-time.Duration(st.Lifetime*wm/100) * time.Second).In(loc).Format("20060102150405")
	var errs []error
	var removed uint64
	remove := func(path string, fi os.FileInfo) bool {
		if err := os.Remove(path); err != nil {
			errs = append(errs, err)
			return false
		}
		st.Size -= diskSize(fi)
		removed++
		return true
	}
	done := false
	walk(dir, true, func(path, d string, fi os.FileInfo) bool {
		if !sizeDone {
			if st.Size > sizeGoal {
				remove(path, fi)
				return true
			}
			st.First = slotTime(d, loc)
			sizeDone = true
		}
		if !lifeDone {
			if d < timeGoal {
				remove(path, fi)
			} else {
				st.First = slotTime(d, loc)
				lifeDone = true
			}
		}
		done = sizeDone && lifeDone
		return !done
	}, func(path string) {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	})
	if !done {
		// Every file went and a limit is still not met.
		st.First = st.Last
	}
	if removed > st.NumFiles {
		st.NumFiles = 0
		st.Status = StatusRebuild
	} else {
		st.NumFiles -= removed
	}
	if st.NumFiles == 0 {
		st.First, st.Last = uint64(now.Unix()), uint64(now.Unix())
		st.Status = StatusRebuild
	}
	return removed, errs
}
