package mirror

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// handWorked runs the analysis of testdata/README.md.
func handWorked(t *testing.T) *Gaps {
	t.Helper()
	cfg := DefaultConfig("KEN")
	cfg.MinValue = 1000
	f, err := os.Open("testdata/tariffs.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tariffs, rej, err := ReadTariffs(f, "tariffs.csv")
	if err != nil || len(rej) > 0 {
		t.Fatalf("tariffs: %v %v", err, rej)
	}
	cfg.Tariffs = tariffs
	cfg.EffectiveRates, err = NewTariffs(map[string]float64{"520100": 5}, "declarations")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Analyze(cfg, "testdata/handworked_bulk.csv", "testdata/handworked_api.csv")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func findFlow(list []FlowGap, partner, hs string) *FlowGap {
	for i := range list {
		if list[i].Partner == partner && list[i].HS == hs {
			return &list[i]
		}
	}
	return nil
}

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol
}

func TestHandWorkedRows(t *testing.T) {
	g := handWorked(t)
	s := g.Summary
	if s.Read != 19 || s.Used != 19 || s.Rejected != 0 || s.HS6Rows != 13 || s.CheckRows != 2 || s.OutsideRows != 4 {
		t.Errorf("rows: read %d used %d rejected %d (hs6 %d checks %d outside %d); want 19 = 19 + 0 (13, 2, 4)",
			s.Read, s.Used, s.Rejected, s.HS6Rows, s.CheckRows, s.OutsideRows)
	}
	if s.Ranked != 4 || s.Small != 1 || s.ImportOnly != 2 || s.ExportOnly != 1 {
		t.Errorf("statuses: %d ranked %d small %d import-only %d export-only; want 4 1 2 1", s.Ranked, s.Small, s.ImportOnly, s.ExportOnly)
	}
	if len(g.Summary.Files) != 2 || g.Summary.Files[0].Layout != LayoutBulk || g.Summary.Files[1].Layout != LayoutAPI {
		t.Errorf("files: %+v", g.Summary.Files)
	}
}

func TestHandWorkedFlows(t *testing.T) {
	g := handWorked(t)
	nan := math.NaN()
	for _, w := range []struct {
		partner, hs                             string
		status                                  Status
		rank                                    int
		impCIF, impFOB, expFOB, gap, revenue    Cents
		relGap, logRatio, z, uvRatio, rate      float64
		impKg, expKg, qtyGap                    float64
		fobReported, undervalued, misclassified bool
		peer                                    string
	}{
		{"CHN", "851712", StatusRanked, 1, 11000000, 10000000, 15000000, 5000000, 1375000, 1.0 / 3, 0.405465, 1.5390, 1.5, 25, 1000, 1000, 0, false, true, false, ""},
		{"IND", "100630", StatusRanked, 2, 20000000, 19000000, 23000000, 4000000, 1540000, 0.173913, 0.191055, 0.3455, 1.052632, 35, 400000, 460000, 60000, true, false, false, ""},
		{"CHN", "851762", StatusRanked, 3, 1234567, 1122334, 1200000, 77666, 8543, 0.064722, 0.066912, -0.3455, 1.069201, 10, 50, 50, nan, false, false, false, ""},
		{"IND", "520100", StatusRanked, 4, 6600000, 6000000, 5700000, -300000, -16500, -0.052632, -0.051293, -1.0035, 1.017857, 5, 30000, 28000, nan, false, false, false, ""},
		{"CHN", "392690", StatusSmall, 0, 55000, 50000, 60000, 10000, 0, 1.0 / 6, math.Log(1.2), nan, nan, nan, nan, nan, nan, false, false, false, ""},
		{"CHN", "870323", StatusExportOnly, 0, 0, 0, 8000000, 8000000, 0, 1, nan, nan, nan, 25, nan, nan, nan, false, false, true, "870190"},
		{"CHN", "870190", StatusImportOnly, 0, 8800000, 8000000, 0, -8000000, 0, nan, nan, nan, nan, 0, nan, nan, nan, false, false, true, "870323"},
		{"IND", "071310", StatusImportOnly, 0, 3300000, 3000000, 0, -3000000, 0, nan, nan, nan, nan, nan, nan, nan, nan, false, false, false, ""},
	} {
		f := findFlow(g.Flows, w.partner, w.hs)
		if f == nil {
			t.Errorf("%s %s: flow missing", w.partner, w.hs)
			continue
		}
		name := w.partner + " " + w.hs
		if f.Status != w.status || f.Rank != w.rank {
			t.Errorf("%s: status %v rank %d, want %v %d", name, f.Status, f.Rank, w.status, w.rank)
		}
		if f.ImportCIF != w.impCIF || f.ImportFOB != w.impFOB || f.ExportFOB != w.expFOB || f.ValueGap != w.gap || f.RevenueGap != w.revenue {
			t.Errorf("%s: CIF %s FOB %s export %s gap %s revenue %s; want %s %s %s %s %s", name,
				f.ImportCIF, f.ImportFOB, f.ExportFOB, f.ValueGap, f.RevenueGap, w.impCIF, w.impFOB, w.expFOB, w.gap, w.revenue)
		}
		if !near(f.RelGap, w.relGap, 1e-6) || !near(f.LogRatio, w.logRatio, 1e-6) || !near(f.Z, w.z, 1e-3) ||
			!near(f.UVRatio, w.uvRatio, 1e-6) || !near(f.RatePct, w.rate, 0) {
			t.Errorf("%s: rel %v log %v z %v uv %v rate %v; want %v %v %v %v %v", name,
				f.RelGap, f.LogRatio, f.Z, f.UVRatio, f.RatePct, w.relGap, w.logRatio, w.z, w.uvRatio, w.rate)
		}
		if !near(f.ImportKg, w.impKg, 0) || !near(f.ExportKg, w.expKg, 0) || !near(f.QtyGap, w.qtyGap, 0) {
			t.Errorf("%s: kg %v %v qty gap %v; want %v %v %v", name, f.ImportKg, f.ExportKg, f.QtyGap, w.impKg, w.expKg, w.qtyGap)
		}
		if f.FOBReported != w.fobReported || f.Undervalued != w.undervalued || f.Misclassified != w.misclassified || f.Peer != w.peer {
			t.Errorf("%s: fob reported %v undervalued %v misclassified %v peer %q; want %v %v %v %q", name,
				f.FOBReported, f.Undervalued, f.Misclassified, f.Peer, w.fobReported, w.undervalued, w.misclassified, w.peer)
		}
	}
	if len(g.Flows) != 8 {
		t.Errorf("%d HS6 flows, want 8", len(g.Flows))
	}
	for i, want := range []string{"CHN 851712", "IND 100630", "CHN 851762", "IND 520100"} {
		if got := g.Flows[i].Partner + " " + g.Flows[i].HS; got != want {
			t.Errorf("rank %d: %s, want %s", i+1, got, want)
		}
	}
}

func TestHandWorkedRevenue(t *testing.T) {
	g := handWorked(t)
	if g.Summary.RevenueGap != 2907043 || g.Summary.RevenueGapPositive != 2923543 || g.Summary.Unrated != 0 {
		t.Errorf("revenue %s (positive %s, unrated %d); want 29,070.43 (29,235.43, 0)",
			g.Summary.RevenueGap, g.Summary.RevenueGapPositive, g.Summary.Unrated)
	}
	if len(g.Misclassifications) != 1 {
		t.Fatalf("misclassifications: %+v", g.Misclassifications)
	}
	m := g.Misclassifications[0]
	if m.Partner != "CHN" || m.ExportedAs != "870323" || m.ImportedAs != "870190" || m.ExportSurplus != 8000000 ||
		m.ImportSurplus != 8000000 || m.DutyAtStake != 2200000 {
		t.Errorf("misclassification %+v; want CHN 870323 -> 870190, 80,000.00 each, 22,000.00 at stake", m)
	}
}

func TestHandWorkedRollups(t *testing.T) {
	g := handWorked(t)
	for _, w := range []struct {
		partner, hs                      string
		impCIF, impFOB, expFOB, gap, rev Cents
	}{
		{"CHN", "8517", 12234567, 11122334, 16200000, 5077666, 1383543},
		{"CHN", "85", 12234567, 11122334, 16200000, 5077666, 1383543},
		{"CHN", "3926", 55000, 50000, 60000, 10000, 0},
		{"CHN", "8703", 0, 0, 8000000, 8000000, 0},
		{"CHN", "8701", 8800000, 8000000, 0, -8000000, 0},
		{"CHN", "87", 8800000, 8000000, 8000000, 0, 0},
		{"CHN", "TOTAL", 21089567, 19172334, 24260000, 5087666, 1383543},
		{"IND", "10", 20000000, 19000000, 23000000, 4000000, 1540000},
		{"IND", "0713", 3300000, 3000000, 0, -3000000, 0},
		{"IND", "07", 3300000, 3000000, 0, -3000000, 0},
		{"IND", "52", 6600000, 6000000, 5700000, -300000, -16500},
		{"IND", "TOTAL", 29900000, 28000000, 28700000, 700000, 1523500},
		{AllPartners, "TOTAL", 50989567, 47172334, 52960000, 5787666, 2907043},
	} {
		r := findFlow(g.Rollups, w.partner, w.hs)
		if r == nil {
			t.Errorf("roll-up %s %s missing", w.partner, w.hs)
			continue
		}
		if r.ImportCIF != w.impCIF || r.ImportFOB != w.impFOB || r.ExportFOB != w.expFOB || r.ValueGap != w.gap || r.RevenueGap != w.rev {
			t.Errorf("roll-up %s %s: %s %s %s gap %s revenue %s; want %s %s %s %s %s", w.partner, w.hs,
				r.ImportCIF, r.ImportFOB, r.ExportFOB, r.ValueGap, r.RevenueGap, w.impCIF, w.impFOB, w.expFOB, w.gap, w.rev)
		}
	}
	total := findFlow(g.Rollups, AllPartners, codeTotal)
	if total.RevenueGap != g.Summary.RevenueGap {
		t.Errorf("ALL/TOTAL revenue %s differs from the estimate %s", total.RevenueGap, g.Summary.RevenueGap)
	}
}

func TestHandWorkedChecks(t *testing.T) {
	g := handWorked(t)
	want := []Check{
		{File: "testdata/handworked_bulk.csv", Line: 13, Flow: FlowImport, Partner: "CHN", HS: "8517", Year: 2021, Reported: 13000000, FromHS6: 12234567},
		{File: "testdata/handworked_bulk.csv", Line: 14, Flow: FlowImport, Partner: AllPartners, HS: "TOTAL", Year: 2021, Reported: 51989567, FromHS6: 50989567},
	}
	if len(g.Checks) != len(want) {
		t.Fatalf("checks %+v, want %+v", g.Checks, want)
	}
	for i := range want {
		// The sort puts ALL before CHN.
		got := g.Checks[len(want)-1-i]
		if got != want[i] {
			t.Errorf("check %+v, want %+v", got, want[i])
		}
	}
}

func TestHandWorkedTableFiles(t *testing.T) {
	g := handWorked(t)
	dir := t.TempDir()
	for _, name := range []string{"gaps.parquet", "gaps.csv"} {
		p := filepath.Join(dir, name)
		if err := g.WriteTable(p); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", name, err)
		}
	}
}
