package synth

import (
	"bytes"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// comtradeHeader is the UN Comtrade bulk-download header, copied from the
// legacy Comtrade API CSV output as used by public download scripts.
const comtradeHeader = "Classification,Year,Period,Period Desc.,Aggregate Level,Is Leaf Code,Trade Flow Code,Trade Flow,Reporter Code,Reporter,Reporter ISO,Partner Code,Partner,Partner ISO,2nd Partner Code,2nd Partner,2nd Partner ISO,Customs Proc. Code,Customs,Mode of Transport Code,Mode of Transport,Commodity Code,Commodity,Qty Unit Code,Qty Unit,Qty,Alt Qty Unit Code,Alt Qty Unit,Alt Qty,Netweight (kg),Gross weight (kg),Trade Value (US$),CIF Trade Value (US$),FOB Trade Value (US$),Flag"

type flowKey struct {
	partner, hs6 string
	year         int
}

// tradeData is the trade statistics file parsed with encoding/csv.
type tradeData struct {
	imports, exports         map[flowKey]int64 // cents
	importNet, exportNet     map[flowKey]int64 // tenths of kg
	importGross, exportGross map[flowKey]int64
}

func parseTrade(t *testing.T, path, reporter string) tradeData {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header, rows := readCSV(t, data)
	if got := strings.Join(header, ","); got != comtradeHeader {
		t.Fatalf("trade header\n%s\nwant\n%s", got, comtradeHeader)
	}
	td := tradeData{map[flowKey]int64{}, map[flowKey]int64{}, map[flowKey]int64{}, map[flowKey]int64{}, map[flowKey]int64{}, map[flowKey]int64{}}
	rep, _ := lookupCountry(reporter)
	for i, r := range rows {
		year, err := strconv.Atoi(r["Year"])
		if err != nil || r["Period"] != r["Year"] || r["Classification"] != "HS" || r["Aggregate Level"] != "6" ||
			r["Qty Unit Code"] != "8" || r["Qty"] != r["Netweight (kg)"] || len(r["Commodity Code"]) != 6 || r["Flag"] != "0" {
			t.Fatalf("trade row %d malformed: %v", i+2, r)
		}
		for _, side := range []string{"Reporter", "Partner"} {
			ci, ok := lookupCountry(r[side+" ISO"])
			if !ok || strconv.Itoa(countries[ci].code) != r[side+" Code"] || countries[ci].name != r[side] {
				t.Fatalf("trade row %d: %s %s / %s / %s inconsistent", i+2, side, r[side+" Code"], r[side], r[side+" ISO"])
			}
		}
		value := parseCents(t, r["Trade Value (US$)"])
		net := int64(math.Round(parseFloat(t, r["Netweight (kg)"]) * 10))
		gross := int64(math.Round(parseFloat(t, r["Gross weight (kg)"]) * 10))
		if gross < net {
			t.Fatalf("trade row %d: gross %d < net %d", i+2, gross, net)
		}
		switch r["Trade Flow Code"] {
		case "1":
			if r["Trade Flow"] != "Import" || r["Reporter ISO"] != reporter || r["CIF Trade Value (US$)"] != r["Trade Value (US$)"] || r["FOB Trade Value (US$)"] != "" {
				t.Fatalf("trade row %d: bad import row %v", i+2, r)
			}
			k := flowKey{r["Partner ISO"], r["Commodity Code"], year}
			td.imports[k] += value
			td.importNet[k] += net
			td.importGross[k] += gross
		case "2":
			if r["Trade Flow"] != "Export" || r["Partner ISO"] != reporter || r["Partner Code"] != strconv.Itoa(countries[rep].code) || r["FOB Trade Value (US$)"] != r["Trade Value (US$)"] {
				t.Fatalf("trade row %d: bad export row %v", i+2, r)
			}
			k := flowKey{r["Reporter ISO"], r["Commodity Code"], year}
			td.exports[k] += value
			td.exportNet[k] += net
			td.exportGross[k] += gross
		default:
			t.Fatalf("trade row %d: flow code %q", i+2, r["Trade Flow Code"])
		}
	}
	return td
}

type truthRow struct {
	key                             flowKey
	declared, trueCIF, under, lostC int64
	rate                            float64
}

func parseTruth(t *testing.T, path, reporter string) []truthRow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header, rows := readCSV(t, data)
	if got := strings.Join(header, ","); got != "reporter_iso,partner_iso,hs6,year,declared_import_cif,true_import_cif,underdeclared_cif,duty_rate,duty_lost" {
		t.Fatalf("truth header %s", got)
	}
	var out []truthRow
	for _, r := range rows {
		if r["reporter_iso"] != reporter {
			t.Fatalf("truth reporter %s", r["reporter_iso"])
		}
		year, _ := strconv.Atoi(r["year"])
		out = append(out, truthRow{flowKey{r["partner_iso"], r["hs6"], year}, parseCents(t, r["declared_import_cif"]),
			parseCents(t, r["true_import_cif"]), parseCents(t, r["underdeclared_cif"]), parseCents(t, r["duty_lost"]),
			parseFloat(t, r["duty_rate"])})
	}
	return out
}

// The reporter's imports in the trade statistics are exactly the declared
// CIF values, net and gross masses of the declarations, summed per origin,
// HS6 and year; the truth file agrees with the declarations of its flows.
func TestTradeAndTruthReconcile(t *testing.T) {
	cfg := smallConfig(150_000)
	cfg.Start = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg.LabelRate = 1
	dir := t.TempDir()
	_, tradePath, truthPath := outputs(t, cfg, dir, "")
	td := parseTrade(t, tradePath, cfg.Reporter)
	tb := collect(t, mustNew(t, cfg))

	cif, net, gross, rev := map[flowKey]int64{}, map[flowKey]int64{}, map[flowKey]int64{}, map[flowKey]int64{}
	kinds := map[flowKey]map[string]int{}
	for i := range tb.id {
		y := time.Unix(int64(tb.date[i])*86400, 0).UTC().Year()
		k := flowKey{tb.origin[i], tb.hs[i][:6], y}
		cif[k] += int64(math.Round(tb.cif[i] * 100))
		net[k] += int64(math.Round(tb.net[i] * 10))
		gross[k] += int64(math.Round(tb.gross[i] * 10))
		rev[k] += int64(math.Round(tb.revenue[i] * 100))
		if kinds[k] == nil {
			kinds[k] = map[string]int{}
		}
		kinds[k][tb.fraud[i]]++
	}
	if len(cif) != len(td.imports) {
		t.Errorf("%d declared flows, %d import rows", len(cif), len(td.imports))
	}
	for k, v := range cif {
		if td.imports[k] != v || td.importNet[k] != net[k] || td.importGross[k] != gross[k] {
			t.Errorf("%v: imports %d cents %d kg/10 %d kg/10, declarations %d %d %d", k, td.imports[k], td.importNet[k], td.importGross[k], v, net[k], gross[k])
		}
	}
	years := map[int]bool{}
	for k := range td.imports {
		years[k.year] = true
	}
	if !years[2023] || !years[2024] || len(years) != 2 {
		t.Errorf("years in the statistics: %v", years)
	}

	var tbuf bytes.Buffer
	if err := mustNew(t, cfg).Tariffs(&tbuf); err != nil {
		t.Fatal(err)
	}
	header, trows := readCSV(t, tbuf.Bytes())
	tariff := map[string]float64{}
	for _, r := range trows {
		tariff[r["hs"]] = parseFloat(t, r["rate"])
	}
	if strings.Join(header, ",") != "hs,rate" || len(tariff) != cfg.NumHS {
		t.Errorf("tariff table header %v, %d codes", header, len(tariff))
	}
	for i, h := range tb.hs {
		if r := tariff[h[:6]]; tb.fraud[i] == FraudNone && !countryPref(tb.origin[i]) && tb.taxRate[i] != r {
			t.Fatalf("row %d: clean row of %s from %s declares %v%%, the tariff says %v%%", i, h, tb.origin[i], tb.taxRate[i], r)
		}
	}

	truth := parseTruth(t, truthPath, cfg.Reporter)
	planted := map[flowKey]bool{}
	for _, r := range truth {
		planted[flowKey{r.key.partner, r.key.hs6, 0}] = true
		k := r.key
		if r.declared != cif[k] || r.declared != td.imports[k] {
			t.Errorf("%v: declared_import_cif %d, declarations %d, trade %d", k, r.declared, cif[k], td.imports[k])
		}
		if r.under != r.trueCIF-r.declared || r.under <= 0 {
			t.Errorf("%v: underdeclared %d != true %d - declared %d", k, r.under, r.trueCIF, r.declared)
		}
		if r.lostC != rev[k] {
			t.Errorf("%v: duty_lost %d cents, revenue of its rows %d", k, r.lostC, rev[k])
		}
		// Each row's duty is rounded to the cent on its own.
		rows := 0
		for _, n := range kinds[k] {
			rows += n
		}
		if d := math.Abs(float64(r.under)*r.rate/100 - float64(r.lostC)); d > float64(rows) {
			t.Errorf("%v: duty_lost %d cents vs underdeclared*rate %.0f (%d rows)", k, r.lostC, float64(r.under)*r.rate/100, rows)
		}
		if r.rate != tariff[k.hs6] || r.rate <= 0 {
			t.Errorf("%v: duty_rate %v, tariff table %v", k, r.rate, tariff[k.hs6])
		}
		if kinds[k][FraudMisclassification]+kinds[k][FraudOrigin] > 0 {
			t.Errorf("%v: planted flow has other fraud %v", k, kinds[k])
		}
		if share := float64(kinds[k][FraudUndervaluation]) / float64(rows); rows >= 50 && (share < 0.45 || share > 0.75) {
			t.Errorf("%v: %.2f of %d rows undervalued, want about 0.6", k, share, rows)
		}
		// The partner reports the true FOB: true CIF / export FOB is the
		// flow's CIF/FOB factor, within [1.05, 1.15] and the 5% noise.
		if ratio := float64(r.trueCIF) / float64(td.exports[k]); ratio < 1.05/1.05 || ratio > 1.15/0.95 {
			t.Errorf("%v: true CIF / partner FOB = %.3f", k, ratio)
		}
	}
	if len(planted) != cfg.UnderdeclaredFlows {
		t.Errorf("truth names %d flows, want %d", len(planted), cfg.UnderdeclaredFlows)
	}
	for _, p := range mustNew(t, cfg).PlantedFlows() {
		if !planted[flowKey{p.Partner, p.HS6, 0}] {
			t.Errorf("PlantedFlows lists %v, the truth file does not", p)
		}
	}
}

// A plain mirror analysis, written here independently of the generator,
// ranks the planted flows among the largest gaps and estimates their duty
// loss closely. This is what risklane's mirror command is tested for.
func TestMirrorAnalysisFindsPlantedFlows(t *testing.T) {
	cfg := smallConfig(300_000)
	_, tradePath, truthPath := outputs(t, cfg, t.TempDir(), "")
	td := parseTrade(t, tradePath, cfg.Reporter)
	truth := parseTruth(t, truthPath, cfg.Reporter)

	type gap struct {
		k   flowKey
		gap float64
	}
	keys := map[flowKey]bool{}
	for k := range td.imports {
		keys[k] = true
	}
	for k := range td.exports {
		keys[k] = true
	}
	var gaps []gap
	for k := range keys {
		gaps = append(gaps, gap{k, 1.10*float64(td.exports[k]) - float64(td.imports[k])})
	}
	sort.Slice(gaps, func(a, b int) bool { return gaps[a].gap > gaps[b].gap })
	rank := map[flowKey]int{}
	for i, g := range gaps {
		rank[g.k] = i + 1
	}
	top := len(gaps) * 5 / 100
	estimate, lost := 0.0, 0.0
	worst := 0
	for _, r := range truth {
		worst = max(worst, rank[r.key])
		if rank[r.key] > top {
			t.Errorf("planted flow %v ranks %d of %d, outside the top 5%% (%d)", r.key, rank[r.key], len(gaps), top)
		}
		g := 1.10*float64(td.exports[r.key]) - float64(td.imports[r.key])
		estimate += g * r.rate / 100
		lost += float64(r.lostC)
		// The partner's weight matches what customs recorded: equal weights,
		// unequal values is the undervaluation signature.
		if d := math.Abs(float64(td.exportNet[r.key])/float64(td.importNet[r.key]) - 1); d > 0.031 {
			t.Errorf("%v: partner net weight differs by %.3f", r.key, d)
		}
	}
	t.Logf("%d flows; planted flows' worst rank %d; revenue-gap estimate / duty lost = %.4f", len(gaps), worst, estimate/lost)
	if math.Abs(estimate/lost-1) > 0.05 {
		t.Errorf("revenue-gap estimate %.0f vs duty lost %.0f cents: off by more than 5%%", estimate, lost)
	}
}

func emptyBatch(s *arrow.Schema) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, s)
	defer b.Release()
	return b.NewRecordBatch()
}
