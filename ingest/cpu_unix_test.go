//go:build unix

package ingest

import "syscall"

// processCPU is the CPU time the process has used (user and system), in
// seconds: under a shared machine's load, CPU per row is steadier than
// the wall time.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
