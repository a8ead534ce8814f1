package mirror

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"risklane/decl"
)

func TestSignalLookupFallback(t *testing.T) {
	s := handWorked(t).Signals()
	nan := math.NaN()
	for _, c := range []struct {
		origin, hs string
		year       int
		want       Signal
	}{
		// HS6 flow with both sides (testdata/README.md).
		{"CHN", "851712", 2021, Signal{6, 1.0 / 3, math.Log(1.5), 1.5, 1375000.0 / 2923543}},
		{"CN", "8517120000", 2021, Signal{6, 1.0 / 3, math.Log(1.5), 1.5, 1375000.0 / 2923543}},
		{"156", "851712", 2021, Signal{6, 1.0 / 3, math.Log(1.5), 1.5, 1375000.0 / 2923543}},
		// 870323 and its heading 8703 are export-only: chapter 87 pairs
		// 80,000 of exports with 80,000 of imports (of 8701).
		{"CHN", "870323", 2021, Signal{2, 0, 0, nan, 0}},
		// An HS6 code the statistics lack, in a heading they have: 8517
		// sums 851712 and 851762.
		{"CHN", "851779", 2021, Signal{4, 5077666.0 / 16200000, math.Log(16200000.0 / 11122334), (16200000.0 / 1050) / (11122334.0 / 1050), 1383543.0 / 2923543}},
		// Import-only at every level, another year, an unknown origin.
		{"IND", "071310", 2021, noSignal},
		{"CHN", "851712", 2022, noSignal},
		{"USA", "851712", 2021, noSignal},
		{"CHN", "85", 2021, Signal{2, 5077666.0 / 16200000, math.Log(16200000.0 / 11122334), (16200000.0 / 1050) / (11122334.0 / 1050), 1383543.0 / 2923543}},
		{"CHN", "8", 2021, noSignal},
	} {
		got := s.Lookup(c.origin, c.hs, c.year)
		if got.Level != c.want.Level || !near(got.RelGap, c.want.RelGap, 1e-12) || !near(got.LogRatio, c.want.LogRatio, 1e-12) ||
			!near(got.UVRatio, c.want.UVRatio, 1e-12) || !near(got.RevenueShare, c.want.RevenueShare, 1e-12) {
			t.Errorf("Lookup(%s, %s, %d) = %+v, want %+v", c.origin, c.hs, c.year, got, c.want)
		}
	}
}

func TestSignalsJSONRoundTrip(t *testing.T) {
	s := handWorked(t).Signals()
	var buf bytes.Buffer
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	first := buf.String()
	s2, err := ReadSignals(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Len() != s.Len() || s2.Reporter != "KEN" || s2.CIFFOB != 1.1 {
		t.Fatalf("reloaded %d entries (%s, %v), want %d", s2.Len(), s2.Reporter, s2.CIFFOB, s.Len())
	}
	for k, sg := range s.table {
		if !sameSignal(s2.table[k], sg) {
			t.Errorf("%v: %+v, want %+v", k, s2.table[k], sg)
		}
	}
	var again bytes.Buffer
	s2.WriteJSON(&again)
	if again.String() != first {
		t.Error("saving the reloaded dictionary gives different bytes")
	}
	if _, err := ReadSignals(bytes.NewReader([]byte(`{"format":"risklane.mirror.signals/9"}`))); err == nil {
		t.Error("a future format was accepted")
	}
}

// TestApplyMatchesLookup checks the columnar paths against Lookup row by row.
func TestApplyMatchesLookup(t *testing.T) {
	s := handWorked(t).Signals()
	origin := []string{"CHN", "CN", "IND", "CHN", "", "CHN", "IND"}
	hs := []string{"8517120000", "851762", "100630", "870323", "851712", "85", "520100"}
	year := []int32{2021, 2021, 2021, 2021, 2021, 2021, 2020}
	var out SignalColumns
	if err := s.Apply(origin, hs, year, &out); err != nil {
		t.Fatal(err)
	}
	for i := range origin {
		want := s.Lookup(origin[i], hs[i], int(year[i]))
		got := Signal{out.Level[i], out.RelGap[i], out.LogRatio[i], out.UVRatio[i], out.RevenueShare[i]}
		if !sameSignal(got, want) {
			t.Errorf("row %d: %+v, want %+v", i, got, want)
		}
	}
	if err := s.Apply(origin, hs[:2], year, &out); err == nil {
		t.Error("columns of different lengths were accepted")
	}

	// The same declarations as an Arrow batch in the canonical schema, plus
	// a row with nulls.
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := array.NewRecordBuilder(mem, decl.Schema())
	defer b.Release()
	fi := func(name string) int { return b.Schema().FieldIndices(name)[0] }
	for i := range origin {
		b.Field(fi(decl.OriginCountry)).(*array.StringBuilder).Append(origin[i])
		b.Field(fi(decl.HSCode)).(*array.StringBuilder).Append(hs[i])
		d := time.Date(int(year[i]), 6, 30, 0, 0, 0, 0, time.UTC)
		b.Field(fi(decl.Date)).(*array.Date32Builder).Append(arrow.Date32FromTime(d))
	}
	b.Field(fi(decl.OriginCountry)).AppendNull()
	b.Field(fi(decl.HSCode)).(*array.StringBuilder).Append("851712")
	b.Field(fi(decl.Date)).(*array.Date32Builder).Append(arrow.Date32FromTime(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)))
	for i, f := range b.Schema().Fields() {
		if f.Name != decl.OriginCountry && f.Name != decl.HSCode && f.Name != decl.Date {
			for range len(origin) + 1 {
				b.Field(i).AppendNull()
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var cols SignalColumns
	if err := s.ApplyBatch(rec, &cols); err != nil {
		t.Fatal(err)
	}
	for i := range origin {
		if cols.Level[i] != out.Level[i] || !near(cols.RelGap[i], out.RelGap[i], 0) || !near(cols.UVRatio[i], out.UVRatio[i], 0) {
			t.Errorf("batch row %d: level %d rel %v, want %d %v", i, cols.Level[i], cols.RelGap[i], out.Level[i], out.RelGap[i])
		}
	}
	if last := len(origin); cols.Level[last] != 0 || !math.IsNaN(cols.RelGap[last]) {
		t.Errorf("null origin: level %d rel %v, want no signal", cols.Level[last], cols.RelGap[last])
	}
}

// TestParquetRoundTrip reads the written gap table back with the Parquet
// reader and checks it against the in-memory result.
func TestParquetRoundTrip(t *testing.T) {
	g := handWorked(t)
	p := filepath.Join(t.TempDir(), "gaps.parquet")
	if err := g.WriteTable(p); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(context.Background(), f, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if int(tbl.NumRows()) != len(g.Flows)+len(g.Rollups) {
		t.Fatalf("%d rows, want %d", tbl.NumRows(), len(g.Flows)+len(g.Rollups))
	}
	col := func(name string) arrow.Array {
		return tbl.Column(tbl.Schema().FieldIndices(name)[0]).Data().Chunk(0)
	}
	rank := col("rank").(*array.Int32)
	rev := col("revenue_gap").(*array.Float64)
	hs := col("hs").(*array.String)
	total := 0.0
	for i := 0; i < int(tbl.NumRows()); i++ {
		if i < len(g.Flows) {
			total += rev.Value(i)
			if hs.Value(i) != g.Flows[i].HS || (g.Flows[i].Rank == 0) != rank.IsNull(i) {
				t.Errorf("row %d: hs %s rank null %v; want %s rank %d", i, hs.Value(i), rank.IsNull(i), g.Flows[i].HS, g.Flows[i].Rank)
			}
		}
	}
	if math.Abs(total-29070.43) > 1e-6 {
		t.Errorf("revenue column sums to %v, want 29070.43", total)
	}
}
