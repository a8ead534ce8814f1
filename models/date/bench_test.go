package date

import "testing"

func benchArch() Arch {
	return Arch{Trees: 100, Leaves: 1600, Importers: 5000, Items: 3000, Dim: 16, Heads: 4, SelfAtt: true}
}

// BenchmarkLossGrad measures one mini-batch of 256 rows, forward and
// backward, at DATE's default shape (100 trees, dim 16, 4 heads).
func BenchmarkLossGrad(b *testing.B) {
	for _, self := range []bool{true, false} {
		a := benchArch()
		a.SelfAtt = self
		name := "self-attention"
		if !self {
			name = "no-self-attention"
		}
		b.Run(name, func(b *testing.B) {
			p := initParams(a, 1)
			batch := smallBatch(a, 256, 1)
			idx := make([]int, 256)
			for i := range idx {
				idx[i] = i
			}
			tr := newTrainer(newNet(a, p), 10, 2)
			b.ResetTimer()
			for range b.N {
				tr.lossGrad(batch, idx)
			}
			b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
