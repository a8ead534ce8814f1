package scorer

import "unsafe"

// walkGroup is walkGroupGo in assembly (native_amd64.s).
//
//go:noescape
func walkGroup(np, rows unsafe.Pointer, depth int, at *[group]uint32)
