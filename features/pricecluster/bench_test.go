package pricecluster

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// benchData draws rows declarations over groups HS6 codes: each group has
// its own log-normal unit price (median e^mu, mu in [-1, 7], sigma in
// [0.2, 0.8]), masses are log-normal, and rows pick groups at random.
func benchData(rows, groups int) (hs6 []int32, value, mass []float64) {
	rng := rand.New(rand.NewPCG(2024, uint64(groups)))
	codes := make([]int32, groups)
	mu := make([]float64, groups)
	sigma := make([]float64, groups)
	for g := range codes {
		codes[g] = int32(rng.IntN(1_000_000))
		mu[g] = rng.Float64()*8 - 1
		sigma[g] = 0.2 + 0.6*rng.Float64()
	}
	hs6 = make([]int32, rows)
	value = make([]float64, rows)
	mass = make([]float64, rows)
	for i := range rows {
		g := rng.IntN(groups)
		hs6[i] = codes[g]
		mass[i] = math.Exp(rng.NormFloat64() + 3)
		value[i] = mass[i] * math.Exp(mu[g]+sigma[g]*rng.NormFloat64())
	}
	return hs6, value, mass
}

// BenchmarkFit clusters generated declarations: the 10M-row, 5,000-group
// case is the target size (go test -bench 'Fit/rows=10M' -benchtime 1x); the
// 2M-row case keeps about the same rows per group for a quick check.
func BenchmarkFit(b *testing.B) {
	for _, size := range []struct{ rows, groups int }{{2_000_000, 1_000}, {10_000_000, 5_000}} {
		b.Run(fmt.Sprintf("rows=%dM/groups=%d", size.rows/1_000_000, size.groups), func(b *testing.B) {
			hs6, value, mass := benchData(size.rows, size.groups)
			b.ResetTimer()
			for b.Loop() {
				if _, err := Fit(hs6, value, mass, nil, Config{Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkApply(b *testing.B) {
	const rows = 1_000_000
	hs6, value, mass := benchData(rows, 1_000)
	m, err := Fit(hs6, value, mass, nil, Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var a Assignment
	b.ResetTimer()
	for b.Loop() {
		if err := m.Apply(hs6, value, mass, nil, &a); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
