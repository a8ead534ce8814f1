package pricecluster

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/datasets/synth"
	"risklane/decl"
	"risklane/features"
)

// synthBatches generates declarations in date order, as record batches.
func synthBatches(t *testing.T, rows int64, seed uint64) []arrow.RecordBatch {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed, cfg.BatchSize = rows, seed, 4096
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []arrow.RecordBatch
	for {
		b, err := g.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	t.Cleanup(func() {
		for _, b := range out {
			b.Release()
		}
	})
	return out
}

// reference reads the columns of generated batches the way the synth test
// of this package does (CIF, net mass and quantity: the generator fills
// them on every row), fits with the signal's own configuration and applies
// the fit to apply: the features the signal must give, computed without it.
func reference(t *testing.T, fit, apply []arrow.RecordBatch) [][]float64 {
	t.Helper()
	read := func(batches []arrow.RecordBatch) (hs6 []int32, value, mass, qty []float64) {
		for _, b := range batches {
			col := func(name string) arrow.Array { return b.Column(b.Schema().FieldIndices(name)[0]) }
			hs := col(decl.HSCode).(*array.String)
			cif, net, q := col(decl.CIFValue).(*array.Float64), col(decl.NetMassKg).(*array.Float64), col(decl.Quantity).(*array.Float64)
			for i := range int(b.NumRows()) {
				hs6 = append(hs6, ParseHS6(hs.Value(i)))
				value, mass, qty = append(value, cif.Value(i)), append(mass, net.Value(i)), append(qty, q.Value(i))
			}
		}
		return
	}
	hs6, value, mass, qty := read(fit)
	m, err := Fit(hs6, value, mass, qty, Config{Seed: SignalSeed})
	if err != nil {
		t.Fatal(err)
	}
	hs6, value, mass, qty = read(apply)
	var a Assignment
	if err := m.Apply(hs6, value, mass, qty, &a); err != nil {
		t.Fatal(err)
	}
	return a.Features(nil)
}

func column(t *testing.T, names []string, cols [][]float64, name string) []float64 {
	t.Helper()
	j := slices.Index(names, name)
	if j < 0 {
		t.Fatalf("no feature %s in %v", name, names)
	}
	return cols[j]
}

// sameBits reports the first row where two columns differ, NaN equal to NaN.
func sameBits(a, b []float64) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return i, false
		}
	}
	return 0, true
}

// TestSignalInFeatureLayer fits the cluster group through the feature layer
// on the first two thirds of generated declarations and checks, bit for
// bit, against Fit and Apply called directly: the training rows' features,
// the features of later rows from the fitted state, and the same from the
// state saved as JSON and read back, applied from several goroutines. The
// low-cluster flag of the later rows, read from the reloaded state, must
// find planted undervaluation at twice its rate or better (issue 5).
func TestSignalInFeatureLayer(t *testing.T) {
	all := synthBatches(t, 30_000, 7)
	cut := len(all) * 2 / 3
	train, later := all[:cut], all[cut:]

	st, m, err := features.Fit(train, features.Config{Groups: []string{features.GroupHS, GroupName}})
	if err != nil {
		t.Fatal(err)
	}
	want := reference(t, train, train)
	for j, name := range FeatureNames {
		if i, ok := sameBits(column(t, m.Names, m.Cols, name), want[j]); !ok {
			t.Fatalf("training rows: %s differs from Fit+Apply at row %d", name, i)
		}
	}

	js, err := st.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := features.Read(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	want = reference(t, train, later)
	got := make([][][]float64, len(later))
	var wg sync.WaitGroup
	errs := make([]error, len(later))
	for k, b := range later {
		wg.Go(func() { got[k], errs[k] = loaded.Transform(b, nil) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var under []bool
	for _, b := range later {
		ft := b.Column(b.Schema().FieldIndices(synth.FraudTypeColumn)[0]).(*array.String)
		for i := range int(b.NumRows()) {
			under = append(under, ft.IsValid(i) && ft.Value(i) == synth.FraudUndervaluation)
		}
	}
	for j, name := range FeatureNames {
		var fresh, reloaded []float64
		for k, b := range later {
			cols, err := st.Transform(b, nil)
			if err != nil {
				t.Fatal(err)
			}
			fresh = append(fresh, column(t, st.Names(), cols, name)...)
			reloaded = append(reloaded, column(t, loaded.Names(), got[k], name)...)
		}
		if i, ok := sameBits(fresh, want[j]); !ok {
			t.Fatalf("later rows: %s differs from Fit+Apply at row %d", name, i)
		}
		if i, ok := sameBits(reloaded, want[j]); !ok {
			t.Fatalf("later rows, state read back: %s differs at row %d", name, i)
		}
		if name != "uv_low_cluster" {
			continue
		}
		var flagged, hits, planted int
		for i, v := range reloaded {
			if under[i] {
				planted++
			}
			if v == 1 {
				flagged++
				if under[i] {
					hits++
				}
			}
		}
		rate, prec := float64(planted)/float64(len(under)), float64(hits)/float64(max(flagged, 1))
		t.Logf("%d later rows, undervaluation rate %.4f; uv_low_cluster on %d rows, precision %.3f (%.1fx)", len(under), rate, flagged, prec, prec/rate)
		if flagged == 0 || prec < 2*rate {
			t.Errorf("uv_low_cluster precision %.3f on %d flagged rows is below twice the undervaluation rate %.4f", prec, flagged, rate)
		}
	}
	if again, err := loaded.MarshalJSON(); err != nil || !bytes.Equal(again, js) {
		t.Errorf("the state read back saves differently (%v)", err)
	}
}

// testBatch builds a batch of canonical columns; a nil entry of a float
// column is a null, as is an empty string.
type testRow struct {
	hs                        string
	cif, fob, net, gross, qty *float64
}

func f(v float64) *float64 { return &v }

func testBatch(t *testing.T, rows []testRow, dictHS bool) arrow.RecordBatch {
	t.Helper()
	mem := memory.NewGoAllocator()
	hsType := arrow.DataType(arrow.BinaryTypes.String)
	if dictHS {
		hsType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	}
	floatNames := []string{decl.CIFValue, decl.FOBValue, decl.NetMassKg, decl.GrossWeightKg, decl.Quantity}
	fields := []arrow.Field{{Name: decl.HSCode, Type: hsType, Nullable: true}}
	for _, n := range floatNames {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	}
	b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	for _, r := range rows {
		switch hb := b.Field(0).(type) {
		case *array.StringBuilder:
			if r.hs == "" {
				hb.AppendNull()
			} else {
				hb.Append(r.hs)
			}
		case *array.BinaryDictionaryBuilder:
			if r.hs == "" {
				hb.AppendNull()
			} else if err := hb.AppendString(r.hs); err != nil {
				t.Fatal(err)
			}
		}
		for j, v := range []*float64{r.cif, r.fob, r.net, r.gross, r.qty} {
			fb := b.Field(j + 1).(*array.Float64Builder)
			if v == nil {
				fb.AppendNull()
			} else {
				fb.Append(*v)
			}
		}
	}
	rec := b.NewRecordBatch()
	t.Cleanup(rec.Release)
	return rec
}

// TestSignalColumns checks what the signal reads from a batch, row by row,
// against the rules of risklane cluster: value CIF when positive else FOB,
// mass net when positive else gross, HS code null or malformed -> NoHS6.
func TestSignalColumns(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		row              testRow
		hs6              int32
		value, mass, qty float64
	}{
		{testRow{hs: "8703219000", cif: f(1100), fob: f(1000), net: f(10), gross: f(11), qty: f(2)}, 870321, 1100, 10, 2},
		{testRow{hs: "870321", fob: f(1000), net: f(10)}, 870321, 1000, 10, nan},
		{testRow{hs: "870321", cif: f(0), fob: f(900), net: f(0), gross: f(12)}, 870321, 900, 12, nan},
		{testRow{hs: "870321", cif: f(500), qty: f(4)}, 870321, 500, nan, 4},
		{testRow{cif: f(500), net: f(3)}, NoHS6, 500, 3, nan},
		{testRow{hs: "87A321", cif: f(500), net: f(3)}, NoHS6, 500, 3, nan},
		{testRow{hs: "8703.21", cif: f(-5), fob: f(-1), net: f(3)}, 870321, -1, 3, nan},
	}
	var rows []testRow
	for _, c := range cases {
		rows = append(rows, c.row)
	}
	for _, dict := range []bool{false, true} {
		var c Rows
		if err := addSignalRows(&c, testBatch(t, rows, dict)); err != nil {
			t.Fatal(err)
		}
		for i, w := range cases {
			got := [4]float64{float64(c.HS6[i]), c.Value[i], c.Mass[i], c.Qty[i]}
			want := [4]float64{float64(w.hs6), w.value, w.mass, w.qty}
			if _, ok := sameBits(got[:], want[:]); !ok {
				t.Errorf("dictionary %v, row %d: read %v, want %v", dict, i, got, want)
			}
		}
	}
}

func TestSignalErrors(t *testing.T) {
	rows := []testRow{{hs: "870321", cif: f(100), net: f(1)}}
	full := testBatch(t, rows, false)
	drop := func(names ...string) arrow.RecordBatch {
		var fields []arrow.Field
		var cols []arrow.Array
		for i, fl := range full.Schema().Fields() {
			if !slices.Contains(names, fl.Name) {
				fields = append(fields, fl)
				cols = append(cols, full.Column(i))
			}
		}
		rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, full.NumRows())
		t.Cleanup(rec.Release)
		return rec
	}
	for _, c := range []struct {
		name string
		rec  arrow.RecordBatch
		want string
	}{
		{"no HS code", drop(decl.HSCode), decl.HSCode},
		{"no value", drop(decl.CIFValue, decl.FOBValue), "customs value"},
		{"no mass or quantity", drop(decl.NetMassKg, decl.GrossWeightKg, decl.Quantity), "mass or a quantity"},
	} {
		if err := NewSignal(Config{}).Fit([]arrow.RecordBatch{c.rec}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Fit error %v, want one naming %q", c.name, err, c.want)
		}
	}
	s := NewSignal(Config{})
	out := [][]float64{{0}, {0}, {0}, {0}}
	if err := s.Apply(full, out); err == nil {
		t.Error("Apply before Fit succeeded")
	}
	if _, err := s.MarshalJSON(); err == nil {
		t.Error("MarshalJSON before Fit succeeded")
	}
	if err := s.Fit([]arrow.RecordBatch{full}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(full, out[:3]); err == nil {
		t.Error("Apply into 3 columns succeeded")
	}
	if err := s.Apply(full, [][]float64{{0}, {0}, {0}, {0, 0}}); err == nil {
		t.Error("Apply into a column of the wrong length succeeded")
	}
	if err := s.Apply(full, out); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`{}`, `{"version":1,"dims":2}`, `[`} {
		if err := NewSignal(Config{}).UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("state %s was accepted", bad)
		}
	}
}

// FuzzSignalState feeds the feature layer's reader a saved state whose
// bytes are mutated, the cluster group's saved model among them: whatever
// it accepts must score a batch without panicking, with a low-cluster flag
// of 0 or 1 and percentiles within 0 to 100 (NaN when unknown).
func FuzzSignalState(f *testing.F) {
	var train []arrow.RecordBatch
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed, cfg.NumHS, cfg.BatchSize, cfg.UnderdeclaredFlows = 400, 3, 5, 100, 2
	g, err := synth.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	for !g.Done() {
		b, err := g.Next()
		if err != nil {
			f.Fatal(err)
		}
		train = append(train, b)
	}
	st, _, err := features.Fit(train, features.Config{Groups: []string{features.GroupHS, GroupName}})
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
		cols, err := st.Transform(train[0], nil)
		if err != nil {
			return
		}
		for j, name := range st.Names() {
			for i, v := range cols[j] {
				switch {
				case name == "uv_low_cluster" && !(v == 0 || v == 1 || math.IsNaN(v)),
					name == "uv_percentile" && !(v >= 0 && v <= 100 || math.IsNaN(v)):
					t.Fatalf("row %d: %s = %v", i, name, v)
				}
			}
		}
	})
}

// BenchmarkSignalApply measures the cluster group at scoring time: the
// columns read from a batch of 16,384 generated declarations, each row
// assigned to its group's nearest centre, written as feature columns.
func BenchmarkSignalApply(b *testing.B) {
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
	s := NewSignal(Config{Seed: SignalSeed})
	if err := s.Fit(batches); err != nil {
		b.Fatal(err)
	}
	rec := batches[0]
	n := int(rec.NumRows())
	out := make([][]float64, len(FeatureNames))
	for j := range out {
		out[j] = make([]float64, n)
	}
	b.ResetTimer()
	for range b.N {
		if err := s.Apply(rec, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
