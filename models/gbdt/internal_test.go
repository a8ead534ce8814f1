package gbdt

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"risklane/stats"
)

// Every training value lands in the bin its float32 threshold implies:
// float32(x) < threshold(f, b) exactly when code(x) <= b. This is what makes
// bin-space training and float-space prediction agree.
func TestBinsMatchThresholds(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 5000
	gens := map[string]func() float64{
		"normal":    func() float64 { return r.NormFloat64() },
		"few":       func() float64 { return float64(r.IntN(9)) - 4 },
		"ties":      func() float64 { return math.Round(r.NormFloat64()*3) / 3 },
		"long tail": func() float64 { return math.Exp(r.NormFloat64() * 10) },
		"huge":      func() float64 { return (r.Float64()*2 - 1) * math.MaxFloat32 },
		"tiny":      func() float64 { return r.NormFloat64() * 1e-40 }, // float32 subnormals
		"float64 detail": func() float64 {
			return 1 + float64(r.IntN(1000))*1e-12 // distinct in float64, one value in float32
		},
		"signed zeros": func() float64 { return math.Copysign(0, r.Float64()-0.5) },
	}
	for name, gen := range gens {
		for _, maxBin := range []int{2, 16, 256} {
			t.Run(name+"/"+strconv.Itoa(maxBin), func(t *testing.T) {
				col := make([]float64, n)
				for i := range col {
					col[i] = gen()
					if i%17 == 0 {
						col[i] = math.NaN()
					}
				}
				b := quantise(&Matrix{Rows: n, Cols: [][]float64{col}}, maxBin, 2)
				nb := b.nBins[0]
				if nb < 1 || nb > maxBin || nb > 255 {
					t.Fatalf("%d bins", nb)
				}
				for k := 1; k < nb; k++ {
					if !(b.cuts[0][k] > b.cuts[0][k-1]) {
						t.Fatalf("cuts not increasing: %v", b.cuts[0])
					}
				}
				for i, x := range col {
					code := int(b.codes[0][i])
					if math.IsNaN(x) {
						if code != nb {
							t.Fatalf("row %d: missing value has code %d, want %d", i, code, nb)
						}
						continue
					}
					for bin := -1; bin < nb; bin++ {
						if th := b.threshold(0, bin); (float32(x) < th) != (code <= bin) {
							t.Fatalf("row %d: x=%v code %d but threshold(%d)=%v", i, x, code, bin, th)
						}
					}
				}
			})
		}
	}
}

// With many distinct values the bins hold about equal counts: XGBoost's
// two-stage pruning first keeps 8 summary entries per bin, so each cut lies
// within half an entry's spacing of its ideal rank, and each bin's count
// within 1/8 of the ideal.
func TestBinsAreQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 100000
	col := make([]float64, n)
	for i := range col {
		col[i] = math.Exp(r.NormFloat64())
	}
	b := quantise(&Matrix{Rows: n, Cols: [][]float64{col}}, 64, 1)
	if b.nBins[0] != 64 {
		t.Fatalf("%d bins, want 64", b.nBins[0])
	}
	counts := make([]int, 64)
	for _, c := range b.codes[0] {
		counts[c]++
	}
	for bin, c := range counts {
		if math.Abs(float64(c)-float64(n)/64) > float64(n)/64/8+2 {
			t.Errorf("bin %d holds %d rows, want about %d", bin, c, n/64)
		}
	}
}

// Early stopping keeps the trees up to the best validation round, and the
// kept model scores the validation set exactly as reported for that round.
func TestEarlyStopping(t *testing.T) {
	X, y := synthetic(3000, 8, 21)
	V, yv := synthetic(1500, 8, 22)
	for _, metric := range []string{LogLoss, AUC, RMSE} {
		t.Run(metric, func(t *testing.T) {
			p := DefaultParams()
			p.NumRounds, p.Eta, p.MaxDepth, p.EarlyStoppingRounds, p.EvalMetric = 300, 0.5, 8, 5, metric
			p.Lambda, p.MinChildWeight = 0, 0 // overfit quickly
			model, rep, err := Train(X, y, V, yv, p)
			if err != nil {
				t.Fatal(err)
			}
			best := rep.BestIteration
			if len(model.Trees) != best+1 {
				t.Fatalf("%d trees for best iteration %d", len(model.Trees), best)
			}
			if len(rep.Valid) != best+1+p.EarlyStoppingRounds || len(rep.Valid) >= p.NumRounds {
				t.Fatalf("stopped after %d rounds, best %d, patience %d", len(rep.Valid), best, p.EarlyStoppingRounds)
			}
			// The best round is the first with the best score.
			for i, v := range rep.Valid {
				d := v - rep.Valid[best] // > 0: better than the best
				if metric != AUC {
					d = -d
				}
				if d > 0 || (i < best && d == 0) {
					t.Errorf("round %d scored %v, the best round %d %v", i, v, best, rep.Valid[best])
				}
			}
			if got := model.Attributes["best_iteration"]; got != strconv.Itoa(best) {
				t.Errorf("best_iteration attribute %q, want %d", got, best)
			}
			// Recompute the best round's metric from the kept model alone.
			margins := predictMargins(t, model, V)
			var got float64
			switch metric {
			case AUC:
				p := make([]float32, len(margins))
				pos := make([]bool, len(margins))
				for i, m := range margins {
					p[i], pos[i] = sigmoid(m), yv[i] == 1
				}
				got = stats.AUC(p, pos)
			case LogLoss:
				for i, m := range margins {
					got += logLoss(float64(sigmoid(m)), yv[i])
				}
				got /= float64(len(yv))
			case RMSE:
				for i, m := range margins {
					d := float64(sigmoid(m)) - yv[i]
					got += d * d
				}
				got = math.Sqrt(got / float64(len(yv)))
			}
			if math.Abs(got-rep.Valid[best]) > 1e-12 {
				t.Errorf("kept model scores %v, report says %v", got, rep.Valid[best])
			}
		})
	}
}

// The importance maps add up the kept trees' splits under the features' names.
func TestReportImportance(t *testing.T) {
	X, y := synthetic(2000, 5, 31)
	X.Names = []string{"a", "b", "c", "d", "e"}
	p := DefaultParams()
	p.NumRounds = 5
	model, rep, err := Train(X, y, nil, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	var gain, cover float64
	splits := 0
	for _, tr := range model.Trees {
		for n := range tr.NumNodes() {
			if !tr.IsLeaf(n) {
				gain += float64(tr.LossChange[n])
				cover += float64(tr.SumHessian[n])
				splits++
			}
		}
	}
	var g, c float64
	s := 0
	for name := range rep.Splits {
		if name < "a" || name > "e" {
			t.Errorf("unexpected feature name %q", name)
		}
		g += rep.Gain[name]
		c += rep.Cover[name]
		s += rep.Splits[name]
	}
	if s != splits || math.Abs(g-gain) > 1e-6*gain || math.Abs(c-cover) > 1e-6*cover {
		t.Errorf("report totals %d splits, gain %v, cover %v; trees have %d, %v, %v", s, g, c, splits, gain, cover)
	}
	if len(rep.Train) != 5 || rep.Valid != nil || rep.BestIteration != 4 {
		t.Errorf("train %v, valid %v, best %d", rep.Train, rep.Valid, rep.BestIteration)
	}
	if len(model.FeatureNames) != 5 || model.FeatureNames[4] != "e" || model.NumFeature != 5 {
		t.Errorf("feature names %v, num_feature %d", model.FeatureNames, model.NumFeature)
	}
}
