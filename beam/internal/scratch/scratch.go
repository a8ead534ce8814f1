// Package scratch gives a Beam pipeline run a temporary folder of its own.
//
// The Go SDK's universal runner (Prism included) creates an empty file
// beamloopbackworker-* in os.TempDir for every run in loopback mode and never
// removes it (sdks/v2 v2.78.0, go/pkg/beam/runners/universal/runnerlib/
// execute.go; apache/beam#27569). Every risklane-beam command and every
// test on Prism would leave one in /tmp. Isolate points TMPDIR at a fresh
// folder for the run and removes it, with whatever the SDK left there, at
// the end.
package scratch

import (
	"fmt"
	"os"
)

// Isolate creates a private temporary folder, makes it the process's
// TMPDIR and returns the function that removes it and restores TMPDIR.
func Isolate() (restore func(), err error) {
	old, had := os.LookupEnv("TMPDIR")
	dir, err := os.MkdirTemp("", "risklane-beam-")
	if err != nil {
		return nil, fmt.Errorf("temporary folder: %w", err)
	}
	if err := os.Setenv("TMPDIR", dir); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("temporary folder: %w", err)
	}
	return func() {
		if had {
			os.Setenv("TMPDIR", old)
		} else {
			os.Unsetenv("TMPDIR")
		}
		os.RemoveAll(dir)
	}, nil
}
