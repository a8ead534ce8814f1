package rules

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/datasets/synth"
	"risklane/decl"
	"risklane/features"
	"risklane/models/gbdt"
	"risklane/models/modeltest"
)

// synthetic returns generated declarations: canonical columns plus the
// extra attribute synth.ModeColumn.
func synthetic(t testing.TB, rows int64, seed uint64) []arrow.RecordBatch {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed, cfg.BatchSize = rows, seed, 4096
	cfg.NumImporters, cfg.NumSellers, cfg.NumHS = 300, 200, 60
	return modeltest.Generated(t, cfg)
}

// strings returns a string column of the batches, concatenated.
func stringColumn(t *testing.T, batches []arrow.RecordBatch, name string) []string {
	t.Helper()
	var out []string
	for _, b := range batches {
		idx := b.Schema().FieldIndices(name)
		if len(idx) == 0 {
			t.Fatalf("no column %q", name)
		}
		c := b.Column(idx[0]).(*array.String)
		for i := range c.Len() {
			out = append(out, c.Value(i))
		}
	}
	return out
}

// The feature layer's Namer, checked end to end against the raw
// declarations: fit features on generated data, train trees on them, and
// every row a rule covers must have, in its raw columns, one of the HS
// codes or transport modes the rule names.
func TestFeatureNamer(t *testing.T) {
	batches := synthetic(t, 6000, 3)
	st, mat, err := features.Fit(batches, features.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	n := FeatureNamer(st)
	names := st.Names()
	mode := slices.Index(names, "code_extra_"+synth.ModeColumn)
	hs4 := slices.Index(names, "hs4")
	uv := slices.Index(names, "log_uv_kg")
	if mode < 0 || hs4 < 0 || uv < 0 {
		t.Fatalf("features %v lack code_extra_%s, hs4 or log_uv_kg", names, synth.ModeColumn)
	}
	labels := st.Labels(mode)
	if n.Phrase(mode) != synth.ModeColumn || n.Kind(mode) != Label || n.Name(mode) != names[mode] {
		t.Errorf("transport mode: phrase %q, kind %v, name %q", n.Phrase(mode), n.Kind(mode), n.Name(mode))
	}
	for c, l := range labels {
		if l == "" {
			l = "(blank)"
		}
		if got := n.Format(mode, float64(c)); got != l {
			t.Errorf("code %d of the transport mode written %q, want %q", c, got, l)
		}
	}
	if n.Phrase(hs4) != "HS4" || n.Kind(hs4) != Code || n.Phrase(uv) != "value per kg" || n.Kind(uv) != Amount {
		t.Errorf("hs4: %q %v; log_uv_kg: %q %v", n.Phrase(hs4), n.Kind(hs4), n.Phrase(uv), n.Kind(uv))
	}

	var labelsY []int8
	for _, b := range batches {
		if labelsY, err = features.ReadLabels(b, labelsY); err != nil {
			t.Fatal(err)
		}
	}
	y := make([]float64, len(labelsY))
	for i, l := range labelsY {
		y[i] = float64(l)
		if l < 0 {
			y[i] = math.NaN()
		}
	}
	// Only the code features and the unit value, so that the trees split on
	// codes.
	X := &gbdt.Matrix{Rows: mat.Rows, Cols: make([][]float64, len(names)), Names: names}
	for j := range names {
		X.Cols[j] = mat.Cols[j]
		if j != mode && j != hs4 && j != uv {
			X.Cols[j] = make([]float64, mat.Rows)
		}
	}
	yTrain := slices.Clone(y)
	for i, v := range yTrain {
		if math.IsNaN(v) {
			yTrain[i] = 0
		}
	}
	p := gbdt.DefaultParams()
	p.NumRounds, p.MaxDepth, p.EvalTrain, p.NumThreads = 20, 4, false, 2
	m, _, err := gbdt.Train(X, yTrain, nil, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Namer, opts.Top = n, 0
	rs, err := Extract(m, X, y, opts)
	if err != nil {
		t.Fatal(err)
	}
	rawHS := stringColumn(t, batches, decl.HSCode)
	rawMode := stringColumn(t, batches, synth.ModeColumn)
	seen := map[int]int{}
	for _, r := range rs {
		for _, c := range r.Conditions {
			if c.Feature != mode && c.Feature != hs4 {
				continue
			}
			seen[c.Feature]++
			text := c.Format(n)
			in := map[string]bool{}
			for _, v := range c.In {
				in[n.Format(c.Feature, v)] = true
			}
			for i := range X.Rows {
				if math.IsNaN(y[i]) || !r.Matches(X, i) {
					continue
				}
				raw := rawMode[i]
				if c.Feature == hs4 {
					raw = strings.ReplaceAll(rawHS[i], ".", "")[:4]
				}
				if math.IsNaN(X.Cols[c.Feature][i]) {
					if !c.Missing {
						t.Fatalf("rule %s: row %d has no %s code but the condition excludes missing", r, i, n.Phrase(c.Feature))
					}
					continue
				}
				if raw == "" {
					raw = "(blank)"
				}
				if !in[raw] {
					t.Fatalf("rule %s: row %d has %s %q, not among the condition's codes (%q)", r, i, n.Phrase(c.Feature), raw, text)
				}
			}
		}
	}
	if seen[hs4] == 0 {
		t.Errorf("no rule tests HS4; the check above checked nothing for it:\n%v", rs)
	}
	t.Logf("%d rules; %d conditions on HS4, %d on the transport mode; the strongest: %s", len(rs), seen[hs4], seen[mode], rs[0])
}
