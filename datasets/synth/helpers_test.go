package synth

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
	"risklane/sink"
)

// table is a generated data set held as plain columns, read back from the
// batches through the Arrow arrays (not the generator's internals).
type table struct {
	id, office, importer, declarant, seller, hs, origin, departure, mode, fraud []string
	date                                                                        []int32
	qty, net, gross, fob, cif, taxRate, taxes, revenue                          []float64
	illicit                                                                     []int8
	labelled                                                                    []bool
}

func (t *table) len() int { return len(t.id) }

func column[T arrow.Array](t testing.TB, rec arrow.RecordBatch, name string) T {
	t.Helper()
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("no column %q", name)
	}
	c, ok := rec.Column(idx[0]).(T)
	if !ok {
		t.Fatalf("column %q is %s", name, rec.Column(idx[0]).DataType())
	}
	return c
}

func (tb *table) append(t testing.TB, rec arrow.RecordBatch) {
	strs := []struct {
		dst  *[]string
		name string
	}{
		{&tb.id, decl.DeclarationID}, {&tb.office, decl.OfficeID}, {&tb.importer, decl.ImporterID},
		{&tb.declarant, decl.DeclarantID}, {&tb.seller, decl.SellerID}, {&tb.hs, decl.HSCode},
		{&tb.origin, decl.OriginCountry}, {&tb.departure, decl.DepartureCountry}, {&tb.mode, ModeColumn},
		{&tb.fraud, FraudTypeColumn},
	}
	for _, s := range strs {
		c := column[*array.String](t, rec, s.name)
		for i := 0; i < c.Len(); i++ {
			if c.IsNull(i) {
				t.Fatalf("column %s row %d is null", s.name, len(*s.dst))
			}
			*s.dst = append(*s.dst, c.Value(i))
		}
	}
	flts := []struct {
		dst  *[]float64
		name string
	}{
		{&tb.qty, decl.Quantity}, {&tb.net, decl.NetMassKg}, {&tb.gross, decl.GrossWeightKg},
		{&tb.fob, decl.FOBValue}, {&tb.cif, decl.CIFValue}, {&tb.taxRate, decl.TaxRate},
		{&tb.taxes, decl.TotalTaxes}, {&tb.revenue, decl.Revenue},
	}
	for _, f := range flts {
		c := column[*array.Float64](t, rec, f.name)
		for i := 0; i < c.Len(); i++ {
			*f.dst = append(*f.dst, c.Value(i))
		}
	}
	d := column[*array.Date32](t, rec, decl.Date)
	for i := 0; i < d.Len(); i++ {
		tb.date = append(tb.date, int32(d.Value(i)))
	}
	ill := column[*array.Int8](t, rec, decl.Illicit)
	rev := column[*array.Float64](t, rec, decl.Revenue)
	for i := 0; i < ill.Len(); i++ {
		if ill.IsNull(i) != rev.IsNull(i) {
			t.Fatalf("row %d: illicit null %v but revenue null %v", len(tb.illicit), ill.IsNull(i), rev.IsNull(i))
		}
		tb.illicit = append(tb.illicit, ill.Value(i))
		tb.labelled = append(tb.labelled, !ill.IsNull(i))
	}
}

// collect drains g into a table.
func collect(t testing.TB, g *Generator) *table {
	t.Helper()
	tb := &table{}
	for {
		rec, err := g.Next()
		if errors.Is(err, io.EOF) {
			return tb
		}
		if err != nil {
			t.Fatal(err)
		}
		tb.append(t, rec)
		rec.Release()
	}
}

func mustNew(t testing.TB, cfg Config) *Generator {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func smallConfig(rows int64) Config {
	cfg := DefaultConfig()
	cfg.Rows = rows
	cfg.BatchSize = 10_000
	return cfg
}

// outputs writes the declarations (in the format of name's extension; none
// for an empty name), the trade statistics and the truth file of cfg into
// dir and returns the paths.
func outputs(t testing.TB, cfg Config, dir, name string) (declPath, tradePath, truthPath string) {
	t.Helper()
	g := mustNew(t, cfg)
	write := func(arrow.RecordBatch) error { return nil }
	if name != "" {
		declPath = filepath.Join(dir, name)
		w, err := sink.Create(declPath, g.Schema())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		write = w.Write
		defer func() {
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
		}()
	}
	if err := Stream(g, write); err != nil {
		t.Fatal(err)
	}
	var trade, truth bytes.Buffer
	if err := g.TradeStatistics(&trade); err != nil {
		t.Fatal(err)
	}
	if err := g.Truth(&truth); err != nil {
		t.Fatal(err)
	}
	tradePath = filepath.Join(dir, "trade.csv")
	truthPath = filepath.Join(dir, "truth.csv")
	if err := os.WriteFile(tradePath, trade.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truthPath, truth.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return declPath, tradePath, truthPath
}

// readCSV parses a whole CSV with encoding/csv and returns the header and
// the rows as maps from column name to value.
func readCSV(t testing.TB, data []byte) ([]string, []map[string]string) {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	all, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("empty CSV")
	}
	var rows []map[string]string
	for _, rec := range all[1:] {
		m := map[string]string{}
		for i, h := range all[0] {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
	return all[0], rows
}

func parseFloat(t testing.TB, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// cents parses a money amount with at most two decimals exactly.
func parseCents(t testing.TB, s string) int64 {
	t.Helper()
	return int64(parseFloat(t, s)*100 + signHalf(s))
}

func signHalf(s string) float64 {
	if len(s) > 0 && s[0] == '-' {
		return -0.5
	}
	return 0.5
}
