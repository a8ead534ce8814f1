//go:build unix

package sink

import (
	"os"
	"syscall"
)

// renameOpen: a file may be renamed and a folder removed while open, so a
// temporary file keeps its lock until it has its final name.
const renameOpen = true

// lockHeld takes an exclusive advisory lock on an open file or folder
// without waiting. The kernel drops it when the process dies, so a lock that
// can be taken means nobody is writing there any more.
func lockHeld(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// inUse reports whether a live process holds the lock of path. A path that
// cannot be opened (gone, or not ours to read) counts as in use: it is left
// alone.
func inUse(path string) (bool, *os.File) {
	f, err := os.Open(path)
	if err != nil {
		return true, nil
	}
	if err := lockHeld(f); err != nil {
		f.Close()
		return true, nil
	}
	return false, f
}
