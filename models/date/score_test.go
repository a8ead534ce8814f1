package date

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestScoreKernel: the AVX-512 kernels give forwardScoreRows's outputs
// and attention weights bit for bit (each lane does its row's arithmetic in
// the Go loops' order, with no fused multiply-add), for row counts that are
// and are not multiples of the sixteen lanes, with and without the tree
// margin, on a table of leaves as large as the default trees'.
func TestScoreKernel(t *testing.T) {
	if !haveKernels {
		t.Skip("no AVX-512 on this machine: scoring uses forwardScoreRows alone")
	}
	for _, c := range []struct {
		name string
		a    Arch
		rows int
	}{
		{"small", Arch{Trees: 7, Leaves: 70, Importers: 9, Items: 5, Dim: 16, RevIn: 3, Margin: true}, 37},
		{"no margin, no revenue inputs", Arch{Trees: 33, Leaves: 330, Importers: 9, Items: 5, Dim: 16}, 16},
		{"default trees", Arch{Trees: 400, Leaves: 400 * 150, Importers: 500, Items: 300, Dim: 16, RevIn: 3, Margin: true}, 301},
		{"revenue tower", Arch{Trees: 7, Leaves: 70, Importers: 9, Items: 5, Dim: 16, RevIn: 3, Margin: true, RevHid: 24}, 37},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := c.a
			p := initParams(a, 5)
			rng := rand.New(rand.NewPCG(9, 9))
			for i := range p {
				p[i] += float32(0.05 * rng.NormFloat64()) // every tensor away from its initial value
			}
			p[len(p)/3] = float32(math.Copysign(0, -1))
			n := testNet(a, p)
			b := smallBatch(a, c.rows, 4)
			proj := n.leafProjections()
			N := b.Rows()
			z1, r1, att1 := make([]float32, N), make([]float32, N), make([]float32, N*a.Trees)
			z2, r2, att2 := make([]float32, N), make([]float32, N), make([]float32, N*a.Trees)
			var rs scoreRows[float32]
			n.forwardScoreRows(newWork[float32](a), &rs, proj, b.Leaves, N, b.Imp, b.Item, b.X, z1, r1, att1)
			forwardScoreKernel(n, newWork[float32](a), proj, b.Leaves, N, b.Imp, b.Item, b.X, z2, r2, att2)
			same := func(what string, x, y []float32, per int) {
				for i := range x {
					if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
						t.Fatalf("row %d: %s %v (Go loops), %v (kernels)", i/per, what, x[i], y[i])
					}
				}
			}
			same("logit", z1, z2, 1)
			same("revenue output", r1, r2, 1)
			same("attention weight", att1, att2, a.Trees)
		})
	}
}

// BenchmarkScoreRows measures the scoring forward pass at the default
// shape (400 trees, 150 leaves each, dim 16, revenue inputs, tree margin)
// through the Go loops and through the kernels.
func BenchmarkScoreRows(b *testing.B) {
	a := Arch{Trees: 400, Leaves: 400 * 150, Importers: 5000, Items: 3000, Dim: 16, RevIn: 3, Margin: true}
	n := testNet(a, initParams(a, 5))
	const N = 1024
	batch := smallBatch(a, N, 4)
	proj := n.leafProjections()
	z, r := make([]float32, N), make([]float32, N)
	w := newWork[float32](a)
	run := func(b *testing.B, f func()) {
		for b.Loop() {
			f()
		}
		b.ReportMetric(float64(b.N*N)/b.Elapsed().Seconds(), "rows/s")
	}
	b.Run("go", func(b *testing.B) {
		run(b, func() {
			n.forwardScoreRows(w, &w.rows, proj, batch.Leaves, N, batch.Imp, batch.Item, batch.X, z, r, nil)
		})
	})
	if haveKernels {
		b.Run("kernels", func(b *testing.B) {
			run(b, func() { forwardScoreKernel(n, w, proj, batch.Leaves, N, batch.Imp, batch.Item, batch.X, z, r, nil) })
		})
	}
}

// TestExpKernel: the softmax kernel's exponentials are math.Exp's bits
// (its sums and weights then follow), over the whole range it takes:
// 16 rows × 4,000 trees of scores from top-700 to top, spread evenly and at
// random, with ties at the top; and it refuses, writing nothing, a NaN or
// a score below top-700.
func TestExpKernel(t *testing.T) {
	if !haveKernels {
		t.Skip("no AVX-512 on this machine: scoring uses forwardScoreRows alone")
	}
	const G, T = 16, 4000
	rng := rand.New(rand.NewPCG(1, 2))
	sc, top := make([]float32, T*G), make([]float32, G)
	for r := range G {
		top[r] = float32(rng.NormFloat64() * 10)
		for k := range T {
			x := -700 * float64(k) / T // evenly
			if k%2 == 1 {
				x = -700 * rng.Float64() * math.Pow(rng.Float64(), 4) // at random, most near 0
			}
			if k%97 == 0 {
				x = 0
			}
			sc[k*G+r] = top[r] + float32(x)
		}
	}
	want := make([]float32, len(sc))
	for r := range G {
		var sum float32
		for k := range T {
			e := exp(sc[k*G+r] - top[r])
			want[k*G+r] = e
			sum += e
		}
		inv := 1 / sum
		for k := range T {
			want[k*G+r] *= inv
		}
	}
	got := append([]float32(nil), sc...)
	if !softmaxKernelF(got, top, T) {
		t.Fatal("the kernel refused scores within its range")
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			x := sc[i] - top[i%G]
			t.Fatalf("row %d tree %d, x = %v: weight %v, want %v (exp %v)", i%G, i/G, x, got[i], want[i], exp(x))
		}
	}
	for _, bad := range []float32{float32(math.NaN()), -701, 701} {
		s := append([]float32(nil), sc...)
		s[5*G+3] = top[3] + bad
		orig := append([]float32(nil), s...)
		if softmaxKernelF(s, top, T) {
			t.Fatalf("score top%+v accepted", bad)
		}
		for i := range s {
			if math.Float32bits(s[i]) != math.Float32bits(orig[i]) {
				t.Fatalf("score top%+v refused, but the scores were written", bad)
			}
		}
	}
}
