package synth

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"risklane/decl"
)

func TestSchemaIsCanonical(t *testing.T) {
	s := Schema()
	for i, c := range decl.Columns {
		f := s.Field(i)
		if f.Name != c.Name || !arrow.TypeEqual(f.Type, c.Type) || !f.Nullable {
			t.Errorf("field %d = %s %s nullable=%v, want canonical %s %s", i, f.Name, f.Type, f.Nullable, c.Name, c.Type)
		}
	}
	if got, want := decl.Extras(s), []string{ModeColumn, FraudTypeColumn}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("extras = %v, want %v", got, want)
	}
	ft := s.Field(s.FieldIndices(FraudTypeColumn)[0])
	if !decl.IsLabel(ft) {
		t.Errorf("%s is not marked as a label", FraudTypeColumn)
	}
	if m := s.Field(s.FieldIndices(ModeColumn)[0]); decl.IsLabel(m) {
		t.Errorf("%s is marked as a label", ModeColumn)
	}
	if !mustNew(t, smallConfig(10)).Schema().Equal(s) {
		t.Error("Generator.Schema differs from Schema()")
	}
}

// The same configuration gives byte-identical files; another seed does not.
func TestDeterministic(t *testing.T) {
	cfg := smallConfig(30_000)
	cfg.LabelRate = 0.7
	read := func(seed uint64) [3][]byte {
		c := cfg
		c.Seed = seed
		a, b, d := outputs(t, c, t.TempDir(), "d.parquet")
		var out [3][]byte
		for i, p := range []string{a, b, d} {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = data
		}
		return out
	}
	first, second, other := read(7), read(7), read(8)
	for i, name := range []string{"declarations", "trade", "truth"} {
		if !bytes.Equal(first[i], second[i]) {
			t.Errorf("%s: two runs with seed 7 differ", name)
		}
		if bytes.Equal(first[i], other[i]) {
			t.Errorf("%s: seeds 7 and 8 give the same bytes", name)
		}
	}
}

// Batching is a transport detail: any batch size gives the same rows.
func TestBatchSizeDoesNotChangeRows(t *testing.T) {
	a, b := smallConfig(5000), smallConfig(5000)
	a.BatchSize, b.BatchSize = 1, 4096
	ta, tb := collect(t, mustNew(t, a)), collect(t, mustNew(t, b))
	for i := range ta.id {
		if ta.id[i] != tb.id[i] || ta.cif[i] != tb.cif[i] || ta.fraud[i] != tb.fraud[i] || ta.labelled[i] != tb.labelled[i] {
			t.Fatalf("row %d differs between batch sizes 1 and 4096", i)
		}
	}
}

// The fraud stream is separate: another fraud rate leaves the underlying
// shipments (importer, date, mass) unchanged.
func TestFraudRateKeepsShipments(t *testing.T) {
	a, b := smallConfig(20_000), smallConfig(20_000)
	b.FraudRate = 0.12
	ta, tb := collect(t, mustNew(t, a)), collect(t, mustNew(t, b))
	same := 0
	for i := range ta.id {
		if ta.importer[i] != tb.importer[i] || ta.net[i] != tb.net[i] || ta.date[i] != tb.date[i] {
			t.Fatalf("row %d: shipment changed with the fraud rate", i)
		}
		if ta.fraud[i] == tb.fraud[i] {
			same++
		}
	}
	if same == ta.len() {
		t.Error("doubling the fraud rate changed no row")
	}
}

func TestInvariants(t *testing.T) {
	multiYear := smallConfig(60_000)
	multiYear.Start = time.Date(2022, 7, 1, 0, 0, 0, 0, time.UTC)
	multiYear.End = time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)
	partial := smallConfig(60_000)
	partial.LabelRate = 0.3
	uganda := smallConfig(40_000)
	uganda.Reporter = "UGA"
	tiny := smallConfig(3_000)
	tiny.NumHS, tiny.NumImporters, tiny.NumDeclarants, tiny.NumSellers, tiny.NumOffices = 40, 50, 5, 20, 3
	tiny.UnderdeclaredFlows = 3
	oneDay := smallConfig(500)
	oneDay.End = oneDay.Start
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"default", smallConfig(100_000)},
		{"two years", multiYear},
		{"30% labelled", partial},
		{"reporter UGA", uganda},
		{"tiny", tiny},
		{"one day", oneDay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := mustNew(t, tc.cfg)
			tb := collect(t, g)
			checkInvariants(t, tc.cfg, tb)
			s := g.Summary()
			if s.Rows != int64(tb.len()) {
				t.Errorf("summary rows %d, table %d", s.Rows, tb.len())
			}
		})
	}
}

func checkInvariants(t *testing.T, cfg Config, tb *table) {
	t.Helper()
	if int64(tb.len()) != cfg.Rows {
		t.Fatalf("%d rows, want %d", tb.len(), cfg.Rows)
	}
	ids := map[string]bool{}
	first, last := int32(day(cfg.Start)), int32(day(cfg.End))
	labelled := 0
	fails := 0
	fail := func(i int, format string, args ...any) {
		t.Helper()
		if fails++; fails <= 10 {
			t.Errorf("row %d (%s): "+format, append([]any{i, tb.id[i]}, args...)...)
		}
	}
	for i := range tb.id {
		if ids[tb.id[i]] {
			fail(i, "duplicate declaration id")
		}
		ids[tb.id[i]] = true
		if tb.date[i] < first || tb.date[i] > last {
			fail(i, "date %d outside [%d, %d]", tb.date[i], first, last)
		}
		if i > 0 && tb.date[i] < tb.date[i-1] {
			fail(i, "dates not in order")
		}
		if len(tb.hs[i]) != 10 || strings.Trim(tb.hs[i], "0123456789") != "" {
			fail(i, "hs_code %q is not 10 digits", tb.hs[i])
		}
		if tb.origin[i] == cfg.Reporter || tb.departure[i] == cfg.Reporter {
			fail(i, "origin %s / departure %s is the reporter", tb.origin[i], tb.departure[i])
		}
		if !(tb.net[i] > 0 && tb.gross[i] >= tb.net[i] && tb.qty[i] >= 1) {
			fail(i, "net %v gross %v quantity %v", tb.net[i], tb.gross[i], tb.qty[i])
		}
		if !(tb.fob[i] > 0 && tb.cif[i] >= tb.fob[i] && tb.cif[i] <= tb.fob[i]*1.16+0.01) {
			fail(i, "fob %v cif %v: want 0 < fob <= cif <= 1.15 fob", tb.fob[i], tb.cif[i])
		}
		if r := tb.taxRate[i]; r < 0 || r > 30 || math.Mod(r, 5) != 0 {
			fail(i, "tax rate %v is not one of 0, 5, ..., 30 percent", r)
		}
		if want := math.Round(tb.cif[i]*tb.taxRate[i]) / 100; math.Abs(tb.taxes[i]-want) > 0.005 {
			fail(i, "total taxes %v, want cif*rate = %v", tb.taxes[i], want)
		}
		if countryPref(tb.origin[i]) && tb.taxRate[i] != 0 {
			fail(i, "preferential origin %s pays %v%%", tb.origin[i], tb.taxRate[i])
		}
		switch tb.mode[i] {
		case "sea", "air", "road":
			if !strings.HasPrefix(tb.office[i], modeOfficePrefix[modeIndex(tb.mode[i])]) {
				fail(i, "office %s does not serve mode %s", tb.office[i], tb.mode[i])
			}
		default:
			fail(i, "mode %q", tb.mode[i])
		}
		fraud := tb.fraud[i] != FraudNone
		switch tb.fraud[i] {
		case FraudNone, FraudUndervaluation, FraudMisclassification, FraudOrigin:
		default:
			fail(i, "fraud type %q", tb.fraud[i])
		}
		if tb.fraud[i] == FraudOrigin && (!countryPref(tb.origin[i]) || tb.taxRate[i] != 0) {
			fail(i, "origin fraud declares %s at %v%%", tb.origin[i], tb.taxRate[i])
		}
		if !tb.labelled[i] {
			continue
		}
		labelled++
		if (tb.illicit[i] == 1) != fraud || tb.illicit[i] > 1 {
			fail(i, "illicit %d but fraud type %q", tb.illicit[i], tb.fraud[i])
		}
		if (tb.revenue[i] > 0) != fraud || tb.revenue[i] < 0 {
			fail(i, "revenue %v but fraud type %q", tb.revenue[i], tb.fraud[i])
		}
		// The true duty behind a misclassified or misdeclared row is a
		// tariff band: (declared duty + revenue) / CIF is a multiple of 5%
		// above the declared rate.
		if tb.fraud[i] == FraudMisclassification || tb.fraud[i] == FraudOrigin {
			trueRate := (tb.taxes[i] + tb.revenue[i]) / tb.cif[i] * 100
			band := math.Round(trueRate / 5)
			if math.Abs(trueRate-band*5)*tb.cif[i] > 1.5 || band*5 <= tb.taxRate[i] || band > 6 {
				fail(i, "%s: implied true rate %.4f%% is not a band above the declared %v%%", tb.fraud[i], trueRate, tb.taxRate[i])
			}
		}
	}
	n := float64(tb.len())
	sd := math.Sqrt(cfg.LabelRate * (1 - cfg.LabelRate) / n)
	if got := float64(labelled) / n; math.Abs(got-cfg.LabelRate) > 5*sd+1e-9 {
		t.Errorf("labelled share %.4f, want %.4f", got, cfg.LabelRate)
	}
}

func countryPref(iso string) bool {
	i, ok := lookupCountry(iso)
	return ok && countries[i].pref
}

func modeIndex(m string) int {
	for i, n := range modeNames {
		if n == m {
			return i
		}
	}
	return -1
}

func TestFraudRateMatchesConfig(t *testing.T) {
	for _, tc := range []struct {
		rate  float64
		flows int
	}{{0.02, 5}, {0.06, 20}, {0.15, 20}, {0.30, 0}, {0, 0}} {
		cfg := smallConfig(100_000)
		cfg.FraudRate, cfg.UnderdeclaredFlows = tc.rate, tc.flows
		g := mustNew(t, cfg)
		tb := collect(t, g)
		fraud := map[string]int{}
		for _, f := range tb.fraud {
			fraud[f]++
		}
		n := float64(tb.len())
		got := 1 - float64(fraud[FraudNone])/n
		// Rows are drawn independently given the populations, so the count
		// is binomial around the calibrated rate.
		tol := 4*math.Sqrt(tc.rate*(1-tc.rate)/n) + 0.001
		if math.Abs(got-tc.rate) > tol {
			t.Errorf("rate %v: fraud share %.4f, want within %.4f", tc.rate, got, tol)
		}
		if tc.rate >= 0.06 {
			for _, ft := range []string{FraudUndervaluation, FraudMisclassification, FraudOrigin} {
				if share := float64(fraud[ft]) / n / got; share < 0.08 {
					t.Errorf("rate %v: %s is only %.3f of the fraud", tc.rate, ft, share)
				}
			}
		}
		if s := g.Summary(); math.Abs(s.FraudRate()-got) > 1e-12 || s.PlantedFlows != tc.flows {
			t.Errorf("summary fraud rate %v planted %d, want %v and %d", s.FraudRate(), s.PlantedFlows, got, tc.flows)
		}
	}
}

// Repeat offenders make an importer's history informative, which the
// models' risk profiles rely on.
func TestOffendersConcentrateFraud(t *testing.T) {
	tb := collect(t, mustNew(t, smallConfig(100_000)))
	type stat struct{ n, f int }
	by := map[string]*stat{}
	for i, imp := range tb.importer {
		s := by[imp]
		if s == nil {
			s = &stat{}
			by[imp] = s
		}
		s.n++
		if tb.fraud[i] != FraudNone {
			s.f++
		}
	}
	var rates []float64
	for _, s := range by {
		if s.n >= 30 {
			rates = append(rates, float64(s.f)/float64(s.n))
		}
	}
	sort.Float64s(rates)
	median, p98 := rates[len(rates)/2], rates[len(rates)*98/100]
	if !(median < 0.04 && p98 > 0.3) {
		t.Errorf("importer fraud rates: median %.3f, 98th percentile %.3f; want a clean majority and a few heavy offenders", median, p98)
	}
}

// Planted undervaluation sits in the low tail of its HS6 unit-value
// distribution, where k-means' low clusters look.
func TestUndervaluationInLowTail(t *testing.T) {
	tb := collect(t, mustNew(t, smallConfig(200_000)))
	clean := map[string][]float64{}
	for i, h := range tb.hs {
		if tb.fraud[i] == FraudNone {
			clean[h[:6]] = append(clean[h[:6]], math.Log(tb.cif[i]/tb.net[i]))
		}
	}
	for _, v := range clean {
		sort.Float64s(v)
	}
	var pct []float64
	for i, h := range tb.hs {
		v := clean[h[:6]]
		if tb.fraud[i] != FraudUndervaluation || len(v) < 50 {
			continue
		}
		pct = append(pct, float64(sort.SearchFloat64s(v, math.Log(tb.cif[i]/tb.net[i])))/float64(len(v)))
	}
	if len(pct) < 1000 {
		t.Fatalf("only %d undervalued rows in well-populated codes", len(pct))
	}
	sort.Float64s(pct)
	below10 := sort.SearchFloat64s(pct, 0.10)
	if share := float64(below10) / float64(len(pct)); share < 0.75 {
		t.Errorf("%.3f of undervalued rows fall below their code's clean 10th percentile, want >= 0.75", share)
	}
	if median := pct[len(pct)/2]; median > 0.03 {
		t.Errorf("median percentile of undervalued rows %.3f, want <= 0.03", median)
	}
}

// The generated Parquet reads back with arrow-go's pqarrow, row for row.
func TestParquetReadsBack(t *testing.T) {
	cfg := smallConfig(25_000)
	cfg.LabelRate = 0.5
	path, _, _ := outputs(t, cfg, t.TempDir(), "decl.parquet")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 7000}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	// pqarrow adds Parquet field ids to the metadata; names, types and the
	// label role must survive.
	want := Schema()
	for i, f := range rr.Schema().Fields() {
		w := want.Field(i)
		if f.Name != w.Name || !arrow.TypeEqual(f.Type, w.Type) || decl.IsLabel(f) != decl.IsLabel(w) {
			t.Errorf("field %d read back as %s %s label=%v, want %s %s label=%v", i, f.Name, f.Type, decl.IsLabel(f), w.Name, w.Type, decl.IsLabel(w))
		}
	}
	got := &table{}
	for rr.Next() {
		got.append(t, rr.RecordBatch())
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	exp := collect(t, mustNew(t, cfg))
	if got.len() != exp.len() {
		t.Fatalf("read %d rows, want %d", got.len(), exp.len())
	}
	for i := range exp.id {
		want := exp
		if got.id[i] != want.id[i] || got.date[i] != want.date[i] || got.hs[i] != want.hs[i] ||
			got.cif[i] != want.cif[i] || got.net[i] != want.net[i] || got.fraud[i] != want.fraud[i] ||
			got.labelled[i] != want.labelled[i] || (want.labelled[i] && got.revenue[i] != want.revenue[i]) {
			t.Fatalf("row %d differs after the Parquet round trip", i)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no rows", func(c *Config) { c.Rows = 0 }, "rows = 0"},
		{"negative fraud", func(c *Config) { c.FraudRate = -0.1 }, "fraud rate"},
		{"NaN fraud", func(c *Config) { c.FraudRate = math.NaN() }, "fraud rate"},
		{"label > 1", func(c *Config) { c.LabelRate = 1.5 }, "label rate"},
		{"reversed dates", func(c *Config) { c.End = c.Start.AddDate(0, 0, -1) }, "ends before it starts"},
		{"no dates", func(c *Config) { c.Start = time.Time{} }, "date range"},
		{"unknown reporter", func(c *Config) { c.Reporter = "XXX" }, `reporter "XXX"`},
		{"one HS code", func(c *Config) { c.NumHS = 1 }, "HS codes"},
		{"two offices", func(c *Config) { c.NumOffices = 2 }, "offices"},
		{"batch 0", func(c *Config) { c.BatchSize = 0 }, "batch size"},
		{"flows without fraud", func(c *Config) { c.FraudRate = 0 }, "no room"},
		{"too many flows", func(c *Config) { c.NumHS = 2; c.UnderdeclaredFlows = 500 }, "can be under-declared"},
		{"flows exceed rate", func(c *Config) {
			c.NumHS, c.NumImporters, c.FraudRate, c.UnderdeclaredFlows = 10, 5, 0.01, 2
		}, "alone make"},
		{"unreachable rate", func(c *Config) { c.FraudRate = 0.95; c.UnderdeclaredFlows = 0 }, "cannot be reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallConfig(1000)
			tc.edit(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestTradeAndTruthNeedAllRows(t *testing.T) {
	g := mustNew(t, smallConfig(20_000))
	rec, err := g.Next()
	if err != nil {
		t.Fatal(err)
	}
	rec.Release()
	var buf bytes.Buffer
	if err := g.TradeStatistics(&buf); err == nil || !strings.Contains(err.Error(), "10000 of 20000") {
		t.Errorf("TradeStatistics mid-way: %v", err)
	}
	if err := g.Truth(&buf); err == nil {
		t.Error("Truth mid-way did not fail")
	}
}

func TestDATEFormat(t *testing.T) {
	cfg := smallConfig(3000)
	cfg.LabelRate = 0.5
	var buf bytes.Buffer
	if err := WriteDATE(&buf, mustNew(t, cfg)); err != nil {
		t.Fatal(err)
	}
	header, rows := readCSV(t, buf.Bytes())
	if got := strings.Join(header, ","); got != "sgd.id,sgd.date,importer.id,declarant.id,country,office.id,tariff.code,quantity,gross.weight,fob.value,cif.value,total.taxes,illicit,revenue" {
		t.Fatalf("header %s", got)
	}
	want := collect(t, mustNew(t, cfg))
	if len(rows) != want.len() {
		t.Fatalf("%d rows, want %d", len(rows), want.len())
	}
	for i, r := range rows {
		d, err := time.Parse("06-01-02", r["sgd.date"])
		if err != nil {
			t.Fatalf("row %d: sgd.date %q: %v", i, r["sgd.date"], err)
		}
		if int32(d.Unix()/86400) != want.date[i] || r["sgd.id"] != want.id[i] || r["tariff.code"] != want.hs[i] ||
			r["country"] != want.origin[i] || r["office.id"] != want.office[i] || r["importer.id"] != want.importer[i] ||
			r["declarant.id"] != want.declarant[i] || parseFloat(t, r["cif.value"]) != want.cif[i] ||
			parseFloat(t, r["gross.weight"]) != want.gross[i] || parseFloat(t, r["total.taxes"]) != want.taxes[i] {
			t.Fatalf("row %d = %v differs from the generated row", i, r)
		}
		if want.labelled[i] {
			if r["illicit"] != string('0'+rune(want.illicit[i])) || parseFloat(t, r["revenue"]) != want.revenue[i] {
				t.Fatalf("row %d labels %q %q", i, r["illicit"], r["revenue"])
			}
		} else if r["illicit"] != "" || r["revenue"] != "" {
			t.Fatalf("row %d is not inspected but has labels %q %q", i, r["illicit"], r["revenue"])
		}
	}
	if !strings.HasPrefix(buf.String(), strings.Join(DATEHeader, ",")+"\n") {
		t.Error("DATEHeader differs from the written header")
	}
}

func TestDATEWriterRejectsForeignBatches(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rec := emptyBatch(s)
	defer rec.Release()
	if err := NewDATEWriter(&bytes.Buffer{}).Write(rec); err == nil || !strings.Contains(err.Error(), `"declaration_id"`) {
		t.Errorf("error %v", err)
	}
}

func TestCSVFieldQuoting(t *testing.T) {
	for in, want := range map[string]string{`a`: `a`, `a,b`: `"a,b"`, `say "x"`: `"say ""x"""`, "l\n2": "\"l\n2\""} {
		if got := string(appendCSVField(nil, in)); got != want {
			t.Errorf("appendCSVField(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestWriteOutputsAtomically(t *testing.T) {
	dir := t.TempDir()
	outputs(t, smallConfig(100), dir, "x.csv")
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "trade.csv,truth.csv,x.csv" {
		t.Errorf("files left: %v", names)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "x.csv"))
	if !strings.HasPrefix(string(data), "declaration_id,date,") {
		t.Errorf("CSV starts %.40q", data)
	}
}

func TestStreamStopsOnWriteError(t *testing.T) {
	g := mustNew(t, smallConfig(100_000))
	calls := 0
	boom := errors.New("disk full")
	err := Stream(g, func(arrow.RecordBatch) error {
		calls++
		if calls == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls != 2 {
		t.Errorf("Stream returned %v after %d writes, want the write error after 2", err, calls)
	}
	g = mustNew(t, smallConfig(25_000))
	n := int64(0)
	if err := Stream(g, func(rec arrow.RecordBatch) error { n += rec.NumRows(); return nil }); err != nil || n != 25_000 {
		t.Errorf("Stream wrote %d rows, err %v", n, err)
	}
}

// The row loop allocates nothing per row: allocations per batch stay
// constant (Arrow buffers, a few new flows) when the batch grows eightfold.
func TestRowLoopDoesNotAllocate(t *testing.T) {
	allocs := func(batch int) float64 {
		cfg := smallConfig(1 << 20)
		cfg.BatchSize = batch
		g := mustNew(t, cfg)
		for range 20 { // let the flow table see the common flows first
			rec, _ := g.Next()
			rec.Release()
		}
		return testing.AllocsPerRun(20, func() {
			rec, err := g.Next()
			if err != nil {
				t.Fatal(err)
			}
			rec.Release()
		})
	}
	small, large := allocs(1000), allocs(8000)
	t.Logf("allocations per batch: %.0f for 1000 rows, %.0f for 8000 rows", small, large)
	if large > small+0.01*8000 {
		t.Errorf("allocations grow with the rows: %.0f per 1000-row batch, %.0f per 8000-row batch", small, large)
	}
}
