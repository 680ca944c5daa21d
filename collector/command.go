package collector

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CommandVars are the values nfcapd -x substitutes.
type CommandVars struct {
	Dir   string    // %d: the flow directory
	File  string    // %f: the file relative to Dir, with the sub directories
	Slot  string    // %t: the slot's time string, as in the file name
	Start time.Time // %u: the slot start, as Unix seconds
	Ident string    // %i
}

// ExpandCommand splits the -x command on spaces and tabs and then replaces
// %d %f %t %u %i inside each word. Splitting first means a value (a file
// name, an ident) is always one argument and is never read by a shell, so
// it cannot inject anything. Unknown tokens such as %q are returned and
// stay in the arguments unchanged, as with nfcapd; there is no %% escape.
func ExpandCommand(cmd string, v CommandVars) (argv []string, unknown []string) {
	for _, word := range strings.FieldsFunc(cmd, func(r rune) bool { return r == ' ' || r == '\t' }) {
		var b strings.Builder
		for i := 0; i < len(word); i++ {
			if word[i] != '%' || i+1 == len(word) {
				b.WriteByte(word[i])
				continue
			}
			i++
			switch word[i] {
			case 'd':
				b.WriteString(v.Dir)
			case 'f':
				b.WriteString(v.File)
			case 't':
				b.WriteString(v.Slot)
			case 'u':
				b.WriteString(strconv.FormatInt(v.Start.Unix(), 10))
			case 'i':
				b.WriteString(v.Ident)
			default:
				unknown = append(unknown, "%"+string(word[i]))
				b.WriteByte('%')
				b.WriteByte(word[i])
			}
		}
		argv = append(argv, b.String())
	}
	return argv, unknown
}

// CheckCommand expands the command once with sample values, as nfcapd does
// at startup, and returns the unknown tokens it found.
func CheckCommand(cmd string) []string {
	_, unknown := ExpandCommand(cmd, CommandVars{})
	return unknown
}

// launch runs -x for a file put in place, without a shell, and logs its
// exit status when it fails. It does not wait: the command may take as
// long as it likes, and Run waits for all of them before returning.
func (c *Collector) launch(job closeJob) {
	argv, unknown := ExpandCommand(c.cfg.Command, CommandVars{
		Dir:   job.src.Dir,
		File:  job.rel,
		Slot:  strings.TrimPrefix(filepath.Base(job.rel), "nfcapd."),
		Start: job.slot,
		Ident: job.src.Ident,
	})
	for _, u := range unknown {
		c.cfg.Errorf("Unknown format token '%s'", u)
	}
	if len(argv) == 0 {
		return
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = job.src.Dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if c.cfg.Verbose > 0 {
		c.cfg.Infof("Launcher: run %q", argv)
	}
	if err := cmd.Start(); err != nil {
		c.cfg.Errorf("ERROR: -x %s: %v", argv[0], err)
		return
	}
	c.cmdWG.Add(1)
	go func() {
		defer c.cmdWG.Done()
		if err := cmd.Wait(); err != nil {
			c.cfg.Errorf("Launcher: %s: %v", argv[0], err)
		}
	}()
}
