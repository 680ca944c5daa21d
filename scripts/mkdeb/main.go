// Command mkdeb builds the Debian package of the three tools with nfpm,
// from a tree that `make install DESTDIR=stage PREFIX=/usr` put down, so
// the package holds exactly what make install installs: binaries, man
// pages, systemd units, /etc/default files (as conffiles) and the
// sysusers.d entry. Depends names the packages of the shared libraries
// goprobe links (libpcap's runtime package), as dpkg-shlibdeps would. The
// maintainer scripts of packaging/deb make the
// system user and /var/cache/nfdump.
//
//	go run ./scripts/mkdeb -stage build/stage -version 0.1.0 -o bin/
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// Name is the package's name.
const Name = "nftools"

// Maintainer is the package's maintainer.
const Maintainer = "nftools maintainers <nftools@users.noreply.github.com>"

// buildTime is the time of every file in the package and of its
// changelog entry: a fixed time keeps the package the same from build to
// build.
var buildTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	stage := flag.String("stage", "", "the tree make install put down (DESTDIR, with PREFIX=/usr)")
	version := flag.String("version", "0.0.0", "package version")
	arch := flag.String("arch", runtime.GOARCH, "Debian architecture")
	out := flag.String("o", ".", "directory for the .deb")
	scripts := flag.String("scripts", "packaging/deb", "directory of postinst, prerm, postrm, copyright and lintian-overrides")
	flag.Parse()
	if *stage == "" {
		fmt.Fprintln(os.Stderr, "mkdeb: -stage is required")
		os.Exit(2)
	}
	path, err := build(*stage, *scripts, *version, *arch, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdeb:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

// contents lists the files under stage as package contents: everything
// under /etc is a conffile, dpkg keeps an admin's changes to it.
func contents(stage, scripts, version, tmp string) (files.Contents, error) {
	var cs files.Contents
	err := filepath.WalkDir(stage, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(stage, p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		dst := "/" + filepath.ToSlash(rel)
		c := &files.Content{Source: p, Destination: dst, FileInfo: &files.ContentFileInfo{Mode: fi.Mode().Perm()}}
		if strings.HasPrefix(dst, "/etc/") {
			c.Type = files.TypeConfig
		}
		if strings.HasPrefix(dst, "/usr/share/man/") {
			// Debian's man pages are compressed; lintian checks it.
			gz, err := gzipped(p, filepath.Join(tmp, d.Name()+".gz"))
			if err != nil {
				return err
			}
			c.Source, c.Destination = gz, dst+".gz"
		}
		cs = append(cs, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("nothing under %s: run make install DESTDIR=%s PREFIX=/usr first", stage, stage)
	}
	// Debian's changelog of a native package, and lintian's overrides.
	entry := fmt.Sprintf("%s (%s) unstable; urgency=medium\n\n  * Built from the %s sources.\n\n -- %s  %s\n",
		Name, version, Name, Maintainer, buildTime.Format(time.RFC1123Z))
	changelog := filepath.Join(tmp, "changelog")
	if err := os.WriteFile(changelog, []byte(entry), 0o644); err != nil {
		return nil, err
	}
	changelogGz, err := gzipped(changelog, changelog+".gz")
	if err != nil {
		return nil, err
	}
	doc := "/usr/share/doc/" + Name + "/"
	for _, f := range []struct{ src, dst string }{
		{filepath.Join(scripts, "copyright"), doc + "copyright"},
		{changelogGz, doc + "changelog.gz"},
		{filepath.Join(scripts, "lintian-overrides"), "/usr/share/lintian/overrides/" + Name},
	} {
		cs = append(cs, &files.Content{Source: f.src, Destination: f.dst, FileInfo: &files.ContentFileInfo{Mode: 0o644}})
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Destination < cs[j].Destination })
	return cs, nil
}

// gzipped compresses src into dst with gzip -9n (no name, no time) and
// returns dst.
func gzipped(src, dst string) (string, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	f, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		f.Close()
		return "", err
	}
	_, err = zw.Write(data)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return dst, err
}

// build writes the .deb into out and returns its path.
func build(stage, scripts, version, arch, out string) (string, error) {
	tmp, err := os.MkdirTemp("", "mkdeb")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cs, err := contents(stage, scripts, version, tmp)
	if err != nil {
		return "", err
	}
	libs, err := shlibDepends(stage)
	if err != nil {
		return "", fmt.Errorf("the shared libraries' packages: %w", err)
	}
	info := &nfpm.Info{
		Name:          Name,
		Arch:          arch,
		Platform:      "linux",
		Version:       version,
		VersionSchema: "none",
		Section:       "net",
		Priority:      "optional",
		Maintainer:    Maintainer,
		Description: "NetFlow probe, collector and reader (goprobe, gocapd, godump)\n" +
			"Drop-in replacements for fprobe 1.1, nfcapd 1.7.1 and nfdump 1.7.1 with\n" +
			"their command lines and file format, and systemd units that run the\n" +
			"probe and the collector as services.",
		Homepage: "https://github.com/nfgo/nftools",
		License:  "undecided",
		MTime:    buildTime,
		Overridables: nfpm.Overridables{
			// The postinst makes the system user with adduser.
			Depends:  append(libs, "adduser"),
			Contents: cs,
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(scripts, "postinst"),
				PreRemove:   filepath.Join(scripts, "prerm"),
				PostRemove:  filepath.Join(scripts, "postrm"),
			},
		},
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return "", err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(out, deb.Default.ConventionalFileName(info))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := deb.Default.Package(info, f); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	return path, f.Close()
}
