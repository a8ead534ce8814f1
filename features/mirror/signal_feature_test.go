package mirror

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/datasets/synth"
	"risklane/decl"
	"risklane/features"
)

// featureDecl is one declaration of the feature tests: what the mirror
// group reads, a customs value and duty (for the declared rates) and a
// label (the feature layer needs labelled rows).
type featureDecl struct {
	origin, hs string // "" is null
	date       string // "" is null
	cif        float64
	taxes      float64 // NaN is null
	rate       float64 // NaN is null
}

func featureBatch(t testing.TB, rows []featureDecl) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.NewGoAllocator(), decl.Schema())
	defer b.Release()
	set := map[string]bool{}
	fi := func(name string) array.Builder {
		set[name] = true
		return b.Field(b.Schema().FieldIndices(name)[0])
	}
	str := func(name, v string) {
		if v == "" {
			fi(name).AppendNull()
		} else {
			fi(name).(*array.StringBuilder).Append(v)
		}
	}
	num := func(name string, v float64) {
		if math.IsNaN(v) {
			fi(name).AppendNull()
		} else {
			fi(name).(*array.Float64Builder).Append(v)
		}
	}
	for i, r := range rows {
		str(decl.DeclarationID, string(rune('a'+i)))
		str(decl.OriginCountry, r.origin)
		str(decl.HSCode, r.hs)
		if r.date == "" {
			fi(decl.Date).AppendNull()
		} else {
			d, err := time.Parse(time.DateOnly, r.date)
			if err != nil {
				t.Fatal(err)
			}
			fi(decl.Date).(*array.Date32Builder).Append(arrow.Date32FromTime(d))
		}
		num(decl.CIFValue, r.cif)
		num(decl.TotalTaxes, r.taxes)
		num(decl.TaxRate, r.rate)
		fi(decl.Illicit).(*array.Int8Builder).Append(int8(i % 2))
	}
	for i, f := range b.Schema().Fields() {
		if !set[f.Name] {
			for range rows {
				b.Field(i).AppendNull()
			}
		}
	}
	rec := b.NewRecordBatch()
	t.Cleanup(rec.Release)
	return rec
}

// handWorkedFeature is the mirror group over the hand-worked statistics of
// testdata/README.md, with its settings but without the declared rate of HS
// 520100, which Fit must take from the declarations.
func handWorkedFeature(t *testing.T) *Feature {
	t.Helper()
	cfg := DefaultConfig("KEN")
	cfg.MinValue = 1000
	f, err := os.Open("testdata/tariffs.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if cfg.Tariffs, _, err = ReadTariffs(f, "tariffs.csv"); err != nil {
		t.Fatal(err)
	}
	return NewFeature(cfg, "testdata/handworked_bulk.csv", "testdata/handworked_api.csv")
}

// TestFeatureHandWorked fits the mirror group through the feature layer and
// checks every training row's features against the arithmetic written out
// in testdata/README.md, then the same rows scored by the state saved as
// JSON and read back (bit for bit the training values).
//
// The IND 520100 row carries a 5% duty as a tax rate without total taxes,
// the only rate the README takes from declarations: its revenue share
// (-165.00 of 29,235.43) proves Fit derived the declared rates. Rows under
// codes of the tariff table carry other duties, which must not count.
func TestFeatureHandWorked(t *testing.T) {
	nan := math.NaN()
	const total = 2923543.0 // positive revenue gaps, cents
	chn851712 := Signal{6, 1.0 / 3, math.Log(1.5), 1.5, 1375000 / total}
	heading8517 := Signal{4, 5077666.0 / 16200000, math.Log(16200000.0 / 11122334), (16200000.0 / 1050) / (11122334.0 / 1050), 1383543 / total}
	cases := []struct {
		decl featureDecl
		want Signal
	}{
		{featureDecl{"CHN", "8517120000", "2021-03-01", 110, 99, nan}, chn851712},
		{featureDecl{"CN", "8517790000", "2021-12-31", 50, 1, nan}, heading8517},
		{featureDecl{"CHN", "8703230000", "2021-06-30", nan, nan, nan}, Signal{2, 0, 0, nan, 0}},
		{featureDecl{"IND", "5201000000", "2021-05-05", 1000, nan, 5}, Signal{6, -3000.0 / 57000, math.Log(57000.0 / 60000), (57000.0 / 28000) / (60000.0 / 30000), -16500 / total}},
		{featureDecl{"IND", "1006300000", "2021-05-05", 300, 200, nan}, Signal{6, 40000.0 / 230000, math.Log(230000.0 / 190000), (230000.0 / 460000) / (190000.0 / 400000), 1540000 / total}},
		{featureDecl{"IND", "0713100000", "2021-05-05", 300, 30, nan}, noSignal},
		{featureDecl{"CHN", "8517120000", "2022-01-01", 110, 27.5, nan}, noSignal},
		{featureDecl{"", "8517120000", "2021-03-01", 110, 27.5, nan}, noSignal},
		{featureDecl{"CHN", "8517120000", "", 110, 27.5, nan}, noSignal},
		{featureDecl{"CHN", "", "2021-03-01", 110, 27.5, nan}, noSignal},
	}
	var rows []featureDecl
	for _, c := range cases {
		rows = append(rows, c.decl)
	}
	batches := []arrow.RecordBatch{featureBatch(t, rows[:4]), featureBatch(t, rows[4:])}
	feat := handWorkedFeature(t)
	st, m, err := features.Fit(batches, features.Config{Groups: []string{features.GroupHS, GroupName}, Signals: []features.Signal{feat}})
	if err != nil {
		t.Fatal(err)
	}
	if g := feat.Gaps(); g == nil || g.Summary.Read != 19 || g.Summary.Rejected != 0 {
		t.Fatalf("gap table of the fit: %+v", g)
	}
	col := func(names []string, cols [][]float64, name string) []float64 {
		j := slices.Index(names, name)
		if j < 0 {
			t.Fatalf("no feature %s in %v", name, names)
		}
		return cols[j]
	}
	check := func(what string, names []string, cols [][]float64, tol float64) {
		for i, c := range cases {
			var v [5]float64
			for j, n := range SignalNames {
				v[j] = col(names, cols, n)[i]
			}
			got := Signal{int8(v[0]), v[1], v[2], v[3], v[4]}
			w := c.want
			if got.Level != w.Level || !near(got.RelGap, w.RelGap, tol) || !near(got.LogRatio, w.LogRatio, tol) ||
				!near(got.UVRatio, w.UVRatio, tol) || !near(got.RevenueShare, w.RevenueShare, tol) {
				t.Errorf("%s, row %d (%+v): %+v, want %+v", what, i, c.decl, got, w)
			}
		}
	}
	check("training rows", m.Names, m.Cols, 1e-12)

	js, err := st.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := features.Read(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	scored := make([][][]float64, len(batches))
	var wg sync.WaitGroup
	for k, b := range batches {
		wg.Go(func() {
			cols, err := loaded.Transform(b, nil)
			if err != nil {
				t.Error(err)
			}
			scored[k] = cols
		})
	}
	wg.Wait()
	joined := make([][]float64, len(loaded.Names()))
	for _, cols := range scored {
		for j := range joined {
			joined[j] = append(joined[j], cols[j]...)
		}
	}
	check("state read back", loaded.Names(), joined, 1e-12)
	for _, n := range SignalNames {
		a, b := col(m.Names, m.Cols, n), col(loaded.Names(), joined, n)
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
				t.Errorf("%s row %d: scored %v after reload, trained on %v", n, i, b[i], a[i])
			}
		}
	}
}

// TestFeatureNeedsTrade: the group cannot be fitted without statistics, and
// says what to give.
func TestFeatureNeedsTrade(t *testing.T) {
	batch := featureBatch(t, []featureDecl{{"CHN", "8517120000", "2021-03-01", 110, 27.5, math.NaN()}, {"CHN", "8517120000", "2021-03-02", 120, 30, math.NaN()}})
	for name, cfg := range map[string]features.Config{
		"registered factory": {Groups: []string{features.GroupHS, GroupName}},
		"no files":           {Groups: []string{features.GroupHS, GroupName}, Signals: []features.Signal{NewFeature(DefaultConfig("KEN"))}},
	} {
		if _, _, err := features.Fit([]arrow.RecordBatch{batch}, cfg); err == nil || !strings.Contains(err.Error(), "--trade") {
			t.Errorf("%s: error %v, want one asking for --trade", name, err)
		}
	}
	if _, _, err := features.Fit([]arrow.RecordBatch{batch}, features.Config{Groups: []string{features.GroupHS, GroupName},
		Signals: []features.Signal{NewFeature(DefaultConfig("USA"), "testdata/handworked_bulk.csv")}}); err == nil || !strings.Contains(err.Error(), "USA") {
		t.Errorf("statistics without the reporter: error %v, want one naming USA", err)
	}

	// A dictionary built elsewhere needs no files.
	s := handWorked(t).Signals()
	_, m, err := features.Fit([]arrow.RecordBatch{batch}, features.Config{Groups: []string{features.GroupHS, GroupName}, Signals: []features.Signal{FeatureOf(s)}})
	if err != nil {
		t.Fatal(err)
	}
	if j := slices.Index(m.Names, "mirror_rel_gap"); j < 0 || !near(m.Cols[j][0], 1.0/3, 1e-12) {
		t.Errorf("FeatureOf: features %v", m.Names)
	}

	f := &Feature{}
	out := [][]float64{{0}, {0}, {0}, {0}, {0}}
	if err := f.Apply(batch, out); err == nil {
		t.Error("Apply before Fit succeeded")
	}
	if _, err := f.MarshalJSON(); err == nil {
		t.Error("MarshalJSON before Fit succeeded")
	}
	if err := FeatureOf(s).Apply(batch, out[:4]); err == nil {
		t.Error("Apply into 4 columns succeeded")
	}
	if err := f.UnmarshalJSON([]byte(`{"format":"other"}`)); err == nil {
		t.Error("a state of another format was accepted")
	}
}

// FuzzFeatureState feeds the feature layer's reader a saved state whose
// bytes are mutated, the mirror group's dictionary among them: whatever it
// accepts must score the declarations without panicking, with a level of
// 0, 2, 4 or 6.
func FuzzFeatureState(f *testing.F) {
	nan := math.NaN()
	batch := featureBatch(f, []featureDecl{
		{"CHN", "8517120000", "2021-03-01", 110, 99, nan}, {"IND", "5201000000", "2021-05-05", 1000, nan, 5},
		{"", "", "", nan, nan, nan}, {"CN", "85", "2021-01-01", 1, 1, nan},
	})
	cfg := DefaultConfig("KEN")
	st, _, err := features.Fit([]arrow.RecordBatch{batch}, features.Config{Groups: []string{features.GroupHS, GroupName},
		Signals: []features.Signal{NewFeature(cfg, "testdata/handworked_bulk.csv", "testdata/handworked_api.csv")}})
	if err != nil {
		f.Fatal(err)
	}
	js, err := st.MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(js)
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := features.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		cols, err := st.Transform(batch, nil)
		if err != nil {
			return
		}
		if j := slices.Index(st.Names(), "mirror_level"); j >= 0 {
			for i, v := range cols[j] {
				if v != 0 && v != 2 && v != 4 && v != 6 {
					t.Fatalf("row %d: mirror_level %v", i, v)
				}
			}
		}
	})
}

// BenchmarkFeatureApply measures the mirror group at scoring time: origin,
// HS code and year read from a batch of 16,384 generated declarations and
// looked up in the signal dictionary of their trade statistics.
func BenchmarkFeatureApply(b *testing.B) {
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.BatchSize = 100_000, 16_384
	g, err := synth.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var batches []arrow.RecordBatch
	for !g.Done() {
		rec, err := g.Next()
		if err != nil {
			b.Fatal(err)
		}
		batches = append(batches, rec)
	}
	trade := filepath.Join(b.TempDir(), "trade.csv")
	tf, err := os.Create(trade)
	if err != nil {
		b.Fatal(err)
	}
	if err := g.TradeStatistics(tf); err != nil {
		b.Fatal(err)
	}
	tf.Close()
	f := NewFeature(DefaultConfig(cfg.Reporter), trade)
	if err := f.Fit(batches); err != nil {
		b.Fatal(err)
	}
	rec := batches[0]
	n := int(rec.NumRows())
	out := make([][]float64, len(SignalNames))
	for j := range out {
		out[j] = make([]float64, n)
	}
	b.ResetTimer()
	for range b.N {
		if err := f.Apply(rec, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
