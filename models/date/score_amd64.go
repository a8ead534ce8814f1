package date

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// haveKernels reports whether scoring may use the AVX-512 kernels of
// score_amd64.s (the processor and the operating system support them).
var haveKernels = cpu.X86.HasAVX512F && cpu.X86.HasFMA

// scoreKernel computes, for sixteen rows, the query attention's scores of
// every tree (sc[t*16+r]), each row's largest score (top[r]) and, when lv
// is not nil, the rows' tree margins (margin[r]): forwardScoreRows's score
// loop for a network of dim 16. The largest score is found with VMAXPS,
// which unlike Go's max may return -0 for +0 or skip a NaN; the softmax's
// outputs are the same all the same (exp(±0) is 1, and a NaN score makes
// every weight NaN either way).
// idx[t*16+r] is row r's leaf in tree t times 32 (2 × dim: its first float
// in proj); qb[r*16+o] is row r's query part of pre-activation o.
//
//go:noescape
func scoreKernel(proj *float32, idx *int32, qb, attH, lv, sc, margin, top *float32, trees int)

// attendKernel computes, for sixteen rows, the attended leaf vectors
// s[r*16+j] = the sum over the trees, in order, of w[t*16+r] times
// element j of the row's leaf embedding (forwardScoreRows's attention sum
// for a network of dim 16).
//
//go:noescape
func attendKernel(proj *float32, idx *int32, w, s *float32, trees int)

func scoreKernelF(proj []float32, idx []int32, qb, attH, lv, sc, margin, top []float32, trees int) {
	var lp *float32
	if lv != nil {
		lp = unsafe.SliceData(lv)
	}
	scoreKernel(unsafe.SliceData(proj), unsafe.SliceData(idx), unsafe.SliceData(qb), unsafe.SliceData(attH), lp,
		unsafe.SliceData(sc), unsafe.SliceData(margin), unsafe.SliceData(top), trees)
}

func attendKernelF(proj []float32, idx []int32, w, s []float32, trees int) {
	attendKernel(unsafe.SliceData(proj), unsafe.SliceData(idx), unsafe.SliceData(w), unsafe.SliceData(s), trees)
}

// softmaxKernel replaces the scores of sixteen rows (sc[t*16+r], trees
// trees) by their softmax over the trees, from each row's largest score
// top[r], as forwardScoreRows's loop does: exp of (score - top) as
// float32(math.Exp(float64(x))), summed in tree order, times 1/sum. The
// exponentials repeat, on eight float64 lanes, every step of math.Exp's
// amd64 assembly (its FMA path, taken on every processor with AVX-512), so
// they are its bits (TestExpKernel). It returns false, having written
// nothing, when some x is NaN or outside [-700, 700] (where math.Exp
// would take its overflow or denormal paths): the caller then does it in
// Go.
//
//go:noescape
func softmaxKernel(sc, top *float32, trees int) bool

func softmaxKernelF(sc, top []float32, trees int) bool {
	return softmaxKernel(unsafe.SliceData(sc), unsafe.SliceData(top), trees)
}
