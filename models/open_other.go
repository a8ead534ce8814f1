//go:build !unix

package models

// openFlags: the Lstat check before opening is what refuses links and
// special files here.
const openFlags = 0
