// Package nfconf reads nfdump 1.7.1's config file, nfdump.conf: where the
// tools look for it (-C, NFCONF, the built-in path) and the TOML subset
// its parser (tomlc99) accepts, with that parser's error texts, so that
// a file works or fails the same way with our tools and nfdump's. nfcapd
// takes [nfcapd] exporter.<ident> = ["ip", "dir"] from it; nfdump's fmt.*
// formats and geodb.path live in the same file.
package nfconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// nfcapd 1.7.1 reads an optional TOML file (-C) and takes from it only the
// table [nfcapd], and of that only exporter.<ident> = ["ip", "dir"]: one
// flow source per entry, like -n ident,ip,dir. The file is shared with
// nfdump ([nfdump] fmt.* and geodb.path), so everything else must parse
// but is ignored.

// Paths says where the config file is looked for when -C is not
// given.
type Paths struct {
	// Env is the value of the NFCONF environment variable: the file to
	// read when set.
	Env string
	// Default is the file read otherwise, but only when Probe exists:
	// Debian's nfcapd 1.7.1 was built for /etc but still tests the
	// compiled-in /usr/local/etc/nfdump.conf before it reads
	// /etc/nfdump.conf, and gocapd reads the files nfcapd reads.
	Default, Probe string
}

// DefaultPaths are nfcapd 1.7.1's as Debian builds it.
func DefaultPaths() Paths {
	return Paths{Env: os.Getenv("NFCONF"), Default: "/etc/nfdump.conf", Probe: "/usr/local/etc/nfdump.conf"}
}

// None is the -C value that reads no config file at all.
const None = "none"

// CheckFlag checks -C file as nfcapd does while it reads its
// options: the file must exist and be a regular file, unless it is
// "none".
func CheckFlag(file string) error {
	if file == None {
		return nil
	}
	return checkRegular(file)
}

func checkRegular(file string) error {
	fi, err := os.Stat(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("path does not exist: %s", file)
	case err != nil:
		return fmt.Errorf("stat(%s) error: %v", file, err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("not a regular file: %s", file)
	}
	return nil
}

// Exporter is one exporter.<ident> = ["ip", "dir"] entry, as
// written.
type Exporter struct {
	Ident, IP, Dir string
}

// Exporters finds the config file the way nfcapd 1.7.1 does (-C
// file, "none" for no file, else NFCONF, else the default) and returns its
// exporters in the order nfcapd adds them. A missing default file is no
// error; a named file that is missing or does not parse is.
//
// Like nfcapd, it stops silently at the first entry that is not an array
// of two strings (more elements are ignored); and since nfcapd lists a
// table's plain values before its arrays, an entry such as
// exporter.x = "ip" hides every exporter of the file.
func Exporters(flag string, paths Paths) ([]Exporter, error) {
	file := flag
	switch {
	case flag == None:
		return nil, nil
	case file == "" && paths.Env != "":
		file = paths.Env
	case file == "":
		if _, err := os.Stat(paths.Probe); err != nil {
			return nil, nil
		}
		file = paths.Default
	}
	if err := checkRegular(file); err != nil {
		return nil, err
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	root, err := parseTOML(text)
	if err != nil {
		return nil, fmt.Errorf("Failed to parse config file %s: %v", file, err)
	}
	section := root.table("nfcapd")
	if section == nil {
		return nil, nil
	}
	list := section.table("exporter")
	if list == nil {
		return nil, nil
	}
	var out []Exporter
	for _, key := range list.keys() {
		arr := list.array(key)
		if arr == nil || len(arr.items) < 2 {
			break
		}
		ip, ok1 := arr.items[0].str()
		dir, ok2 := arr.items[1].str()
		if !ok1 || !ok2 {
			break
		}
		out = append(out, Exporter{Ident: key, IP: ip, Dir: dir})
	}
	return out, nil
}
