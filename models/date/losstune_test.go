package date

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
	"risklane/models/metrics"
	"risklane/models/modeltest"
	"risklane/models/riskmodel"
	"risklane/stats"
)

// lossVariants are the loss-side DATE variants of session 8, by the names
// TestTune (models/gbdtlr/tune_test.go) gives them too. None changes what
// prepare builds (features, trees, target, architecture), so
// TestLossVariants fits the trees once and each variant's network on them.
var lossVariants = map[string]func(*Config){
	"default":           func(*Config) {},
	"revw0.25":          func(c *Config) { c.RevWeight = 0.25 },
	"revw0.5":           func(c *Config) { c.RevWeight = 0.5 },
	"revw1":             func(c *Config) { c.RevWeight = 1 },
	"smooth0.05":        func(c *Config) { c.LabelSmooth = 0.05 },
	"smooth0.1":         func(c *Config) { c.LabelSmooth = 0.1 },
	"smooth0.2":         func(c *Config) { c.LabelSmooth = 0.2 },
	"revw0.5-smooth0.1": func(c *Config) { c.RevWeight, c.LabelSmooth = 0.5, 0.1 },
	"revw1-smooth0.1":   func(c *Config) { c.RevWeight, c.LabelSmooth = 1, 0.1 },
	"smooth0.02":        func(c *Config) { c.LabelSmooth = 0.02 },
	"revw1-smooth0.02":  func(c *Config) { c.RevWeight, c.LabelSmooth = 1, 0.02 },
	"revw1-smooth0.05":  func(c *Config) { c.RevWeight, c.LabelSmooth = 1, 0.05 },
	"revall":            func(c *Config) { c.RevAllRows = true },
	"revall-revw1":      func(c *Config) { c.RevAllRows, c.RevWeight = true, 1 },
	"revall-alpha100":   func(c *Config) { c.RevAllRows, c.Alpha = true, 100 },
	// revlin*: a diagnostic of this harness only (no Config option): the
	// head on every row with the target y x revenue over the illicit
	// training rows' mean revenue, linear, not log, whose squared error's
	// optimum is the expected revenue itself; ranked by the raw output
	// ("revenue output, raw").
	"revlin":         func(c *Config) { c.RevAllRows, c.Alpha = true, 1 },
	"revlin-alpha10": func(c *Config) { c.RevAllRows = true },
}

// lossVariant returns the variant of name: one of lossVariants, or names
// joined by "-" of lossVariants and of session 9's revenue-target parts:
// duty and value (Config.RevBase log_duty, log_value), capQ (Config.RevCap
// Q), std (RevStandard), alphaA (Alpha), hidN (RevHidden).
func lossVariant(name string) func(*Config) {
	if f := lossVariants[name]; f != nil {
		return f
	}
	var fs []func(*Config)
	for _, p := range strings.Split(name, "-") {
		var v float64
		switch {
		case lossVariants[p] != nil:
			fs = append(fs, lossVariants[p])
		case p == "duty":
			fs = append(fs, func(c *Config) { c.RevBase = "log_duty" })
		case p == "value":
			fs = append(fs, func(c *Config) { c.RevBase = "log_value" })
		case p == "std":
			fs = append(fs, func(c *Config) { c.RevStandard = true })
		case strings.HasPrefix(p, "cap"):
			if _, err := fmt.Sscan(p[3:], &v); err != nil {
				return nil
			}
			fs = append(fs, func(c *Config) { c.RevCap = v })
		case strings.HasPrefix(p, "alpha"):
			if _, err := fmt.Sscan(p[5:], &v); err != nil {
				return nil
			}
			fs = append(fs, func(c *Config) { c.Alpha = v })
		case strings.HasPrefix(p, "hid"):
			if _, err := fmt.Sscan(p[3:], &v); err != nil {
				return nil
			}
			fs = append(fs, func(c *Config) { c.RevHidden = int(v) })
		default:
			return nil
		}
	}
	return func(c *Config) {
		for _, f := range fs {
			f(c)
		}
	}
}

// TestLossVariants is TestTune's generated split (generator seed 101,
// trained January-July, scored August-September, model seed 1) for the
// loss-side variants, the trees fitted once: Train's code path (prepare,
// fit, calibrate, ready) with the network re-initialised per variant. Its
// "default" row reproduces TestTune's DATE default.
//
//	RISKLANE_DATE_LOSS=default,revw0.5 nice go test ./models/date -run '^TestLossVariants$' -v -timeout 3h
//
// RISKLANE_DATE_LOSS_MCW=W fits the trees with that least hessian per leaf
// (--tree-min-child-weight; the variants' names then stand for mcwW-name).
// RISKLANE_DATE_LOSS_BASE=log_duty (or log_value) builds the batches with
// that revenue base, which the variants naming it (duty, value) use and the
// others leave aside. RISKLANE_DATE_LOSS_REVIN=feature,... adds revenue
// inputs (Config.RevenueInputs) for every variant; RISKLANE_DATE_LOSS_SEED
// sets the model seed (trees and network; the data stay generator seed 101).
func TestLossVariants(t *testing.T) {
	names := os.Getenv("RISKLANE_DATE_LOSS")
	if names == "" {
		t.Skip("skipping: set RISKLANE_DATE_LOSS=variant,... to compare DATE's loss variants on the tuning split")
	}
	for _, v := range strings.Split(names, ",") {
		if lossVariant(v) == nil {
			t.Fatalf("no loss variant %q", v)
		}
	}
	all := modeltest.Declarations(t, 200_000, 101)
	train, rest, err := riskmodel.SplitByDate(all, time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	test, _, err := riskmodel.SplitByDate(rest, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Seed = 1
	if w := os.Getenv("RISKLANE_DATE_LOSS_MCW"); w != "" {
		if _, err := fmt.Sscan(w, &cfg.Trees.MinChildWeight); err != nil {
			t.Fatalf("RISKLANE_DATE_LOSS_MCW=%q: %v", w, err)
		}
		t.Logf("trees with min child weight %v", cfg.Trees.MinChildWeight)
	}
	cfg.RevBase = os.Getenv("RISKLANE_DATE_LOSS_BASE")
	if seed := os.Getenv("RISKLANE_DATE_LOSS_SEED"); seed != "" {
		if _, err := fmt.Sscan(seed, &cfg.Seed); err != nil {
			t.Fatalf("RISKLANE_DATE_LOSS_SEED=%q: %v", seed, err)
		}
		t.Logf("model seed %d", cfg.Seed)
	}
	if in := os.Getenv("RISKLANE_DATE_LOSS_REVIN"); in != "" {
		cfg.RevenueInputs = append(slices.Clone(cfg.RevenueInputs), strings.Split(in, ",")...)
		t.Logf("revenue inputs %v", cfg.RevenueInputs)
	}
	start := time.Now()
	m, tb, valid, vlabels, err := prepare(train, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trees and batches in %s", time.Since(start).Round(time.Second))
	rev := tb.revenue
	from := m.History.ValidFrom
	base, vbase, col := tb.Base, valid.Base, m.baseCol
	vrev := make([]float64, valid.Rows())
	for i, r := range valid.Rev {
		vrev[i] = math.NaN()
		if !math.IsNaN(float64(r)) {
			vrev[i] = m.revenueOf(float64(r), baseOf(valid, i))
		}
	}
	for _, v := range strings.Split(names, ",") {
		c := cfg
		c.RevBase = ""
		lossVariant(v)(&c)
		if c.RevBase != "" && c.RevBase != cfg.RevBase {
			t.Fatalf("variant %s has the revenue base %s: run it with RISKLANE_DATE_LOSS_BASE=%[2]s", v, c.RevBase)
		}
		c.Log = t.Logf
		m.Config, m.History = c, History{ValidFrom: from}
		m.Arch.RevHid = c.RevHidden
		m.Params = initParams(m.Arch, c.Seed)
		m.net, m.proj, m.CalA, m.CalB = m.newNet(), nil, 1, 0
		tb.Base, valid.Base, m.baseCol = nil, nil, 0
		if c.RevBase != "" {
			tb.Base, valid.Base, m.baseCol = base, vbase, col
		}
		tb.W = revWeights(tb.Y, rev, c.RevWeight)
		m.setRevTargets(tb, rev)
		for i := range valid.Rev {
			valid.Rev[i] = float32(m.revTarget(vrev[i], baseOf(valid, i)))
		}
		if strings.HasPrefix(v, "revlin") {
			var s float64
			var n int
			for i, y := range tb.Y {
				if y == 1 && !math.IsNaN(rev[i]) {
					s, n = s+rev[i], n+1
				}
			}
			for i, y := range tb.Y {
				if y == 1 && !math.IsNaN(rev[i]) {
					tb.Rev[i] = float32(rev[i] / (s / float64(n)))
				}
			}
		}
		m.fit(tb, valid, vlabels, time.Now())
		if c.Calibrate {
			m.calibrate(valid, vlabels)
		}
		m.ready()
		byProb, byRev, err := m.Evaluate(test)
		if err != nil {
			t.Fatal(err)
		}
		clamped := clampedDual(t, m, test)
		revOnly, condRev, raw := revAllDuals(t, m, test)
		for _, r := range []struct {
			how string
			r   metrics.Report
		}{{"probability", byProb}, {"dual score", byRev}, {"dual score, revenue at most the training maximum", clamped},
			{"revenue output alone", revOnly}, {"probability x revenue output over probability", condRev}, {"revenue output, raw", raw}} {
			var b strings.Builder
			fmt.Fprintf(&b, "LOSS | %s, %s | %.4f |", v, r.how, r.r.AUC)
			for _, a := range r.r.AtRates {
				fmt.Fprintf(&b, " %.3f/%.3f/%.3f |", a.Precision, a.Recall, a.Revenue)
			}
			fmt.Fprintf(&b, " %.0fs", m.History.Seconds)
			t.Log(b.String())
		}
		t.Logf("DATE %s: best epoch %d of %d, validation AUCs %.4f, losses %.4f", v, m.History.BestEpoch, len(m.History.Loss), m.History.ValidAUC, m.History.Loss)
		// the bound (Config.RevCap) changes scoring only: the same network
		// with the log target clipped at each quantile
		var logs []float64
		for i, y := range tb.Y {
			if y == 1 && rev[i] >= 0 {
				logs = append(logs, math.Log1p(rev[i])-baseOf(tb, i))
			}
		}
		slices.Sort(logs)
		capped := m.RevCap
		for _, q := range []float64{0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 1} {
			m.RevCap = stats.Quantile(logs, q)
			_, r, err := m.Evaluate(test)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "LOSS | %s, dual score, cap at quantile %v (%.3f) | %.4f |", v, q, m.RevCap, r.AUC)
			for _, a := range r.AtRates {
				fmt.Fprintf(&b, " %.3f/%.3f/%.3f |", a.Precision, a.Recall, a.Revenue)
			}
			t.Log(b.String())
		}
		m.RevCap = capped
		// the probability's weight in the dual score: p^a x revenue
		b, labels, trev := labelledBatch(t, m, test)
		prob, est := make([]float64, b.Rows()), make([]float64, b.Rows())
		m.forward(b, m.Config.Threads, func(i int, z, r float32) {
			m.output(i, z, r, baseOf(b, i), prob, nil)
			est[i] = m.revenueOf(float64(r), baseOf(b, i))
		})
		for _, a := range []float64{0.5, 0.75, 0.9, 1.05, 1.1, 1.2, 1.25, 1.5, 2} {
			s := make([]float64, len(prob))
			for i := range s {
				s[i] = math.Pow(prob[i], a) * est[i]
			}
			r, err := metrics.Evaluate(s, labels, trev, nil, 0.5)
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			fmt.Fprintf(&sb, "LOSS | %s, p^%v x revenue | %.4f |", v, a, r.AUC)
			for _, x := range r.AtRates {
				fmt.Fprintf(&sb, " %.3f/%.3f/%.3f |", x.Precision, x.Recall, x.Revenue)
			}
			t.Log(sb.String())
		}
		s := make([]float64, len(prob))
		for i := range s {
			s[i] = prob[i] * trev[i]
		}
		if r, err := metrics.Evaluate(s, labels, trev, nil, 0.5); err == nil {
			t.Logf("LOSS | %s, p x true revenue | Rev@1%% %.3f Rev@2%% %.3f", v, r.AtRates[0].Revenue, r.AtRates[1].Revenue)
		}
	}
}

// revAllDuals are two other ways of ranking by a revenue head trained on
// every row (Config.RevAllRows), whose output r estimates E[y log1p
// revenue] (scaled), about the probability p times the log revenue if
// illicit: the revenue r stands for alone (an expected-revenue-like
// score), and p times the revenue r / p stands for (the revenue if
// illicit recovered; r / p capped at the training maximum). Diagnostics of
// the tuning split, not scoring options.
func revAllDuals(t *testing.T, m *Model, batches []arrow.RecordBatch) (alone, cond, raw metrics.Report) {
	t.Helper()
	b, labels, rev := labelledBatch(t, m, batches)
	prob, s1, s2, s3 := make([]float64, b.Rows()), make([]float64, b.Rows()), make([]float64, b.Rows()), make([]float64, b.Rows())
	m.forward(b, m.Config.Threads, func(i int, z, r float32) {
		base := baseOf(b, i)
		m.output(i, z, r, base, prob, nil)
		s1[i] = m.revenueOf(float64(r), base)
		lr := max(0, m.RevMean+float64(r)*m.RevSD+base) / max(prob[i], 1e-12)
		s2[i] = prob[i] * math.Expm1(min(m.RevScale, lr))
		s3[i] = float64(r)
	})
	var err error
	if alone, err = metrics.Evaluate(s1, labels, rev, nil, 0.5); err != nil {
		t.Fatal(err)
	}
	if cond, err = metrics.Evaluate(s2, labels, rev, nil, 0.5); err != nil {
		t.Fatal(err)
	}
	if raw, err = metrics.Evaluate(s3, labels, rev, nil, 0.5); err != nil {
		t.Fatal(err)
	}
	return alone, cond, raw
}

// clampedDual is m's dual score on the rows of batches with the revenue
// output's log revenue clamped to the training rows' largest (RevScale): a
// diagnostic of how far the dual score rests on the revenue head's
// extrapolation on rows unlike its training rows (it is trained on illicit
// rows only, so nothing bounds it on licit ones).
func clampedDual(t *testing.T, m *Model, batches []arrow.RecordBatch) metrics.Report {
	t.Helper()
	b, labels, rev := labelledBatch(t, m, batches)
	prob, exp := make([]float64, b.Rows()), make([]float64, b.Rows())
	m.forward(b, m.Config.Threads, func(i int, z, r float32) {
		base := baseOf(b, i)
		m.output(i, z, r, base, prob, nil)
		exp[i] = prob[i] * math.Expm1(min(m.RevScale, max(0, m.RevMean+float64(r)*m.RevSD+base)))
	})
	rep, err := metrics.Evaluate(exp, labels, rev, nil, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// labelledBatch is m's batch of the rows of batches with their labels, and
// the revenue of the labelled rows in their order, as metrics.Evaluate
// takes them (the diagnostics above score the same rows).
func labelledBatch(t *testing.T, m *Model, batches []arrow.RecordBatch) (*Batch, []int8, []float64) {
	t.Helper()
	b, labels, err := m.batchOf(batches)
	if err != nil {
		t.Fatal(err)
	}
	all, revenue, err := models.Outcomes(batches)
	if err != nil {
		t.Fatal(err)
	}
	var rev []float64
	for i, l := range all {
		if l >= 0 {
			rev = append(rev, revenue[i])
		}
	}
	return b, labels, rev
}
