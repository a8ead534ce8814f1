// Package version is the one home of risklane's version: the string that
// `risklane --version` prints and every manifest records.
//
// A release build stamps it from `git describe` (make build, make release):
//
//	go build -ldflags "-X risklane/internal/version.stamp=$(git describe --tags --always --dirty)"
//
// An unstamped build (go build, go test) falls back to what the Go
// toolchain recorded: the module version, else the VCS revision, else
// "devel".
package version

import "runtime/debug"

// stamp is set by the linker (-X); see the package comment.
var stamp string

// String returns the version of this binary.
func String() string {
	if stamp != "" {
		return stamp
	}
	return fromBuildInfo(debug.ReadBuildInfo())
}

func fromBuildInfo(info *debug.BuildInfo, ok bool) string {
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}
