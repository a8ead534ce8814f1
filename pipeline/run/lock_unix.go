//go:build unix

package run

import (
	"fmt"
	"os"
	"syscall"
)

// lock takes an exclusive advisory lock on path (created if needed) without
// waiting. The kernel drops it when the process dies, so a killed run never
// leaves a stale lock.
func lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s is locked by a run still going; wait for it or check for a stuck process", ErrBusy, path)
	}
	return func() { f.Close() }, nil
}
