package date

import (
	"cmp"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"risklane/models/modeltest"
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
// times and their ratio. `make bench-date-torch` runs the default shape:
//
//	go test ./models/date -run '^$' -bench TrainVsPyTorch -benchtime 1x -timeout 1h
//
// RISKLANE_BENCH_EPOCHS sets the epochs (default 3; self-attention 1) and
// RISKLANE_BENCH_ROWS keeps only the first rows of the training batch (0 or
// unset: all), for a quick check that the benchmark works.
func BenchmarkTrainVsPyTorch(b *testing.B) {
	py := torchPython(b)
	batches := modeltest.KCS(b, "train.csv")
	epochs, rows := benchEnv(b, "RISKLANE_BENCH_EPOCHS", 0), benchEnv(b, "RISKLANE_BENCH_ROWS", 0)
	for _, c := range []struct {
		name   string
		self   bool
		epochs int
	}{{"default", false, cmp.Or(epochs, 3)}, {"self-attention", true, cmp.Or(epochs, 1)}} {
		b.Run(c.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.SelfAtt, cfg.Epochs, cfg.Patience, cfg.Threads = c.self, c.epochs, c.epochs, 2
			m, train, _, _, err := prepare(batches, cfg)
			if err != nil {
				b.Fatal(err)
			}
			if rows > 0 && rows < train.Rows() {
				train = train.head(rows, m.Arch.Trees, m.Arch.RevIn)
			}
			b.Logf("%d rows, %d trees, dim %d, self-attention %v, %d epochs, batch %d", train.Rows(), m.Arch.Trees, cfg.Dim, cfg.SelfAtt, cfg.Epochs, cfg.BatchSize)
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
	m, err := Train(modeltest.KCS(b, "train.csv"), cfg)
	if err != nil {
		b.Fatal(err)
	}
	valid := modeltest.KCS(b, "valid.csv")
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

// benchEnv reads a non-negative integer from the environment variable
// name (def when unset).
func benchEnv(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		b.Fatalf("%s=%q: want a whole number >= 0", name, v)
	}
	return n
}

// head returns b's first n rows (T trees, r revenue inputs per row).
func (b *Batch) head(n, T, r int) *Batch {
	return &Batch{Leaves: b.Leaves[:n*T], Imp: b.Imp[:n], Item: b.Item[:n], X: b.X[:n*r], Y: b.Y[:n], Rev: b.Rev[:n]}
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
