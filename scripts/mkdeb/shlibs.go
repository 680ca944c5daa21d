package main

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// shlibDepends returns the packages the shared libraries of the programs
// under stage come from, as their shlibs files name them ("libpcap0.8
// (>= 1.5.1)"): what dpkg-shlibdeps would write into Depends, found the
// same way (the library's owner, dpkg -S, and its shlibs entry), without
// the debian/ tree dpkg-shlibdeps wants. goprobe links the C library and
// opens libpcap with dlopen(3), which its .note.dlopen names (see
// dlopenNote); gocapd and godump are static and add nothing. The libraries are
// this machine's, so the package is built for its own architecture and
// release (bookworm's libpcap0.8 is trixie's libpcap0.8t64).
func shlibDepends(stage string) ([]string, error) {
	needed := map[string]bool{}
	err := filepath.WalkDir(stage, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(p, "/bin/") {
			return err
		}
		f, err := elf.Open(p)
		if err != nil {
			var fe *elf.FormatError
			if errors.As(err, &fe) {
				return nil // a script, not a program
			}
			return err
		}
		defer f.Close()
		libs, err := f.ImportedLibraries()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		opened, err := dlopenNote(f)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, l := range append(libs, opened...) {
			needed[l] = true
		}
		return nil
	})
	if err != nil || len(needed) == 0 {
		return nil, err
	}
	paths, err := ldconfigPaths()
	if err != nil {
		return nil, err
	}
	deps := map[string]bool{}
	for soname := range needed {
		path, ok := paths[soname]
		if !ok {
			return nil, fmt.Errorf("%s: not in ldconfig's cache", soname)
		}
		pkg, err := owner(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", soname, err)
		}
		dep, err := shlibsEntry(pkg, soname)
		if err != nil {
			return nil, err
		}
		deps[dep] = true
	}
	out := make([]string, 0, len(deps))
	for d := range deps {
		out = append(out, d)
	}
	sort.Strings(out)
	return out, nil
}

// ldconfigPaths maps each library in ldconfig's cache to its file, as the
// dynamic loader finds it ("libpcap.so.0.8 (libc6,x86-64) => /lib/...").
func ldconfigPaths() (map[string]string, error) {
	ldconfig, err := exec.LookPath("ldconfig")
	if err != nil {
		ldconfig = "/sbin/ldconfig"
	}
	out, err := exec.Command(ldconfig, "-p").Output()
	if err != nil {
		return nil, fmt.Errorf("ldconfig -p: %w", err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(l), " ")
		if _, path, found := strings.Cut(rest, " => "); ok && found {
			if _, dup := m[name]; !dup {
				m[name] = path
			}
		}
	}
	return m, nil
}

// owner returns the package that installed path ("libpcap0.8:amd64"). With
// a merged /usr, dpkg knows a library by one of its two names.
func owner(path string) (string, error) {
	try := []string{path}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		try = append(try, real)
	}
	for _, p := range append([]string(nil), try...) {
		if strings.HasPrefix(p, "/usr/") {
			try = append(try, strings.TrimPrefix(p, "/usr"))
		} else {
			try = append(try, "/usr"+p)
		}
	}
	for _, p := range try {
		out, err := exec.Command("dpkg-query", "-S", p).Output()
		if err != nil {
			continue
		}
		pkg, _, ok := strings.Cut(strings.TrimSpace(string(out)), ": ")
		if ok && !strings.Contains(pkg, ",") {
			return pkg, nil
		}
	}
	return "", fmt.Errorf("no package owns %s", path)
}

// shlibsEntry reads the dependency that package pkg's shlibs file gives
// for soname: the line "libpcap 0.8 libpcap0.8 (>= 1.5.1)" for
// libpcap.so.0.8.
func shlibsEntry(pkg, soname string) (string, error) {
	name, version, ok := strings.Cut(soname, ".so.")
	if !ok {
		return "", fmt.Errorf("%s: not a versioned library name", soname)
	}
	out, err := exec.Command("dpkg-query", "--control-path", pkg, "shlibs").Output()
	if err != nil {
		return "", fmt.Errorf("%s: no shlibs file: %w", pkg, err)
	}
	f, err := os.Open(strings.TrimSpace(string(out)))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[0] == name && fields[1] == version {
			return strings.Join(fields[2:], " "), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: its shlibs file does not name %s", pkg, soname)
}

// dlopenNote returns the libraries a program says it opens with dlopen(3)
// in its .note.dlopen section (https://systemd.io/ELF_DLOPEN_METADATA/):
// notes of owner "FDO" and type 0x407c0c0a whose description is a JSON
// array of features, each with the sonames it may open (the first one
// found is used; a package depends on the first).
func dlopenNote(f *elf.File) ([]string, error) {
	sec := f.Section(".note.dlopen")
	if sec == nil {
		return nil, nil
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf(".note.dlopen: %w", err)
	}
	align := func(n uint32) int { return int((n + 3) &^ 3) }
	var libs []string
	for len(data) >= 12 {
		namesz, descsz, typ := f.ByteOrder.Uint32(data), f.ByteOrder.Uint32(data[4:]), f.ByteOrder.Uint32(data[8:])
		data = data[12:]
		if align(namesz)+align(descsz) > len(data) {
			return nil, errors.New(".note.dlopen: a note longer than its section")
		}
		name := strings.TrimRight(string(data[:namesz]), "\x00")
		desc := strings.TrimRight(string(data[align(namesz):align(namesz)+int(descsz)]), "\x00")
		data = data[align(namesz)+align(descsz):]
		if name != "FDO" || typ != 0x407c0c0a {
			continue
		}
		var features []struct {
			Soname []string `json:"soname"`
		}
		if err := json.Unmarshal([]byte(desc), &features); err != nil {
			return nil, fmt.Errorf(".note.dlopen: %w", err)
		}
		for _, ft := range features {
			if len(ft.Soname) > 0 {
				libs = append(libs, ft.Soname[0])
			}
		}
	}
	return libs, nil
}
