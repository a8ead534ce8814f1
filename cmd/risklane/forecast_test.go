package main

import (
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"risklane/datasets/synth"
	"risklane/pipeline/run"
)

func TestForecastCommand(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	synthCSV(t, p("decl.csv"), 20000)
	text, err := execute(t, newForecastCmd, "--in", p("decl.csv"), "--profile", "canonical", "--measure", "duty", "--by", "hs2",
		"--horizon", "3", "--backtest", "2", "--out", p("fc.csv"), "--models", p("models.csv"))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	t.Log(text)
	fc := readCSV(t, p("fc.csv"))
	models := readCSV(t, p("models.csv"))
	if got := strings.Join(fc[0], ","); got != "group,period,period_start,kind,value,lower_80,upper_80,lower_95,upper_95,method" {
		t.Fatalf("forecast header %s", got)
	}
	// Every forecast group has 3 forecast rows, and every group of the
	// model table that has no error is such a group.
	perGroup := map[string]int{}
	for _, r := range fc[1:] {
		if r[3] == "forecast" {
			perGroup[r[0]]++
			v, lo, hi := num(t, r[4]), num(t, r[7]), num(t, r[8])
			if !(lo <= v && v <= hi) {
				t.Errorf("group %s %s: forecast %g outside its 95%% interval [%g, %g]", r[0], r[1], v, lo, hi)
			}
		}
	}
	fitted := 0
	for _, r := range models[1:] {
		if r[len(r)-1] == "" {
			fitted++
			if perGroup[r[0]] != 3 {
				t.Errorf("group %s has %d forecast rows, want 3", r[0], perGroup[r[0]])
			}
		}
	}
	if fitted == 0 || !strings.Contains(text, "Backtest over") {
		t.Fatalf("nothing forecast:\n%s", text)
	}
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestForecastUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "kcs", "--out", "f.csv"}, "give --in"},
		{[]string{"--in", "x.csv", "--profile", "kcs", "--out", "f.csv", "--measure", "weight"}, "unknown measure"},
		{[]string{"--in", "x.csv", "--profile", "kcs", "--out", "f.csv", "--method", "arima"}, "unknown method"},
		{[]string{"--in", "x.csv", "--profile", "kcs", "--out", "x.csv"}, "an output never overwrites an input"},
	} {
		_, err := execute(t, newForecastCmd, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || !isUsageError(err) {
			t.Errorf("%v: error %v, want a usage error with %q", c.args, err, c.want)
		}
	}
}

// TestForecastTradeStatistics: --trade forecasts annual trade statistics;
// the "all" series is the sum of the file's HS6 partner import rows,
// computed here from the CSV on its own.
func TestForecastTradeStatistics(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed = 20000, 6
	cfg.Start = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := runGenerate(io.Discard, run.NoProgress{}, cfg, p("decl.parquet"), "parquet", p("trade.csv"), "", ""); err != nil {
		t.Fatal(err)
	}
	text, err := execute(t, newForecastCmd, "--trade", p("trade.csv"), "--period", "year", "--measure", "value", "--horizon", "2",
		"--out", p("fc.csv"), "--rejects", p("rj.csv"))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	t.Log(text)
	// The independent sum: HS6 rows (Aggregate Level 6), partner not World,
	// flow Import, per year.
	rows := readCSV(t, p("trade.csv"))
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	want := map[string]float64{}
	for _, r := range rows[1:] {
		if r[col["Aggregate Level"]] != "6" || r[col["Partner ISO"]] == "WLD" || r[col["Partner Code"]] == "0" || r[col["Trade Flow"]] != "Import" {
			continue
		}
		v := num(t, r[col["CIF Trade Value (US$)"]])
		if r[col["CIF Trade Value (US$)"]] == "" {
			v = num(t, r[col["Trade Value (US$)"]])
		}
		want[r[col["Year"]]] += v
	}
	got := map[string]float64{}
	forecasts := 0
	for _, r := range readCSV(t, p("fc.csv"))[1:] {
		if r[0] != "all" {
			t.Fatalf("group %q with --by none", r[0])
		}
		if r[3] == "history" {
			got[r[1]] = num(t, r[4])
		} else {
			forecasts++
			if r[1] != "2025" && r[1] != "2026" {
				t.Errorf("forecast period %s, want 2025 and 2026", r[1])
			}
		}
	}
	if len(want) < 6 || len(got) != len(want) || forecasts != 2 {
		t.Fatalf("years: want %v, got %v, %d forecasts", want, got, forecasts)
	}
	for y, v := range want {
		if d := got[y] - v; d > 0.01 || d < -0.01 {
			t.Errorf("year %s: forecast history %.2f, the file's HS6 imports add to %.2f", y, got[y], v)
		}
	}
	// Annual statistics in a monthly series, duty, and both inputs at once.
	if _, err := execute(t, newForecastCmd, "--trade", p("trade.csv"), "--measure", "value", "--out", p("m.csv")); err == nil || !strings.Contains(err.Error(), "--period year") {
		t.Errorf("annual rows in a monthly series: %v", err)
	}
	if _, err := execute(t, newForecastCmd, "--trade", p("trade.csv"), "--period", "year", "--out", p("d.csv")); err == nil || !strings.Contains(err.Error(), "no duty") {
		t.Errorf("duty from trade statistics: %v", err)
	}
	if _, err := execute(t, newForecastCmd, "--trade", p("trade.csv"), "--in", p("decl.parquet"), "--profile", "canonical", "--period", "year", "--measure", "value", "--out", p("b.csv")); err == nil {
		t.Error("--trade with --in was accepted")
	}
}

// TestForecastCompositeKey: with --by origin,hs2 every series is one origin's
// trade in one chapter, so the series of an origin add up, period by period,
// to the series --by origin gives it (but in the last period, where a pair
// first seen then has a series of one point, too short to be forecast).
func TestForecastCompositeKey(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	synthCSV(t, p("decl.csv"), 5000)
	for _, by := range []string{"origin", "origin,hs2"} {
		if text, err := execute(t, newForecastCmd, "--in", p("decl.csv"), "--profile", "canonical", "--measure", "duty", "--by", by,
			"--method", "snaive", "--horizon", "1", "--min-length", "2", "--out", p(by+".csv")); err != nil {
			t.Fatalf("--by %s: %v\n%s", by, err, text)
		}
	}
	history := func(name string) map[[2]string]float64 {
		h := map[[2]string]float64{}
		for _, r := range readCSV(t, p(name))[1:] {
			if r[3] == "history" {
				h[[2]string{r[0], r[1]}] += num(t, r[4])
			}
		}
		return h
	}
	byOrigin, byPair := history("origin.csv"), history("origin,hs2.csv")
	sum := map[[2]string]float64{}
	pairs := map[string]bool{}
	for k, v := range byPair {
		origin, hs2, ok := strings.Cut(k[0], "/")
		if !ok || len(hs2) != 2 {
			t.Fatalf("group %q is not origin/hs2", k[0])
		}
		pairs[k[0]] = true
		sum[[2]string{origin, k[1]}] += v
	}
	if len(pairs) <= len(byOrigin)/10 {
		t.Fatalf("only %d origin/hs2 groups", len(pairs))
	}
	last := ""
	for k := range byOrigin {
		last = max(last, k[1])
	}
	for k, want := range byOrigin {
		if k[1] == last {
			continue
		}
		if got := sum[k]; math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("origin %s %s: the origin/hs2 series add up to %g, the origin series is %g", k[0], k[1], got, want)
		}
	}
	if _, err := execute(t, newForecastCmd, "--in", p("decl.csv"), "--profile", "canonical", "--by", "origin,origin", "--out", p("x.csv")); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("--by origin,origin: error %v, want one naming origin twice", err)
	}
}
