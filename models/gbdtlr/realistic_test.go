package gbdtlr

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"risklane/models/date"
	"risklane/models/metrics"
	"risklane/models/modeltest"
	"risklane/models/riskmodel"
)

// realistic is a leaf matrix as GBDT+LR fits it on generated data: the
// comparison's seed-1 data (200,000 rows of 2024), its training months
// (January-September) split as Train splits them, DATE's default trees
// (400 of depth 10) fitted on the earlier 90% (the regression's rows), and
// the leaves and labels of the latest 10% (the rows lambda is chosen on).
type realistic struct {
	fit    *problem
	vl     []int32
	vy     []int8
	trees  int
	leaves int
}

// realisticProblem builds the problem once (about 10 CPU-minutes) and
// keeps it in the file RISKLANE_GBDTLR_LEAVES names, read on later runs;
// without that variable it skips.
func realisticProblem(tb testing.TB) *realistic {
	tb.Helper()
	path := os.Getenv("RISKLANE_GBDTLR_LEAVES")
	if path == "" {
		tb.Skip("skipping: set RISKLANE_GBDTLR_LEAVES to a file that holds (or will hold) the realistic leaf matrix")
	}
	if b, err := os.ReadFile(path); err == nil {
		r, err := decodeRealistic(b)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		return r
	}
	all := modeltest.Declarations(tb, 200_000, 1)
	train, _, err := riskmodel.SplitByDate(all, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		tb.Fatal(err)
	}
	c := DefaultConfig()
	c.Seed = 1
	from, err := date.ValidationStart(train, c.ValidFraction)
	if err != nil {
		tb.Fatal(err)
	}
	fit, hold, err := riskmodel.SplitByDate(train, from)
	if err != nil {
		tb.Fatal(err)
	}
	threads := runtime.GOMAXPROCS(0)
	cf, err := date.FitCross(fit, c.Features, c.Trees, c.Seed, threads)
	if err != nil {
		tb.Fatal(err)
	}
	y := make([]float64, len(cf.Rows))
	for k, i := range cf.Rows {
		y[k] = float64(cf.Labels[i])
	}
	m := &Model{Config: c, Cross: cf.Cross}
	vl, vy, err := m.labelled(hold, threads)
	if err != nil {
		tb.Fatal(err)
	}
	r := &realistic{fit: &problem{leaves: cf.Leaves, y: y, T: m.NumTrees(), J: m.NumLeaves(), threads: threads},
		vl: vl, vy: vy, trees: m.NumTrees(), leaves: m.NumLeaves()}
	if err := os.WriteFile(path, encodeRealistic(r), 0o644); err != nil {
		tb.Fatal(err)
	}
	return r
}

// encodeRealistic: T, J, n, nv as uint32, then n*T and nv*T leaves as
// int32 and n + nv labels as bytes, little-endian.
func encodeRealistic(r *realistic) []byte {
	n, nv := len(r.fit.y), len(r.vy)
	b := binary.LittleEndian.AppendUint32(nil, uint32(r.trees))
	b = binary.LittleEndian.AppendUint32(b, uint32(r.leaves))
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, uint32(nv))
	for _, l := range r.fit.leaves {
		b = binary.LittleEndian.AppendUint32(b, uint32(l))
	}
	for _, l := range r.vl {
		b = binary.LittleEndian.AppendUint32(b, uint32(l))
	}
	for _, v := range r.fit.y {
		b = append(b, byte(v))
	}
	for _, v := range r.vy {
		b = append(b, byte(v))
	}
	return b
}

func decodeRealistic(b []byte) (*realistic, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("%d bytes: too short", len(b))
	}
	u := func(i int) int { return int(binary.LittleEndian.Uint32(b[4*i:])) }
	T, J, n, nv := u(0), u(1), u(2), u(3)
	if want := 16 + 4*(n+nv)*T + n + nv; len(b) != want {
		return nil, fmt.Errorf("%d bytes, want %d", len(b), want)
	}
	r := &realistic{trees: T, leaves: J, fit: &problem{T: T, J: J, threads: runtime.GOMAXPROCS(0)}}
	off := 16
	ints := func(k int) []int32 {
		out := make([]int32, k)
		for i := range out {
			out[i] = int32(binary.LittleEndian.Uint32(b[off+4*i:]))
			if out[i] < 0 || int(out[i]) >= J {
				panic(fmt.Sprintf("leaf %d out of range", out[i]))
			}
		}
		off += 4 * k
		return out
	}
	r.fit.leaves, r.vl = ints(n*T), ints(nv*T)
	r.fit.y = make([]float64, n)
	for i := range n {
		r.fit.y[i] = float64(b[off+i])
	}
	off += n
	r.vy = make([]int8, nv)
	for i := range nv {
		r.vy[i] = int8(b[off+i])
	}
	return r, nil
}

// TestRealisticProblem builds (or reads) the realistic leaf matrix and says
// its shape.
func TestRealisticProblem(t *testing.T) {
	r := realisticProblem(t)
	var pos float64
	for _, v := range r.fit.y {
		pos += v
	}
	t.Logf("%d rows (%.0f illicit), %d trees, %d leaves; %d validation rows", len(r.fit.y), pos, r.trees, r.leaves, len(r.vy))
}

// TestSolversRealistic fits the realistic problem for each lambda of the
// default grid by the former L-BFGS (from the start, as Train did) and by
// the trust-region Newton method (from the start, and down the grid from
// the previous lambda's weights, as Train does now), and logs the passes
// over the rows and how far apart the solutions are: objective, weights,
// validation probabilities and AUC. RISKLANE_GBDTLR_SOLVERS=tron skips
// L-BFGS.
func TestSolversRealistic(t *testing.T) {
	r := realisticProblem(t)
	p := r.fit
	c := DefaultConfig()
	withLBFGS := os.Getenv("RISKLANE_GBDTLR_SOLVERS") != "tron"
	m := &Model{}
	probs := func(x []float64) []float64 {
		m.W, m.B = x[:p.J], x[p.J]
		out := make([]float64, len(r.vy))
		T := r.trees
		for i := range out {
			out[i] = sigmoid(m.margin(r.vl[i*T : (i+1)*T]))
		}
		return out
	}
	auc := func(x []float64) float64 { a, _ := metrics.AUC(probs(x), r.vy); return a }
	var warm []float64
	var warmPasses float64
	for _, l := range []float64{1000, 100, 10, 1} {
		x := p.start()
		_, _, st, f := p.tronFit(l, x, c.MaxIter, c.Tol)
		if warm == nil {
			warm = p.start()
		} else {
			warm = slices.Clone(warm)
		}
		_, _, wst, wf := p.tronFit(l, warm, c.MaxIter, c.Tol)
		warmPasses += wst.Passes()
		t.Logf("lambda %g: Newton %d iterations, %d CG, %.1f passes, objective %.12g, AUC %.6f; warm %d iterations %.1f passes objective %.12g, largest weight difference %.2g, probability %.2g",
			l, st.Newton, st.CG, st.Passes(), f, auc(x), wst.Newton, wst.Passes(), wf, maxDiff(x, warm), maxDiff(probs(x), probs(warm)))
		if withLBFGS {
			lw, lb, iters, lf, evals := p.lbfgsFit(l, c.MaxIter, c.Tol)
			lx := append(slices.Clone(lw), lb)
			t.Logf("lambda %g: L-BFGS %d iterations, %d passes, objective %.12g (relative difference %.2g), AUC %.6f; largest weight difference %.2g, probability %.2g",
				l, iters, evals, lf, (lf-f)/f, auc(lx), maxDiff(x, lx), maxDiff(probs(x), probs(lx)))
		}
	}
	t.Logf("grid down from 1000 with warm starts: %.1f passes", warmPasses)
}

func maxDiff(a, b []float64) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// BenchmarkFit fits the realistic problem (RISKLANE_GBDTLR_LEAVES; 130,093
// rows, 400 trees, 68,805 leaves) by the former L-BFGS and by the
// trust-region Newton method, in one run, and reports the passes over the
// rows. lambda=X fits one lambda from the start to 1e-7 with each;
// lbfgs/grid fits the default grid as Train did until session 6 (four fits
// from the start to 1e-7), grid-warm as it does now (down the grid with
// warm starts to 1e-5, the lambda chosen on the validation rows on to
// 1e-7), with either solver.
//
//	RISKLANE_GBDTLR_LEAVES=/tmp/gbdtlr-leaves.bin go test ./models/gbdtlr -run '^$' -bench 'Fit/.*/lambda=100' -benchtime 1x
func BenchmarkFit(b *testing.B) {
	r := realisticProblem(b)
	p := r.fit
	p.setup()
	c := DefaultConfig()
	for _, l := range []float64{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("lbfgs/lambda=%g", l), func(b *testing.B) {
			var evals int
			for b.Loop() {
				_, _, _, _, evals = p.lbfgsFit(l, c.MaxIter, c.Tol)
			}
			b.ReportMetric(float64(evals), "passes")
		})
		b.Run(fmt.Sprintf("tron/lambda=%g", l), func(b *testing.B) {
			var st tronStats
			for b.Loop() {
				_, _, st, _ = p.tronFit(l, nil, c.MaxIter, c.Tol)
			}
			b.ReportMetric(st.Passes(), "passes")
		})
	}
	b.Run("lbfgs/grid", func(b *testing.B) {
		var passes int
		for b.Loop() {
			passes = 0
			for _, l := range c.L2Grid {
				_, _, _, _, evals := p.lbfgsFit(l, c.MaxIter, c.Tol)
				passes += evals
			}
		}
		b.ReportMetric(float64(passes), "passes")
	})
	// grid as Train does it, with either solver.
	grid := func(b *testing.B, fit func(l float64, x []float64, tol float64) float64) {
		var passes float64
		for b.Loop() {
			passes = 0
			var x, best []float64
			bestAUC := math.Inf(-1)
			var bestL float64
			for _, l := range []float64{1000, 100, 10, 1} {
				if x == nil {
					x = p.start()
				} else {
					x = slices.Clone(x)
				}
				passes += fit(l, x, c.GridTol)
				m := &Model{W: x[:p.J], B: x[p.J]}
				prob := make([]float64, len(r.vy))
				for i := range prob {
					prob[i] = sigmoid(m.margin(r.vl[i*r.trees : (i+1)*r.trees]))
				}
				if a, _ := metrics.AUC(prob, r.vy); a >= bestAUC {
					bestAUC, best, bestL = a, x, l
				}
			}
			passes += fit(bestL, best, c.Tol)
		}
		b.ReportMetric(passes, "passes")
	}
	b.Run("lbfgs/grid-warm", func(b *testing.B) {
		grid(b, func(l float64, x []float64, tol float64) float64 {
			_, _, st, _ := p.fit(l, x, c.MaxIter, tol)
			return float64(st.Passes)
		})
	})
	b.Run("tron/grid-warm", func(b *testing.B) {
		grid(b, func(l float64, x []float64, tol float64) float64 {
			_, _, st, _ := p.tronFit(l, x, c.MaxIter, tol)
			return st.Passes()
		})
	})
}
