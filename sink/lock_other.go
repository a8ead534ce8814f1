//go:build !unix

package sink

import "os"

// renameOpen: an open file cannot be renamed here; it is closed first.
const renameOpen = false

// lockHeld cannot lock on this system: temporary files are still written and
// renamed atomically, but no later run can tell a stale one from a live one.
func lockHeld(*os.File) error { return nil }

// inUse: without locks every temporary file may be a live run's, so none is
// removed.
func inUse(string) (bool, *os.File) { return true, nil }
