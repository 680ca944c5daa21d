// Package version holds the release version shared by godump, gocapd and
// goprobe.
package version

// Version is the release version. Builds set it with
//
//	go build -ldflags '-X github.com/nfgo/nftools/internal/version.Version=1.0.0'
var Version = "dev"

// Banner is the line a command prints for -V, in the form nfdump and
// nfcapd use: "<cmd>: Version: <version>".
func Banner(cmd string) string {
	return cmd + ": Version: " + Version
}
