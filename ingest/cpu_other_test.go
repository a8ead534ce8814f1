//go:build !unix

package ingest

// processCPU is not measured here: benchmarks leave out CPU per row.
func processCPU() float64 { return 0 }
