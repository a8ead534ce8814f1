//go:build unix

package forecast

import (
	"syscall"
	"time"
)

// cpuTime returns the process's CPU time, which load from other processes
// does not inflate the way it inflates wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
