package date

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

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
			tr := newTrainer(testNet(a, p), 10, 2)
			b.ResetTimer()
			for range b.N {
				tr.lossGrad(batch, idx)
			}
			b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkTrainVsPyTorch trains on the KCS training year with the same
// configuration (dim, heads, epochs, batch, initial weights, data) in
// risklane and in PyTorch on 2 threads, in one run, and reports both wall
// times and their ratio:
//
//	go test ./models/date -run '^$' -bench TrainVsPyTorch -benchtime 1x -timeout 1h
func BenchmarkTrainVsPyTorch(b *testing.B) {
	py := torchPython(b)
	batches := readKCS(b, "train.csv")
	for _, c := range []struct {
		name   string
		self   bool
		epochs int
	}{{"default", false, 3}, {"self-attention", true, 1}} {
		b.Run(c.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.SelfAtt, cfg.Epochs, cfg.Patience, cfg.Threads = c.self, c.epochs, c.epochs, 2
			m, train, _, _, err := prepare(batches, cfg)
			if err != nil {
				b.Fatal(err)
			}
			in := torchInput{Arch: m.Arch, Params: named(m.Arch, m.Params), Batch: train, LeafValues: m.leaves.Value, Alpha: cfg.Alpha,
				Adam: cfg.Adam, Epochs: cfg.Epochs, BatchSize: cfg.BatchSize, Threads: 2}
			path := filepath.Join(b.TempDir(), "bench.json")
			buf, err := json.Marshal(in)
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(path, buf, 0o644); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var goSecs, torchSecs float64
			for range b.N {
				start := time.Now()
				m.fit(train, &Batch{}, nil, start)
				goSecs += time.Since(start).Seconds()
				out, err := exec.Command(py, filepath.Join("testdata", "date_torch.py"), "bench", path).Output()
				if err != nil {
					b.Fatalf("date_torch.py bench: %v", err)
				}
				var res struct{ Seconds float64 }
				if err := json.Unmarshal(out, &res); err != nil {
					b.Fatalf("date_torch.py bench: %v: %s", err, out)
				}
				torchSecs += res.Seconds
			}
			n := float64(b.N)
			b.ReportMetric(goSecs/n, "risklane-s")
			b.ReportMetric(torchSecs/n, "pytorch-s")
			b.ReportMetric(torchSecs/goSecs, "pytorch/risklane")
			b.ReportMetric(float64(train.Rows()*cfg.Epochs)*n/goSecs, "rows/s")
		})
	}
}

// BenchmarkScoreKCS measures scoring through the model seam (Features and
// Predict) on the KCS validation quarter, with a model trained for one
// epoch on the training year:
//
//	go test ./models/date -run '^$' -bench ScoreKCS -benchtime 5x
func BenchmarkScoreKCS(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Epochs = 1
	m, err := Train(readKCS(b, "train.csv"), cfg)
	if err != nil {
		b.Fatal(err)
	}
	valid := readKCS(b, "valid.csv")
	rows := 0
	for _, rec := range valid {
		rows += int(rec.NumRows())
	}
	var feats, score, exp []float64
	b.ResetTimer()
	for range b.N {
		for _, rec := range valid {
			n := int(rec.NumRows())
			feats = grow(feats, n*len(m.FeatureNames()))
			score, exp = grow(score, n), grow(exp, n)
			if err := m.Features(rec, feats); err != nil {
				b.Fatal(err)
			}
			if err := m.Predict(rec, feats, score, exp); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
