package scorer

import "unsafe"

// walkGroup is walkGroupGo in assembly (native_amd64.s).
//
//go:noescape
func walkGroup(np, rows unsafe.Pointer, depth int, at *[group]uint32)

// walkSum is walkSumGo in assembly (native_amd64.s).
//
//go:noescape
func walkSum(np, rows unsafe.Pointer, depth int, sums unsafe.Pointer, groups int)
