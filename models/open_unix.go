//go:build unix

package models

import "syscall"

// openFlags open a model file without following a link and without
// blocking on a FIFO.
const openFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
