//go:build !amd64

package date

// haveKernels is false: the kernels are AVX-512 assembly (score_amd64.s).
var haveKernels = false

func scoreKernelF(proj []float32, idx []int32, qb, attH, lv, sc, margin, top []float32, trees int) {
	panic("date: no scoring kernels on this architecture")
}

func attendKernelF(proj []float32, idx []int32, w, s []float32, trees int) {
	panic("date: no scoring kernels on this architecture")
}

func softmaxKernelF(sc, top []float32, trees int) bool {
	panic("date: no scoring kernels on this architecture")
}
