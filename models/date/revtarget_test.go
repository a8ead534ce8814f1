package date

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
	"risklane/models/modeltest"
)

// TestRevTargetsByHand checks the revenue target relative to a base
// (Config.RevBase, standardised, bounded) against figures worked by hand.
//
// Three illicit rows whose log1p(revenue) - base is 0, -1 and 2: duty 999
// (base ln 1000) and revenue 999; duty 49 (base ln 50) and revenue
// 50/e - 1; duty 0 (base 0) and revenue e² - 1. Their mean is 1/3, their
// (population) sd √(14)/3, so their targets are -1/√14, -4/√14 and 5/√14.
// A licit row of duty 199 (base ln 200) has no target, or with RevAllRows
// that of a revenue of 0: (0 - ln 200 - 1/3) / (√14/3). The median of
// 0, -1, 2 is 0: RevCap 0.5 bounds the log target at 0, so the estimate on
// a row is at most its own duty (e^(0 + ln 1000) - 1 = 999 on the first).
func TestRevTargetsByHand(t *testing.T) {
	e := math.E
	b := &Batch{
		Y:    []float32{1, 1, 1, 0},
		Base: []float32{float32(math.Log(1000)), float32(math.Log(50)), 0, float32(math.Log(200))},
	}
	revenue := []float64{999, 50/e - 1, e*e - 1, 0}
	m := &Model{Config: Config{RevBase: "log_duty", RevStandard: true, RevCap: 0.5}, RevScale: 9}
	m.setRevTargets(b, revenue)
	sd := math.Sqrt(14) / 3
	near := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	near("mean", m.RevMean, 1.0/3, 1e-6)
	near("sd", m.RevSD, sd, 1e-6)
	near("bound", m.RevCap, 0, 1e-6)
	for i, want := range []float64{-1 / math.Sqrt(14), -4 / math.Sqrt(14), 5 / math.Sqrt(14)} {
		near("target", float64(b.Rev[i]), want, 1e-6)
	}
	// a licit row's target is that of a revenue of 0 (read only with RevAllRows)
	near("licit row's target", float64(b.Rev[3]), (-math.Log(200)-1.0/3)/sd, 1e-6)
	// the estimate: the row's own duty times e^(log target), bounded at 0
	near("estimate, row 1", m.revenueOf(float64(b.Rev[0]), float64(b.Base[0])), 999, 1e-5)
	near("estimate, row 2 (below the bound)", m.revenueOf(float64(b.Rev[1]), float64(b.Base[1])), 50/e-1, 1e-5)
	near("estimate, row 3 (log target 2, bounded at 0, duty 0)", m.revenueOf(float64(b.Rev[2]), 0), 0, 1e-9)
	near("estimate, log target 2 on a duty of 999", m.revenueOf(float64(b.Rev[2]), math.Log(1000)), 999, 1e-6)
	m.RevCap = math.Inf(1)
	near("the same without the bound", m.revenueOf(float64(b.Rev[2]), math.Log(1000)), 1000*e*e-1, 1e-6)
	near("a log revenue below 0 gives 0", m.revenueOf(-10, 1), 0, 1e-9)

	m.Config.RevAllRows = true
	revenue[3] = math.NaN() // unknown: with RevAllRows a licit row's target is that of 0 all the same
	m.setRevTargets(b, revenue)
	near("licit row's target on every row", float64(b.Rev[3]), (-math.Log(200)-1.0/3)/sd, 1e-6)

	// without a base and standardisation: log1p(revenue) over the scale,
	// as before session 9
	b.Base = nil
	m.Config = Config{}
	m.setRevTargets(b, revenue)
	near("plain target", float64(b.Rev[0]), math.Log(1000)/9, 1e-6)
	if m.RevMean != 0 || m.RevSD != 9 || !math.IsInf(m.RevCap, 1) {
		t.Errorf("plain target's scale %v %v, bound %v: want 0, 9, +Inf", m.RevMean, m.RevSD, m.RevCap)
	}
}

// TestAppendBase checks the base of a row: the feature as it is, a
// missing, infinite or negative one as 0, none without RevBase.
func TestAppendBase(t *testing.T) {
	m := &Model{baseCol: 2}
	got := m.appendBase(nil, []float64{5, 7.5})
	got = m.appendBase(got, []float64{5, math.NaN()})
	got = m.appendBase(got, []float64{5, math.Inf(1)})
	got = m.appendBase(got, []float64{5, -1})
	if len(got) != 4 || got[0] != 7.5 || got[1] != 0 || got[2] != 0 || got[3] != 0 {
		t.Fatalf("bases %v, want [7.5 0 0 0]", got)
	}
	if got := (&Model{}).appendBase(nil, []float64{5, 7.5}); got != nil {
		t.Fatalf("without a base: %v", got)
	}
	if _, err := baseColumn([]string{"log_value"}, "log_duty"); err == nil || !strings.Contains(err.Error(), "log_duty") {
		t.Fatalf("a base the state lacks: %v", err)
	}
}

// TestRevBaseFolder trains a small model with the revenue over its duty
// and a bound, saves and loads it (the same scores), and checks that a
// manifest naming a base risklane does not know, or a bound quantile out
// of range, is refused with a clear error.
func TestRevBaseFolder(t *testing.T) {
	batches := modeltest.Declarations(t, 3000, 5)
	dc := DefaultConfig()
	dc.Trees.NumRounds, dc.Trees.MaxDepth, dc.Epochs, dc.Dim = 3, 3, 1, 4
	dc.RevBase, dc.RevCap = "log_duty", 0.99
	m, err := Train(batches, dc)
	if err != nil {
		t.Fatal(err)
	}
	if math.IsInf(m.RevCap, 0) || m.baseCol == 0 {
		t.Fatalf("trained with a base and a bound: bound %v, base column %d", m.RevCap, m.baseCol)
	}
	dir, got := saveLoad(t, m)
	if got.RevCap != m.RevCap || got.Config.RevBase != "log_duty" {
		t.Fatalf("loaded bound %v base %q, saved %v", got.RevCap, got.Config.RevBase, m.RevCap)
	}
	probe := batches[len(batches)-1].NewSlice(0, 200)
	_, e1, err := models.ScoreAll(m, []arrow.RecordBatch{probe})
	if err != nil {
		t.Fatal(err)
	}
	_, e2, err := models.ScoreAll(got, []arrow.RecordBatch{probe})
	if err != nil {
		t.Fatal(err)
	}
	var pos int
	for i := range e1 {
		if e1[i] != e2[i] {
			t.Fatalf("row %d: expected revenue %v after loading, %v before", i, e2[i], e1[i])
		}
		if e1[i] > 0 {
			pos++
		}
	}
	if pos == 0 {
		t.Fatal("no row has an expected revenue above 0")
	}
	f, err := models.ReadFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ from, to, want string }{
		{`"RevBase": "log_duty"`, `"RevBase": "log_taxes"`, `revenue base "log_taxes"`},
		{`"RevCap": 0.99`, `"RevCap": 7`, "revenue cap quantile 7"},
	} {
		man := bytes.Replace(f.Manifest, []byte(bad.from), []byte(bad.to), 1)
		if bytes.Equal(man, f.Manifest) {
			t.Fatalf("manifest has no %s", bad.from)
		}
		if _, err := FromFiles(dir, man, f.Files); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("manifest with %s: %v", bad.to, err)
		}
	}
}
