//go:build unix

package run

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) the process has used: a
// stage's CPU time is what the machine must give it, whatever else runs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
