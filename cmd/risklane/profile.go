package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// cpuProfile is the hidden --cpuprofile flag: a Go CPU profile of the
// whole command, for `go tool pprof` (how DATE's scoring was profiled,
// docs/date.md).
var cpuProfile struct {
	path string
	f    *os.File
}

func init() {
	rootCmd.PersistentFlags().StringVar(&cpuProfile.path, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof)")
	_ = rootCmd.PersistentFlags().MarkHidden("cpuprofile")
	rootCmd.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpuProfile.path == "" {
			return nil
		}
		f, err := os.Create(cpuProfile.path)
		if err != nil {
			return usageError{msg: fmt.Sprintf("--cpuprofile: %v", err)}
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		cpuProfile.f = f
		return nil
	}
	cobra.OnFinalize(func() {
		if cpuProfile.f != nil {
			pprof.StopCPUProfile()
			cpuProfile.f.Close()
			cpuProfile.f = nil
		}
	})
}
