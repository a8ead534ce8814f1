//go:build !amd64

package scorer

import "unsafe"

// walkGroup is walkGroupGo where there is no assembly version.
func walkGroup(np, rows unsafe.Pointer, depth int, at *[group]uint32) {
	walkGroupGo(np, rows, depth, at)
}

// walkSum is walkSumGo where there is no assembly version.
func walkSum(np, rows unsafe.Pointer, depth int, sums unsafe.Pointer, groups int) {
	walkSumGo(np, rows, depth, sums, groups)
}
