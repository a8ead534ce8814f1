// Package scratch gives a Beam pipeline run a temporary folder of its own.
//
// The Go SDK's universal runner (Prism included) creates an empty file
// beamloopbackworker-* in os.TempDir for every run in loopback mode and never
// removes it (sdks/v2 v2.78.0, go/pkg/beam/runners/universal/runnerlib/
// execute.go; apache/beam#27569). Every risklane-beam command and every
// test on Prism would leave one in /tmp. Isolate points TMPDIR at a fresh
// folder for the run and removes it, with whatever the SDK left there, at
// the end.
//
// The folder is locked by the run for as long as it lives (sink.MkdirTemp),
// so a killed run's folder, which restore never removed, is told from a
// live one's and swept by the next Isolate (sink.RemoveStale).
package scratch

import (
	"fmt"
	"os"

	"risklane/sink"
)

// Prefix names the folders Isolate makes in os.TempDir. Folders of earlier
// versions (risklane-beam-NNN, not locked) are not swept: a live run of
// such a version could not be told from a dead one.
const Prefix = "risklane-beam-scratch-"

// Isolate removes the folders that killed runs left, creates a private
// temporary folder, makes it the process's TMPDIR and returns the function
// that removes it and restores TMPDIR.
func Isolate() (restore func(), err error) {
	old, had := os.LookupEnv("TMPDIR")
	parent := os.TempDir()
	// A folder that cannot be removed is left; it does not stop this run.
	sink.RemoveStale(parent, Prefix)
	dir, err := sink.MkdirTemp(parent, Prefix)
	if err != nil {
		return nil, fmt.Errorf("temporary folder: %w", err)
	}
	if err := os.Setenv("TMPDIR", dir.Path()); err != nil {
		dir.Remove()
		return nil, fmt.Errorf("temporary folder: %w", err)
	}
	return func() {
		if had {
			os.Setenv("TMPDIR", old)
		} else {
			os.Unsetenv("TMPDIR")
		}
		dir.Remove()
	}, nil
}
