package report

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"risklane/pipeline/simulate"
	"risklane/sink"
)

// simRows is a replay of three strategies over n weekly periods of 1,000
// rows and 100 inspections: gbdt finds 60 frauds a week (revenue recall
// 0.6) until week 10, then 30; the hybrid 50 throughout; random 6.
func simRows(n int) []simulate.Row {
	var rows []simulate.Row
	start := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	for _, s := range []string{"gbdt", "gbdt:0.9+random:0.1", "random"} {
		for p := 1; p <= n; p++ {
			f := map[string]int{"gbdt": 60, "gbdt:0.9+random:0.1": 50, "random": 6}[s]
			if s == "gbdt" && p > 10 {
				f = 30
			}
			auc := 0.9
			if s == "random" {
				auc = math.NaN()
			}
			from := start.AddDate(0, 0, 7*(p-1))
			rows = append(rows, simulate.Row{Strategy: s, Period: p, From: from, To: from.AddDate(0, 0, 6), Rows: 1000, Budget: 0.1,
				Inspected: 100, Frauds: f, Revenue: 1000 * float64(f), Precision: float64(f) / 100, FraudRecall: float64(f) / 100,
				RevenueRecall: float64(f) / 100, AUC: auc, Exploration: map[string]float64{"gbdt:0.9+random:0.1": 0.1, "random": 1}[s], Retrained: s != "random"})
		}
	}
	return rows
}

func TestSimulationSection(t *testing.T) {
	rows := simRows(24)
	for _, name := range []string{"sim.csv", "sim.parquet"} {
		path := filepath.Join(t.TempDir(), name)
		tbl := simulate.Table(rows)
		if err := sink.WriteTable(path, tbl); err != nil {
			t.Fatal(err)
		}
		tbl.Release()
		back, err := simulate.ReadTable(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(back) != len(rows) {
			t.Fatalf("%s: %d rows back of %d", name, len(back), len(rows))
		}
		for i := range rows {
			a, b := rows[i], back[i]
			if a.Strategy != b.Strategy || a.Period != b.Period || !a.From.Equal(b.From) || a.Frauds != b.Frauds ||
				a.RevenueRecall != b.RevenueRecall || a.Retrained != b.Retrained || math.IsNaN(a.AUC) != math.IsNaN(b.AUC) {
				t.Fatalf("%s: row %d read back as %+v, wrote %+v", name, i+1, b, a)
			}
		}
		s, err := NewSimulationSection(path, back)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Strategies) != 3 || len(s.Periods) != 24 || s.Periods[1] != "2024-03-11" || s.LastN != 20 {
			t.Fatalf("%s: strategies %v, periods %d (%v), last %d", name, s.Strategies, len(s.Periods), s.Periods[:2], s.LastN)
		}
		// Hand-worked: over all 24 weeks gbdt found 10*60 + 14*30 = 1,020
		// frauds of 2,400 inspections; over the last 20 (weeks 5 to 24)
		// 6*60 + 14*30 = 780 of 2,000, revenue recall 0.39.
		g := s.All[0]
		if g.Strategy != "gbdt" || g.Frauds != 1020 || g.Inspected != 2400 || math.Abs(g.Precision-0.425) > 1e-12 {
			t.Errorf("%s: all periods %+v", name, g)
		}
		if l := s.Last[0]; l.Frauds != 780 || math.Abs(l.RevenueRecall-0.39) > 1e-12 || s.Last[1].Frauds != 1000 {
			t.Errorf("%s: last periods %+v, %+v", name, l, s.Last[1])
		}
		cs := simulationCharts(s)
		series := cs[0].Option["series"].([]any)
		if len(series) != 3 {
			t.Fatalf("%d lines, want one per strategy", len(series))
		}
		data := series[0].(obj)["data"].([]any)
		if len(data) != 24 || data[9] != 0.6 || data[10] != 0.3 {
			t.Errorf("gbdt revenue line %v", data)
		}
	}
}

func TestSimulationSectionRefusesMixedReplays(t *testing.T) {
	rows := simRows(4)
	if _, err := NewSimulationSection("x.csv", rows[:7]); err == nil || !strings.Contains(err.Error(), "not one replay") {
		t.Errorf("strategies of 4 and 3 periods: %v", err)
	}
	rows[5].From = rows[5].From.AddDate(0, 0, 1)
	if _, err := NewSimulationSection("x.csv", rows); err == nil || !strings.Contains(err.Error(), "starts 2024-03-12") {
		t.Errorf("periods starting on other days: %v", err)
	}
	if _, err := NewSimulationSection("x.csv", nil); err == nil {
		t.Error("an empty table was accepted")
	}
}
