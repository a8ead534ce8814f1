package report

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"risklane/features/mirror"
	"risklane/features/pricecluster"
	"risklane/models/metrics"
	"risklane/pipeline/rank"
	"risklane/pipeline/score"
)

const u = metrics.Unknown

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 || (math.IsNaN(a) && math.IsNaN(b)) }

// Ten labelled rows (three frauds) and one unlabelled, worked by hand.
func TestNewMetrics(t *testing.T) {
	scores := []float64{0.9, 0.8, 0.7, 0.6, 0.99, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05}
	labels := []int8{1, 0, 1, 0, u, 0, 1, 0, 0, 0, 0}
	revenue := []float64{100, 0, 50, 0, 999, 0, 30, 0, 0, 0, 0}
	m, err := NewMetrics(scores, labels, revenue)
	if err != nil {
		t.Fatal(err)
	}
	if m.Report.N != 10 || m.Report.Illicit != 3 || m.Report.Unlabelled != 1 || !near(m.FraudRate, 0.3) {
		t.Errorf("N %d illicit %d unlabelled %d fraud rate %v; want 10, 3, 1, 0.3", m.Report.N, m.Report.Illicit, m.Report.Unlabelled, m.FraudRate)
	}
	// AUC: the frauds at positions 1, 3, 6 of 10 outrank 7, 6 and 4 of the
	// 7 clean rows: (7+6+4)/21.
	if !near(m.Report.AUC, 17.0/21) {
		t.Errorf("AUC %v, want %v", m.Report.AUC, 17.0/21)
	}
	if len(m.Report.AtRates) != 4 {
		t.Fatalf("%d rates in the table, want 1, 2, 5, 10", len(m.Report.AtRates))
	}
	if a, ok := m.At(10); !ok || a.K != 1 || a.Hits != 1 || !near(a.Revenue, 100.0/180) {
		t.Errorf("at 10%%: %+v", a)
	}
	want := map[float64]metrics.AtRateResult{
		0.5: {K: 1, Hits: 1, Precision: 1, Recall: 1.0 / 3, Revenue: 100.0 / 180},
		20:  {K: 2, Hits: 1, Precision: 0.5, Recall: 1.0 / 3, Revenue: 100.0 / 180},
		30:  {K: 3, Hits: 2, Precision: 2.0 / 3, Recall: 2.0 / 3, Revenue: 150.0 / 180},
		70:  {K: 7, Hits: 3, Precision: 3.0 / 7, Recall: 1, Revenue: 1},
		100: {K: 10, Hits: 3, Precision: 0.3, Recall: 1, Revenue: 1},
	}
	seen := 0
	for _, a := range m.Curve {
		w, ok := want[a.Rate]
		if !ok {
			continue
		}
		seen++
		if a.K != w.K || a.Hits != w.Hits || !near(a.Precision, w.Precision) || !near(a.Recall, w.Recall) || !near(a.Revenue, w.Revenue) {
			t.Errorf("curve at %v%%: %+v, want %+v", a.Rate, a, w)
		}
	}
	if seen != len(want) {
		t.Errorf("the curve has %d of the %d rates checked", seen, len(want))
	}
	if _, err := NewMetrics([]float64{0.1}, []int8{u}, nil); err == nil {
		t.Error("no labelled row: want an error")
	}
}

func TestNewScoreHistogram(t *testing.T) {
	scores := []float64{0, 0.1, 0.25, 0.5, 0.99, 1, math.NaN(), 1.2, -0.1}
	labels := []int8{0, 1, 0, u, 1, 0, 1, 0, 0}
	h, err := NewScoreHistogram(scores, labels, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(h.Edges, []float64{0, 0.25, 0.5, 0.75, 1}) ||
		!slices.Equal(h.Clean, []int{1, 1, 0, 1}) || !slices.Equal(h.Illicit, []int{1, 0, 0, 1}) ||
		!slices.Equal(h.Unlabelled, []int{0, 0, 1, 0}) || h.Outside != 3 {
		t.Errorf("got %+v", h)
	}
	if _, err := NewScoreHistogram(scores, labels[:2], 4); err == nil {
		t.Error("columns of different length: want an error")
	}
	if _, err := NewScoreHistogram(scores, labels, 0); err == nil {
		t.Error("0 bins: want an error")
	}
}

// quantiles gives a group whose median log unit value is median.
func quantiles(median float64) []float64 {
	q := make([]float64, 21)
	for i := range q {
		q[i] = median + float64(i-10)*0.1
	}
	return q
}

func TestNewPriceSection(t *testing.T) {
	ln := math.Log
	m := &pricecluster.Model{Groups: []pricecluster.Group{
		{Level: pricecluster.LevelHS6, Basis: pricecluster.PerKg, Code: 870310, K: 2, Silhouette: 0.7,
			Centres: []float64{ln(2), ln(10)}, Sizes: []int{3, 5}, Spreads: []float64{0.1, 0.1}, NumLow: 1, Quantiles: quantiles(ln(10))},
		{Level: pricecluster.LevelHS6, Basis: pricecluster.PerKg, Code: 100000, K: 2,
			Centres: []float64{0, 1}, Sizes: []int{4, 4}, Spreads: []float64{0.1, 0.1}, NumLow: 0, Quantiles: quantiles(0.5)},
		{Level: pricecluster.LevelHS4, Basis: pricecluster.PerKg, Code: 8703, K: 2,
			Centres: []float64{0, 3}, Sizes: []int{9, 9}, Spreads: []float64{0.1, 0.1}, NumLow: 1, Quantiles: quantiles(3)},
		{Level: pricecluster.LevelHS6, Basis: pricecluster.PerUnit, Code: 10000, K: 3,
			Centres: []float64{0, 1, 2}, Sizes: []int{3, 4, 4}, Spreads: []float64{0.1, 0.1, 0.1}, NumLow: 1, Quantiles: quantiles(2)},
	}}
	// Group 0 rows: unit values 1, 2, 3 (cluster 0), 8, 16, 10 (cluster 1).
	// Bins of log unit value over [ln 1, ln 16], two bins: edges 1, 4, 16.
	a := &pricecluster.Assignment{
		Group: []int32{0, 0, 0, 0, 0, 0, 1, -1, 3},
		LogUV: []float64{ln(1), ln(2), ln(3), ln(8), ln(16), ln(10), 0, math.NaN(), 0},
		Rank:  []int8{0, 0, 0, 1, 1, 1, 0, -1, 0},
		Low:   []int8{1, 1, 1, 0, 0, 0, 0, -1, 1},
	}
	labels := []int8{1, 0, u, 0, 1, 0, 0, 1, 0}
	s, err := NewPriceSection(m, a, labels, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if s.Fitted != 4 || s.WithLow != 3 || s.Rows != 8 || s.LowRows != 4 {
		t.Errorf("fitted %d with low %d rows %d low rows %d; want 4, 3, 8, 4", s.Fitted, s.WithLow, s.Rows, s.LowRows)
	}
	// HS6 groups with a low cluster, most low rows first: 870310 (3 low
	// rows at fit time) before 010000 (3 too, but a smaller code comes
	// first on ties).
	if len(s.Groups) != 2 || s.Groups[0].HS6 != "010000" || s.Groups[1].HS6 != "870310" {
		t.Fatalf("groups %v", s.Groups)
	}
	g := s.Groups[1]
	if g.Basis != "kg" || !near(g.Median, 10) || !near(g.LowThreshold, math.Sqrt(20)) {
		t.Errorf("basis %s median %v threshold %v; want kg, 10, sqrt(20)", g.Basis, g.Median, g.LowThreshold)
	}
	if len(g.Edges) != 3 || !near(g.Edges[0], 1) || !near(g.Edges[1], 4) || !near(g.Edges[2], 16) {
		t.Errorf("edges %v, want 1 4 16", g.Edges)
	}
	if !slices.Equal(g.Counts[0], []int{3, 0}) || !slices.Equal(g.Counts[1], []int{0, 3}) || !slices.Equal(g.Illicit, []int{1, 1}) {
		t.Errorf("counts %v illicit %v", g.Counts, g.Illicit)
	}
	wantCl := []PriceCluster{{Rank: 0, Centre: 2, Low: true, Rows: 3, Labelled: 2, Illicit: 1}, {Rank: 1, Centre: 10, Rows: 3, Labelled: 3, Illicit: 1}}
	for i, w := range wantCl {
		c := g.Clusters[i]
		if c.Rank != w.Rank || !near(c.Centre, w.Centre) || c.Low != w.Low || c.Rows != w.Rows || c.Labelled != w.Labelled || c.Illicit != w.Illicit {
			t.Errorf("cluster %d: %+v, want %+v", i, c, w)
		}
	}
	if s, _ := NewPriceSection(m, a, labels, 1, 2); len(s.Groups) != 1 {
		t.Errorf("top 1: %d groups", len(s.Groups))
	}
	if _, err := NewPriceSection(m, a, labels[:3], 5, 2); err == nil {
		t.Error("labels of another length: want an error")
	}
}

func TestNewMirrorSection(t *testing.T) {
	g := &mirror.Gaps{
		Summary: mirror.Summary{Reporter: "KEN", Ranked: 2, RevenueGap: 1234567, RevenueGapPositive: 2345678},
		Flows: []mirror.FlowGap{
			{Partner: "CHN", HS: "870310", Year: 2024, Status: mirror.StatusRanked, Rank: 1, ImportFOB: 100000, ExportFOB: 300000,
				ValueGap: 200000, RelGap: 2.0 / 3, UVRatio: 3, RatePct: 25, RevenueGap: 55000, Undervalued: true},
			{Partner: "ZZZ", HS: "110610", Year: 2024, Month: 3, Status: mirror.StatusRanked, Rank: 2, ImportFOB: 5000, ExportFOB: 6000,
				ValueGap: 1000, RatePct: math.NaN(), Misclassified: true, Peer: "110620"},
			{Partner: "IND", HS: "101990", Year: 2024, Status: mirror.StatusSmall},
		},
	}
	s := NewMirrorSection(g, 5)
	if s.Reporter != "KEN" || s.Ranked != 2 || !near(s.RevenueGap, 12345.67) || !near(s.RevenueGapPositive, 23456.78) {
		t.Errorf("summary %+v", s)
	}
	if len(s.Flows) != 2 {
		t.Fatalf("%d flows, want the 2 ranked ones", len(s.Flows))
	}
	f := s.Flows[0]
	if f.PartnerName != "China" || f.Period != "2024" || !near(f.ImportFOB, 1000) || !near(f.ExportFOB, 3000) ||
		!near(f.ValueGap, 2000) || !near(f.RevenueGap, 550) || !f.Undervalued || f.MisclassifiedAs != "" {
		t.Errorf("flow 1: %+v", f)
	}
	if f := s.Flows[1]; f.PartnerName != "ZZZ" || f.Period != "2024-03" || f.MisclassifiedAs != "110620" {
		t.Errorf("flow 2: %+v", f)
	}
	if s := NewMirrorSection(g, 1); len(s.Flows) != 1 {
		t.Errorf("top 1: %d flows", len(s.Flows))
	}
}

func TestNewFraudMap(t *testing.T) {
	origins := []string{"CHN", "CN", "KEN", "SGP", "", "ZZZ", "156"}
	labels := []int8{1, 0, 1, u, 0, 1, 0}
	revenue := []float64{100, 0, 50, 0, 0, 20, 0}
	scores := []float64{0.9, 0.8, 0.1, 0.95, 0.2, 0.7, 0.3}
	// Six labelled rows; at 50% the top 3 by score are rows 0, 1 and 5.
	fm, err := NewFraudMap(origins, labels, revenue, scores, 50)
	if err != nil {
		t.Fatal(err)
	}
	want := []CountryStat{
		{Code: "CHN", Name: "China", MapName: "China", Declarations: 3, Labelled: 3, Illicit: 1, FraudRate: 100.0 / 3, Revenue: 100, Flagged: 2, Caught: 1, CaughtRevenue: 100},
		{Code: "KEN", Name: "Kenya", MapName: "Kenya", Declarations: 1, Labelled: 1, Illicit: 1, FraudRate: 100, Revenue: 50},
		{Code: "ZZZ", Name: "ZZZ", Declarations: 1, Labelled: 1, Illicit: 1, FraudRate: 100, Revenue: 20, Flagged: 1, Caught: 1, CaughtRevenue: 20},
		{Code: "", Name: "(no origin declared)", Declarations: 1, Labelled: 1, FraudRate: 0},
		{Code: "SGP", Name: "Singapore", Declarations: 1, FraudRate: math.NaN()},
	}
	if len(fm.Countries) != len(want) {
		t.Fatalf("%d countries: %+v", len(fm.Countries), fm.Countries)
	}
	for i, w := range want {
		c := fm.Countries[i]
		if c.Code != w.Code || c.Name != w.Name || c.MapName != w.MapName || c.Declarations != w.Declarations ||
			c.Labelled != w.Labelled || c.Illicit != w.Illicit || !near(c.FraudRate, w.FraudRate) || !near(c.Revenue, w.Revenue) ||
			c.Flagged != w.Flagged || c.Caught != w.Caught || !near(c.CaughtRevenue, w.CaughtRevenue) {
			t.Errorf("country %d: %+v\nwant %+v", i, c, w)
		}
	}
	if !slices.Equal(fm.Unplaced, []string{"(no origin declared)", "Singapore", "ZZZ"}) {
		t.Errorf("unplaced %q", fm.Unplaced)
	}
	// The countries' caught revenue adds up to Revenue@50% as package
	// metrics computes it.
	at, err := metrics.AtRate(scores, labels, revenue, 50)
	if err != nil {
		t.Fatal(err)
	}
	caught := 0.0
	for _, c := range fm.Countries {
		caught += c.CaughtRevenue
	}
	if !near(caught/170, at.Revenue) {
		t.Errorf("caught revenue share %v, metrics says %v", caught/170, at.Revenue)
	}
	if _, err := NewFraudMap(origins, labels, revenue, scores[:2], 5); err == nil {
		t.Error("columns of different length: want an error")
	}
	if _, err := NewFraudMap(origins, labels, revenue, scores, 0); err == nil {
		t.Error("rate 0: want an error")
	}
}

func TestReadRanked(t *testing.T) {
	rows := []rank.Row{
		{Rank: 1, DeclarationID: "D3", Score: 0.97, ExpectedRevenue: 1200.5, Lane: rank.Red, Reasons: "unit value 80% below the HS 870310 median", ModelID: "m1", RunID: "r1"},
		{Rank: 2, DeclarationID: "D1", Score: 0.5, ExpectedRevenue: 10, Lane: rank.Red, Reasons: score.ExplorationReason, ModelID: "m1", RunID: "r1"},
		{Rank: 3, DeclarationID: "D2", Score: 0.4, Lane: rank.Yellow, Reasons: "a; b", ModelID: "m1", RunID: "r1"},
		{Rank: 4, DeclarationID: "D4", Score: 0.1, Lane: rank.Green, ModelID: "m1", RunID: "r1"},
	}
	for _, name := range []string{"ranked.parquet", "ranked.csv"} {
		path := filepath.Join(t.TempDir(), name)
		w, err := rank.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rows); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		s, err := ReadRanked(path, 3)
		if err != nil {
			t.Fatal(err)
		}
		if s.Total != 4 || s.Red != 2 || s.Yellow != 1 || s.Green != 1 || s.Explore != 1 || s.ModelID != "m1" || s.RunID != "r1" {
			t.Errorf("%s: %+v", name, s)
		}
		if len(s.Rows) != 3 || s.Rows[0] != rows[0] || s.Rows[2] != rows[2] {
			t.Errorf("%s: rows %+v", name, s.Rows)
		}
		s.AttachLabels([]string{"D1", "D2", "D9"}, []int8{1, u, 0})
		if !slices.Equal(s.Outcome, []int8{u, 1, u}) || len(s.Explored) != 1 || s.Explored[0] != rows[1] || !slices.Equal(s.ExploredOutcome, []int8{1}) {
			t.Errorf("%s: outcome %v, explored %v %v", name, s.Outcome, s.Explored, s.ExploredOutcome)
		}
	}
	if _, err := ReadRanked(filepath.Join(t.TempDir(), "missing.parquet"), 3); err == nil {
		t.Error("missing file: want an error")
	}
	for _, c := range []struct{ body, want string }{
		{"1,D1,0.5,1,blue,,m,r\n", `line 2: rank 1: lane "blue" is not red, yellow or green`},
		{"1,D1,0.5,1,red,,m,r\n0,D2,0.4,1,red,,m,r\n", "line 3: rank 0: ranks start at 1"},
		{"1,,0.5,1,red,,m,r\n", "line 2: rank 1: the declaration_id is empty"},
		{"1,D1,high,1,red,,m,r\n", `line 2, column score: "high" is not a number`},
	} {
		path := filepath.Join(t.TempDir(), "bad.csv")
		if err := os.WriteFile(path, []byte(strings.Join(rank.Header, ",")+"\n"+c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadRanked(path, 3); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.body, err, c.want)
		}
	}
}

func TestUnwrap(t *testing.T) {
	// Fiji-like: 179 -> -180 -> -179 -> 180 -> 179 goes east past the
	// antimeridian and back.
	ring := []Point{{179, 0}, {-180, 0}, {-179, 1}, {180, 1}, {179, 0}}
	unwrap(ring)
	want := []Point{{179, 0}, {180, 0}, {181, 1}, {180, 1}, {179, 0}}
	if !slices.Equal(ring, want) {
		t.Errorf("unwrapped %v, want %v", ring, want)
	}
	fc, err := worldMap()
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 176 {
		t.Errorf("%d outlines, want 177 less Antarctica", len(fc.Features))
	}
	for _, f := range fc.Features {
		for _, p := range f.Polygons {
			for _, r := range p {
				for i := 1; i < len(r); i++ {
					if math.Abs(r[i][0]-r[i-1][0]) > 180 {
						t.Fatalf("%s: a step from %v to %v crosses the map", f.Properties, r[i-1], r[i])
					}
				}
			}
		}
	}
}

func TestSentences(t *testing.T) {
	got := sentences([]string{"One,", "  two.", "Three.", "  four", "  five."})
	if !slices.Equal(got, []string{"One, two.", "Three. four five."}) {
		t.Errorf("got %q", got)
	}
}
