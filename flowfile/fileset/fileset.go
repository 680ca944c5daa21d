// Package fileset turns nfdump's input options -r, -R and -M into the
// ordered list of files nfdump 1.7.1 reads.
//
// The rules follow nfdump 1.7.1 as measured against the Debian binary (and,
// where a measurement needed explaining, its source at tag v1.7.1). The
// selection is by name only: nfdump does not look at the content while it
// builds the list, it opens each file later and complains then.
//
//   - -r path: the file itself. A directory (or anything whose stat mode has
//     the S_IFDIR bit, which includes sockets and block devices) is handled
//     as -R path.
//   - -R dir: every file below dir, depth first, entries of each directory
//     sorted by name (strcmp), files and sub-directories mixed.
//   - -R dir/first: the files of dir whose name is >= first (not a prefix).
//   - -R dir/first:last: the files of dir from first to last inclusive. When
//     last contains sub-directories (or names a file nfdump finds in a
//     sub-directory), the range spans that directory hierarchy.
//   - -M /pre/d1:d2:...: the -r or -R selection applied to every directory
//     /pre/d1, /pre/d2, ... With -r the directories are visited in the order
//     given; with -R they are visited in strcmp order of their path and each
//     one is walked completely before the next.
//
// Inside directories the walk skips .nfstat, nfcapd.current*, names that
// contain ".stat", ".DS_Store" or "pcap", and everything that is not a
// regular file after following symbolic links (fifos, sockets, dangling
// links). Hidden files are not skipped.
//
// Fatal problems are returned as *Error, which carries the exit code nfdump
// uses. Non-fatal messages nfdump prints on stderr while it builds the list
// (for example "WARNING: File 'a' > 'b'. Will not match anything!") are
// passed to Spec.Warn in the order nfdump prints them.
//
// Relative paths are resolved against the current working directory and are
// returned in the form nfdump itself uses, because nfdump prints these
// strings in its own messages ("Open file './x': bad magic ...").
package fileset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nfgo/nftools/internal/cnum"
	"github.com/nfgo/nftools/internal/fileopen"
)

// Exit codes nfdump 1.7.1 uses for file list problems.
const (
	// ExitFailure is EXIT_FAILURE, used for option conflicts and a bad -r path.
	ExitFailure = 1
	// ExitFileList is used for every fatal error of the file lister (-R, -M).
	ExitFileList = 250
	// ExitSegfault is what the shell reports when nfdump 1.7.1 crashes:
	// -R /file for a file directly in the root directory makes fts_open fail
	// and nfdump dereferences the NULL handle.
	ExitSegfault = 139
)

// Spec holds the raw arguments of the input options. An empty string means
// the option was not given.
type Spec struct {
	Read      string // -r
	Recursive string // -R
	Multi     string // -M

	// KeepRead is asked about every file selected by -r (alone or combined
	// with -M), in order, and drops the file when it returns false. nfdump
	// uses this step to drop a -r file whose stat record lies outside the -t
	// time window; -R selections are never checked. Nil keeps every file.
	KeepRead func(path string) bool

	// Warn receives the non-fatal messages nfdump prints on stderr while it
	// builds the list, one message per call, without the trailing newline.
	// Nil discards them.
	Warn func(msg string)
}

// Error is a fatal file list error: Msg is what nfdump prints on stderr
// (without the newline it appends; a few messages carry an extra "\n" of
// their own, which nfdump prints as an empty line) and Code the exit status.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "nfdump exit status " + strconv.Itoa(e.Code)
	}
	return e.Msg
}

// List returns the files nfdump reads for spec, in reading order. An empty
// list with a nil error is the case nfdump reports as
// "Empty file list. No files to process"; printing that is left to the caller.
//
// nfdump builds its list in a thread while it is already reading the first
// files, so a fatal error can come after some files were read. List then
// returns the files selected before the error together with the *Error.
func List(spec Spec) ([]string, error) {
	l := &lister{keep: spec.KeepRead, warnf: spec.Warn}
	if l.keep == nil {
		l.keep = func(string) bool { return true }
	}
	if l.warnf == nil {
		l.warnf = func(string) {}
	}
	err := l.run(spec)
	if l.files == nil {
		l.files = []string{}
	}
	return l.files, err
}

type lister struct {
	keep    func(string) bool
	warnf   func(string)
	sources []string // -M directories
	files   []string

	// Set up by prepareFilters for the walk; see walkDir.
	fileLevel int           // directory depth at which files are taken; 0 = every depth
	filters   []entryFilter // indexed by depth 0..fileLevel; nil when fileLevel == 0
}

// entryFilter bounds the entries accepted at one depth of the walk.
type entryFilter struct {
	first, last       string
	hasFirst, hasLast bool
}

// logMsg formats a message the way nfdump's LogError does: into a 512 byte
// buffer, so anything beyond 510 bytes is cut off.
func logMsg(format string, args ...any) string {
	s := fmt.Sprintf(format, args...)
	if len(s) > 510 {
		s = s[:510]
	}
	return s
}

func (l *lister) warn(format string, args ...any) { l.warnf(logMsg(format, args...)) }

func fail(code int, format string, args ...any) *Error {
	return &Error{Code: code, Msg: logMsg(format, args...)}
}

func (l *lister) run(spec Spec) error {
	// These checks and their order come from SetupInputFileSequence, which
	// runs before the lister thread starts; their failures exit with 1.
	// (nfdump's main prints the usage before this when no input is given.)
	if spec.Read == "" && spec.Recursive == "" && spec.Multi == "" {
		return fail(ExitFailure, "Need an input source -r/-R/-M - <stdin> invalid")
	}
	if spec.Read != "" && spec.Recursive != "" {
		return fail(ExitFailure, "-r and -R are mutually exclusive. Please specify either -r or -R")
	}
	if spec.Multi != "" && spec.Read == "" && spec.Recursive == "" {
		return fail(ExitFailure, "-M needs either -r or -R to specify the file or file list. Add '-R .' for all files in the directories.\n")
	}
	read, recursive := spec.Read, spec.Recursive
	if spec.Multi == "" && read != "" {
		// nfdump tests the stat mode with a bit-and, not an equality, so
		// sockets and block devices count as directories here and fail
		// later in the -R code with exit 250.
		if l.testPath(read, sIFDIR) == pathOK {
			recursive, read = read, ""
		} else if l.testPath(read, sIFREG) < pathOK {
			return fail(ExitFailure, "%s is not a file or directory", read)
		}
	}

	// From here on nfdump is in its lister thread.
	if spec.Multi != "" {
		l.sourceDirs(spec.Multi)
	}
	if recursive != "" {
		return l.fileList(recursive)
	}
	return l.readFiles(cleanPath(read))
}

// readFiles handles -r FILE after the directory case was turned into -R.
func (l *lister) readFiles(file string) error {
	if len(l.sources) == 0 {
		// No -M, or -M named no usable directory: the -r path is taken as
		// it is, without a further existence check.
		if l.keep(file) {
			l.files = append(l.files, file)
		}
		return nil
	}
	if strings.HasPrefix(file, "/") {
		return fail(ExitFileList, "File -r must not start with '/', when combined with a source list -M")
	}
	// -r with -M keeps the -M order (no sorting), unlike -R with -M.
	for _, dir := range l.sources {
		path := dir + "/" + file
		fi, err := os.Stat(path)
		switch {
		case err == nil && !fi.Mode().IsRegular():
			l.warn("Skip non file entry: '%s'", path)
		case err == nil:
			if l.keep(path) {
				l.files = append(l.files, path)
			}
		case errors.Is(err, syscall.ENOENT):
			// A bare nfcapd.YYYYMMDDhhmm name may live in a dated
			// sub-directory such as 2026/11/24.
			if sub, ok := guessSubDir(dir, file); ok {
				path = dir + "/" + sub + "/" + file
				if l.keep(path) {
					l.files = append(l.files, path)
				}
			} else {
				l.warn("stat() error '%s': %s", path, "File not found!")
			}
		default:
			return fail(ExitFileList, "stat() error '%s': %s", path, strerror(err))
		}
	}
	return nil
}

// sourceDirs expands -M /pre/d1:d2:... into /pre/d1, /pre/d2, ... A
// directory that fails the check ends the expansion with two messages but
// is not fatal: the directories accepted so far are used, and with none at
// all nfdump carries on as if -M had not been given.
func (l *lister) sourceDirs(dirs string) {
	colon := strings.IndexByte(dirs, ':')
	if colon < 0 {
		if !l.checkDir(dirs) {
			l.warn("Not a directory: '%s'", dirs)
			return
		}
		l.sources = append(l.sources, dirs)
		return
	}
	// The prefix is everything up to the last '/' of the first element.
	prefix, names := ".", dirs
	if slash := strings.LastIndexByte(dirs[:colon], '/'); slash >= 0 {
		prefix, names = dirs[:slash], dirs[slash+1:]
	}
	for _, name := range strings.Split(names, ":") {
		path := prefix + "/" + name
		if len(path) > 1022 { // nfdump formats into a 1023 byte buffer
			path = path[:1022]
		}
		if !l.checkDir(path) {
			l.warn("Not a directory: '%s'", path)
			return
		}
		l.sources = append(l.sources, path)
	}
}

// fileList handles -R EXPR (and -r DIR), alone or with -M.
func (l *lister) fileList(expr string) error {
	path := cleanPath(expr)

	var last string
	hasLast := false
	levelsLast := 0
	if colon := strings.IndexByte(path, ':'); colon >= 0 {
		if strings.LastIndexByte(path, ':') != colon {
			return fail(ExitFileList, "Multiple file separators ':' in path not allowed!")
		}
		path, last, hasLast = path[:colon], path[colon+1:], true
		if last == "" {
			return fail(ExitFileList, "Missing last file option after ':'!")
		}
		last = cleanPath(last)
		if strings.HasPrefix(last, "/") {
			return fail(ExitFileList, "Last file name in -R list must not start with '/'")
		}
		levelsLast = dirLevels(last)
		if levelsLast == 0 {
			// A bare last name may sit in a dated sub-directory of one of
			// the directories above the first file; if so the range spans
			// sub-directories. The search is relative to the working
			// directory, also when -M is given.
			if sub, ok := verifyFileRange(path, last); ok && sub != "" {
				last = sub + "/" + last
				levelsLast = dirLevels(last)
			}
		}
	}

	var (
		source              string
		firstPath, lastPath string
		firstFile, lastFile string
		hasFirstFile        bool
		fileLevel           int
	)
	if len(l.sources) == 0 {
		fi, err := os.Stat(path)
		if err != nil {
			return fail(ExitFileList, "stat() error '%s': %s", path, strerror(err))
		}
		isDir, isReg := fi.IsDir(), fi.Mode().IsRegular()
		if !isDir && !isReg {
			return fail(ExitFileList, "Not a file or directory: '%s'", path)
		}
		levelsFirst := dirLevels(path)
		switch {
		case hasLast && isDir:
			return fail(ExitFileList, "Not a file: '%s'", path)
		case hasLast && levelsLast > 0 && levelsFirst < levelsLast:
			return fail(ExitFileList, "Number of sub dirs for sub level hierarchy for file list -R do not match")
		case hasLast && levelsLast > 0 && levelsFirst == levelsLast:
			// Both ends are relative to the working directory (or to / for
			// an absolute first file).
			source = "."
			if strings.HasPrefix(path, "/") {
				source, path = "/", path[1:]
			}
			firstPath, firstFile = splitLast(path)
			lastPath, lastFile = splitLast(last)
			hasFirstFile = true
			fileLevel = levelsLast + 1
		case hasLast && levelsLast > 0:
			// The first file has more directory levels than the last one:
			// the extra leading ones form the base directory, e.g.
			// flows/2026/11/24/f1:2026/11/25/f2 walks flows from 2026/11/24
			// to 2026/11/25.
			p := strings.LastIndexByte(path, '/')
			for i := 0; i < levelsLast; i++ {
				p--
				for p >= 0 && path[p] != '/' {
					p--
				}
			}
			source = path[:p]
			firstPath, firstFile = splitLast(path[p+1:])
			lastPath, lastFile = splitLast(last)
			hasFirstFile = true
			fileLevel = levelsLast + 1
		case isDir:
			source = path
		default:
			// dir/first or dir/first:last: files of one directory only.
			source, firstFile = splitLast(path)
			if !strings.Contains(path, "/") {
				source = "."
			}
			hasFirstFile = true
			lastFile = last
			fileLevel = 1
		}
	} else {
		if strings.HasPrefix(path, "/") {
			return fail(ExitFileList, "File list -R must not start with '/' when combined with a source list -M")
		}
		if path != "." {
			// The names are checked against the first -M directory only.
			probe := l.sources[0] + "/" + path
			fi, err := os.Stat(probe)
			switch {
			case err == nil && !fi.Mode().IsRegular():
				return fail(ExitFileList, "Not a file : '%s'", probe)
			case err == nil:
			case errors.Is(err, syscall.ENOENT):
				sub, ok := guessSubDir(l.sources[0], path)
				if !ok {
					return fail(ExitFileList, "stat() error '%s': %s", probe, "File not found!")
				}
				path = sub + "/" + path
				if hasLast {
					sub, ok := guessSubDir(l.sources[0], last)
					if !ok {
						return fail(ExitFileList, "'%s': %s", last, "File not found!")
					}
					last = sub + "/" + last
					levelsLast = dirLevels(last)
				}
			default:
				return fail(ExitFileList, "stat() error '%s': %s", probe, strerror(err))
			}
			levelsFirst := dirLevels(path)
			if hasLast && levelsFirst != levelsLast {
				return fail(ExitFileList, "Number of sub dirs must agree in '%s' and '%s'", path, last)
			}
			// Unlike plain -R, a first file in sub-directories without a
			// last file selects everything from there to the end of the
			// whole hierarchy.
			firstPath, firstFile = splitLast(path)
			hasFirstFile = true
			fileLevel = 1
			if strings.Contains(path, "/") {
				fileLevel = levelsFirst + 1
			}
			if hasLast {
				lastPath, lastFile = splitLast(last)
			}
		}
		// "-R ." with -M lists everything and ignores any ":last".
	}

	roots := l.sources
	if len(roots) == 0 {
		roots = []string{source}
	}
	l.prepareFilters(fileLevel, firstPath, lastPath, firstFile, lastFile, hasFirstFile, hasLast)
	return l.walk(roots)
}

// splitLast splits at the last '/': "a/b/c" -> "a/b", "c"; "c" -> "", "c".
func splitLast(s string) (dir, name string) {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return "", s
}

// prepareFilters sets the name bounds for every depth of the walk. Depths
// between the top directory and the file depth are bounded by the leading
// components of firstPath and lastPath (compared as whole relative paths,
// e.g. "2026/11"); the file depth by firstFile and lastFile.
func (l *lister) prepareFilters(fileLevel int, firstPath, lastPath, firstFile, lastFile string, hasFirstFile, hasLast bool) {
	l.fileLevel = fileLevel
	if fileLevel == 0 {
		return
	}
	l.filters = make([]entryFilter, fileLevel+1)
	firstLeft, lastLeft := fileLevel > 1, fileLevel > 1 && lastPath != ""
	firstMark, lastMark := 0, 0
	for i := 1; i < fileLevel; i++ {
		f := &l.filters[i]
		if firstLeft {
			f.hasFirst = true
			if j := strings.IndexByte(firstPath[firstMark:], '/'); j >= 0 {
				f.first = firstPath[:firstMark+j]
				firstMark += j + 1
			} else {
				f.first = firstPath
				firstLeft = false
			}
		}
		if lastLeft {
			f.hasLast = true
			if j := strings.IndexByte(lastPath[lastMark:], '/'); j >= 0 {
				f.last = lastPath[:lastMark+j]
				lastMark += j + 1
			} else {
				f.last = lastPath
				lastLeft = false
			}
		}
		if f.hasFirst && f.hasLast && f.first > f.last {
			l.warn("WARNING: Entry '%s' > '%s'. Will not match anything!", f.first, f.last)
		}
	}
	f := &l.filters[fileLevel]
	f.first, f.hasFirst = firstFile, hasFirstFile
	f.last, f.hasLast = lastFile, hasLast
	if f.hasFirst && f.hasLast && f.first > f.last {
		l.warn("WARNING: File '%s' > '%s'. Will not match anything!", f.first, f.last)
	}
}

// walk visits the top directories the way nfdump's fts_open(FTS_LOGICAL)
// call does: the roots sorted by strcmp of their path, each one depth first.
func (l *lister) walk(roots []string) error {
	for _, r := range roots {
		if r == "" {
			// fts_open rejects an empty path and nfdump then crashes.
			return &Error{Code: ExitSegfault}
		}
	}
	roots = append([]string(nil), roots...)
	sort.Strings(roots)
	for _, root := range roots {
		fi, err := os.Stat(root)
		if err != nil || !fi.IsDir() {
			continue
		}
		// fts drops one trailing '/' of the root before appending "/name",
		// while nfdump cuts len(root)+1 bytes off the path to get the part
		// below the root. With a root like "multi/b/" this cuts one byte too
		// many ("026/11" instead of "2026/11"), which changes the range
		// comparisons; we reproduce that.
		if err := l.walkDir(strings.TrimSuffix(root, "/"), 1, len(root)+1, []fs.FileInfo{fi}); err != nil {
			return err
		}
	}
	return nil
}

// walkDir lists the entries of dir, which sits at depth level-1 below the
// root, sorted by name, and descends into sub-directories before going on
// with the next entry (fts pre-order).
func (l *lister) walkDir(dir string, level, cut int, ancestors []fs.FileInfo) error {
	entries := readEntries(dir)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		name := e.Name()
		// nfdump treats any entry below the file depth as an internal error.
		// It happens for -R dir/first when dir holds a non-empty
		// sub-directory whose name lies in the range.
		if l.fileLevel > 0 && level > l.fileLevel {
			return fail(ExitFileList, "ERROR: fts_level error at %s line %d", "flist.c", 701)
		}
		path := dir + "/" + name
		rel := ""
		if cut < len(path) {
			rel = path[cut:]
		}
		if e.Type().IsRegular() {
			// The directory's entry says so: no stat (nfcapd's directories
			// hold files, and this was a system call each).
			l.addFile(level, name, path)
			continue
		}
		fi, err := os.Stat(path) // FTS_LOGICAL follows symbolic links
		if err != nil {
			continue // dangling link or unreadable entry
		}
		switch {
		case fi.IsDir():
			if isCycle(fi, ancestors) {
				continue
			}
			if l.fileLevel > 0 && l.filters[level].outside(rel) {
				continue
			}
			if err := l.walkDir(path, level+1, cut, append(ancestors, fi)); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			l.addFile(level, name, path)
		}
	}
	return nil
}

// addFile lists the regular file path, called name, found at level, unless
// its name or the range leaves it out.
func (l *lister) addFile(level int, name, path string) {
	if skipName(name) {
		return
	}
	if l.fileLevel > 0 && (level != l.fileLevel || l.filters[level].outside(name)) {
		return
	}
	l.files = append(l.files, path)
}

func (f entryFilter) outside(s string) bool {
	return (f.hasFirst && s < f.first) || (f.hasLast && s > f.last)
}

// readEntries reads dir's entries, in the directory's order. It opens dir
// without the runtime's network poller (fileopen): through os.Open that was
// 20 of the ~60 system calls godump made on nfcapd's sample archive, whose
// files lie three directories deep.
func readEntries(dir string) []fs.DirEntry {
	d, err := fileopen.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	entries, _ := d.ReadDir(-1)
	return entries
}

// isCycle reports a directory that is one of its own ancestors (reached via
// a symbolic link); fts reports it as FTS_DC and does not descend.
func isCycle(fi fs.FileInfo, ancestors []fs.FileInfo) bool {
	for _, a := range ancestors {
		if os.SameFile(fi, a) {
			return true
		}
	}
	return false
}

// skipName reports the names nfdump never reads from a directory: the
// nfcapd stat file, the file nfcapd is still writing, other stat files,
// macOS metadata and packet captures.
func skipName(name string) bool {
	return name == ".nfstat" ||
		strings.HasPrefix(name, "nfcapd.current") ||
		strings.Contains(name, ".stat") ||
		strings.Contains(name, ".DS_Store") ||
		strings.Contains(name, "pcap")
}

// cleanPath normalises a path as nfdump does before using it: "//" becomes
// "/", one trailing '/' goes, "/./" becomes "/" and a leading "./" goes.
// Nothing else ("..", a trailing "/.") is touched.
func cleanPath(s string) string {
	for strings.Contains(s, "//") {
		s = strings.Replace(s, "//", "/", 1)
	}
	s = strings.TrimSuffix(s, "/")
	for strings.Contains(s, "/./") {
		s = strings.Replace(s, "/./", "/", 1)
	}
	return strings.TrimPrefix(s, "./")
}

// dirLevels counts the '/' in s, ignoring a leading one.
func dirLevels(s string) int {
	return strings.Count(strings.TrimPrefix(s, "/"), "/")
}

// verifyFileRange looks for last in the dated sub-directories of each
// directory above path, nearest first, and returns the sub-directory of the
// first hit ("" when last sits directly in that directory).
func verifyFileRange(path, last string) (string, bool) {
	for dir := path; ; {
		i := strings.LastIndexByte(dir, '/')
		if i < 0 {
			return "", false
		}
		dir = dir[:i]
		if sub, ok := guessSubDir(dir, last); ok {
			return sub, true
		}
	}
}

// subDirFormats are the sub-directory layouts nfcapd -S can create, in the
// order nfdump tries them; the first one is "no sub-directory".
var subDirFormats = []string{"", "%Y/%m/%d", "%Y/%m/%d/%H", "%Y/%W/%u", "%Y/%W/%u/%H", "%Y/%j", "%Y/%j/%H", "%F", "%F/%H"}

// guessSubDir finds the sub-directory of dir that holds the regular file
// name, for names of the form nfcapd.YYYYMMDDhhmm[ss] only: the time stamp
// (local time) gives the candidate directories.
func guessSubDir(dir, name string) (string, bool) {
	if (len(name) != 19 && len(name) != 21) || !strings.HasPrefix(name, "nfcapd.") {
		return "", false
	}
	t := isoTime(name[len("nfcapd."):])
	for _, format := range subDirFormats {
		sub := formatTime(format, t)
		fi, err := os.Stat(dir + "/" + sub + "/" + name)
		if err == nil && fi.Mode().IsRegular() {
			return sub, true
		}
	}
	return "", false
}

// isoTime reads YYYYMMDDhhmm[ss] as local time. Each field is read like C's
// atoi and out-of-range values roll over (month 13 is January next year),
// as mktime does.
func isoTime(s string) time.Time {
	field := func(from, to int) int {
		if to > len(s) {
			to = len(s)
		}
		return int(cnum.Atoi(s[from:to]))
	}
	sec := 0
	if len(s) == 14 {
		sec = field(12, 14)
	}
	return time.Date(field(0, 4), time.Month(field(4, 6)), field(6, 8), field(8, 10), field(10, 12), sec, 0, time.Local)
}

// formatTime implements the strftime conversions used in subDirFormats.
func formatTime(format string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		yday := t.YearDay() - 1
		wday := int(t.Weekday()) // Sunday = 0
		switch format[i] {
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'j':
			fmt.Fprintf(&b, "%03d", yday+1)
		case 'W': // week of the year, weeks start on Monday, week 0 before the first Monday
			fmt.Fprintf(&b, "%02d", (yday+7-(wday+6)%7)/7)
		case 'u': // day of the week, Monday = 1 ... Sunday = 7
			if wday == 0 {
				wday = 7
			}
			b.WriteString(strconv.Itoa(wday))
		case 'F':
			fmt.Fprintf(&b, "%s-%02d-%02d", strconv.Itoa(t.Year()), int(t.Month()), t.Day())
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// Values of nfdump's TestPath.
const (
	pathError   = -1 // stat failed other than "does not exist" (message printed)
	pathMissing = 0
	pathOther   = 1 // exists, but the mode lacks the wanted bit
	pathOK      = 2
)

// Stat mode type bits as in <sys/stat.h>.
const (
	sIFIFO  = 0o010000
	sIFCHR  = 0o020000
	sIFDIR  = 0o040000
	sIFBLK  = 0o060000
	sIFREG  = 0o100000
	sIFLNK  = 0o120000
	sIFSOCK = 0o140000
)

// modeBits maps a Go file mode back to the S_IFMT bits of stat(2).
func modeBits(m fs.FileMode) uint32 {
	switch {
	case m.IsRegular():
		return sIFREG
	case m&fs.ModeDir != 0:
		return sIFDIR
	case m&fs.ModeSymlink != 0:
		return sIFLNK
	case m&fs.ModeNamedPipe != 0:
		return sIFIFO
	case m&fs.ModeSocket != 0:
		return sIFSOCK
	case m&fs.ModeCharDevice != 0:
		return sIFCHR
	case m&fs.ModeDevice != 0:
		return sIFBLK
	}
	return 0
}

// testPath is nfdump's TestPath: note the bit test, which makes a socket
// (0140000) or block device (0060000) pass as a directory (0040000).
func (l *lister) testPath(path string, typ uint32) int {
	if len(path) >= 4096 {
		l.warn("MAXPATHLEN error in %s line %d", "util.c", 138)
		return pathError
	}
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return pathMissing
		}
		l.warn("stat(%s) error in %s line %d: %s", path, "util.c", 146, strerror(err))
		return pathError
	}
	if modeBits(fi.Mode())&typ == 0 {
		return pathOther
	}
	return pathOK
}

// checkDir is nfdump's CheckPath(path, S_IFDIR).
func (l *lister) checkDir(path string) bool {
	switch l.testPath(path, sIFDIR) {
	case pathMissing:
		l.warn("path does not exist: %s", path)
	case pathOther:
		l.warn("not a directory: %s", path)
	case pathOK:
		return true
	}
	return false
}

// strerror renders an error from os.Stat like C's strerror. Go's errno
// texts are glibc's with a lower-case first letter.
func strerror(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	s := errno.Error()
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
