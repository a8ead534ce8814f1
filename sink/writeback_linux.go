package sink

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing n bytes of f from off to
// disk without waiting for it (sync_file_range SYNC_FILE_RANGE_WRITE), so
// that Commit's fsync finds little left to write. Errors are ignored: the
// fsync that follows reports what matters.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
