package collector

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DirStat is the content of a flow directory's .nfstat file, which
// nfexpire -l/-s/-w set and nfcapd -e keeps up to date.
type DirStat struct {
	First, Last int64  // slot start of the oldest and newest file, Unix s
	Size        uint64 // bytes on disk, counted in 512-byte blocks
	MaxSize     uint64 // 0: no limit
	NumFiles    uint64
	Lifetime    uint64 // seconds; 0: no limit
	Watermark   uint64 // percent of the limits to go down to (95)
	Status      int
}

// ReadDirStat reads dir/.nfstat; a missing file gives the defaults.
func ReadDirStat(dir string) (DirStat, error) {
	st := DirStat{Watermark: 95}
	f, err := os.Open(filepath.Join(dir, ".nfstat"))
	if os.IsNotExist(err) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		switch k {
		case "first":
			st.First = int64(n)
		case "last":
			st.Last = int64(n)
		case "size":
			st.Size = n
		case "maxsize":
			st.MaxSize = n
		case "numfiles":
			st.NumFiles = n
		case "lifetime":
			st.Lifetime = n
		case "watermark":
			st.Watermark = n
		case "status":
			st.Status = int(n)
		}
	}
	return st, sc.Err()
}

// WriteDirStat writes dir/.nfstat in nfexpire's format.
func WriteDirStat(dir string, st DirStat) error {
	s := fmt.Sprintf("first=%d\nlast=%d\nsize=%d\nmaxsize=%d\nnumfiles=%d\nlifetime=%d\nwatermark=%d\nstatus=%d\n",
		st.First, st.Last, st.Size, st.MaxSize, st.NumFiles, st.Lifetime, st.Watermark, st.Status)
	tmp := filepath.Join(dir, ".nfstat.tmp")
	if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, ".nfstat"))
}

type flowFile struct {
	path string
	t    time.Time
	size uint64
}

// scanFlowFiles lists the finished nfcapd.* files under dir, oldest first.
func scanFlowFiles(dir string, loc *time.Location) []flowFile {
	var files []flowFile
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		t, ok := fileTime(d.Name(), loc)
		if !ok {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		size := uint64(fi.Size())
		if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
			size = uint64(sys.Blocks) * 512
		}
		files = append(files, flowFile{p, t, size})
		return nil
	})
	sort.Slice(files, func(i, j int) bool {
		if !files[i].t.Equal(files[j].t) {
			return files[i].t.Before(files[j].t)
		}
		return files[i].path < files[j].path
	})
	return files
}

// fileTime reads the slot start from nfcapd.YYYYMMDDhhmm[ss].
func fileTime(name string, loc *time.Location) (time.Time, bool) {
	s, ok := strings.CutPrefix(name, "nfcapd.")
	if !ok {
		return time.Time{}, false
	}
	for _, layout := range []string{"200601021504", "20060102150405"} {
		if len(s) == len(layout) {
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func scaled(n uint64) string {
	f := float64(n)
	for _, u := range []string{"KB", "MB", "GB", "TB"} {
		f /= 1024
		if f < 1024 {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return fmt.Sprintf("%.1f PB", f/1024)
}

// expire applies the limits of dir's .nfstat, oldest files first, down to
// the watermark, and writes the updated .nfstat (nfcapd -e).
func (c *Collector) expire(dir string) {
	st, err := ReadDirStat(dir)
	if err != nil {
		c.cfg.Errorf("ERROR: %s/.nfstat: %v", dir, err)
	}
	n, err := Expire(dir, &st, time.Now(), c.cfg.Location)
	c.cfg.Infof("Run expire on '%s'", dir)
	limit := "<none>"
	if st.MaxSize > 0 {
		limit = scaled(st.MaxSize)
	}
	life := "<none>"
	if st.Lifetime > 0 {
		life = (time.Duration(st.Lifetime) * time.Second).String()
	}
	c.cfg.Infof("Limits: Filesize %s, Lifetime %s, Watermark: %d%%\n", limit, life, st.Watermark)
	c.cfg.Infof("Current size: %d = %s, Current lifetime: %d sec, Number of files: %d", st.Size, scaled(st.Size), st.Last-st.First, st.NumFiles)
	if err != nil {
		c.cfg.Errorf("ERROR: expire: %v", err)
	} else if n == 0 {
		c.cfg.Infof("expire completed - nothing to expire.")
	} else {
		c.cfg.Infof("expire completed - %d files removed.", n)
	}
}

// Expire removes the oldest flow files under dir while the directory is
// beyond st's size limit (down to the watermark) or its files are older
// than the lifetime, then updates st and dir/.nfstat. It returns the
// number of files removed.
func Expire(dir string, st *DirStat, now time.Time, loc *time.Location) (int, error) {
	files := scanFlowFiles(dir, loc)
	var total uint64
	for _, f := range files {
		total += f.size
	}
	wm := st.Watermark
	if wm == 0 || wm > 100 {
		wm = 95
	}
	removed := 0
	var sizeGoal uint64
	if st.MaxSize > 0 && total > st.MaxSize {
		sizeGoal = st.MaxSize * wm / 100
	}
	var oldest time.Time
	if st.Lifetime > 0 {
		oldest = now.Add(-time.Duration(st.Lifetime) * time.Second)
	}
	// The newest file is never removed: it is the one just written.
	for len(files) > 1 {
		f := files[0]
		tooBig := sizeGoal > 0 && total > sizeGoal
		tooOld := !oldest.IsZero() && f.t.Before(oldest)
		if !tooBig && !tooOld {
			break
		}
		if err := os.Remove(f.path); err != nil {
			return removed, err
		}
		os.Remove(filepath.Dir(f.path)) // an emptied sub directory; fails when not empty
		total -= f.size
		files = files[1:]
		removed++
	}
	st.Size = total
	st.NumFiles = uint64(len(files))
	st.First, st.Last = 0, 0
	if len(files) > 0 {
		st.First = files[0].t.Unix()
		st.Last = files[len(files)-1].t.Unix()
	}
	return removed, WriteDirStat(dir, *st)
}
