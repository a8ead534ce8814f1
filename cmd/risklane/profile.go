package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"risklane/sink"
)

// cpuProfile is the hidden --cpuprofile flag: a Go CPU profile of the
// whole command, for `go tool pprof` (how DATE's scoring was profiled,
// docs/date.md). It never replaces an existing file (it could be an input
// of the same command) and is written under a temporary name, renamed when
// the command ends, so a killed run leaves no half-written profile.
var cpuProfile struct {
	path string
	f    *sink.AtomicFile
}

func init() {
	rootCmd.PersistentFlags().StringVar(&cpuProfile.path, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof)")
	_ = rootCmd.PersistentFlags().MarkHidden("cpuprofile")
	rootCmd.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpuProfile.path == "" {
			return nil
		}
		f, err := sink.CreateNew(cpuProfile.path)
		if err != nil {
			return usageError{msg: fmt.Sprintf("--cpuprofile: %v", err)}
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Abort()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		cpuProfile.f = f
		return nil
	}
	cobra.OnFinalize(func() {
		if cpuProfile.f != nil {
			pprof.StopCPUProfile()
			if err := cpuProfile.f.Commit(); err != nil {
				fmt.Fprintln(os.Stderr, "risklane: --cpuprofile:", err)
			}
			cpuProfile.f = nil
		}
	})
}
