package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"risklane/analysis/forecast"
	"risklane/analysis/releasetime"
	"risklane/pipeline/report/reporttest"
	"risklane/pipeline/simulate"
	"risklane/sink"
)

// analysesInputs adds a forecast table, a release-time table and a
// simulation table, written
// and read back as the commands write them, to the sample inputs.
func analysesInputs(t *testing.T) Inputs {
	t.Helper()
	in := sampleInputs(t)
	var series []forecast.Series
	for g, level := range []float64{100, 400, 50, 900, 250} {
		v := make([]float64, 36)
		for i := range v {
			v[i] = level * (1 + 0.01*float64(i)) * (1 + 0.2*math.Sin(2*math.Pi*float64(i)/12+float64(g)))
		}
		series = append(series, forecast.Series{Group: string(rune('A' + g)), First: 600, Values: v})
	}
	res := forecast.Run(series, forecast.Config{Method: forecast.MethodETS, Horizon: 6, Season: 12})
	dir := t.TempDir()
	fpath := filepath.Join(dir, "forecast.csv")
	if err := forecast.WriteTable(fpath, forecast.Month, res); err != nil {
		t.Fatal(err)
	}
	curves, err := forecast.ReadTable(fpath)
	if err != nil {
		t.Fatal(err)
	}
	if in.Forecast, err = NewForecastSection(fpath, curves, ForecastGroups); err != nil {
		t.Fatal(err)
	}
	stages := [releasetime.NumStages]float64{2, 1, 0, 0, 1.5, 0.5}
	red := [releasetime.NumStages]float64{2, 1, 5, 2.5, 1.5, 0.5}
	rows := []releasetime.Row{
		{Dimension: releasetime.All, Group: "all", N: 1200, Mean: 6.5, Median: 5, P90: 12, P95: 14, Within: []float64{0.97, 0.995}, Stages: [releasetime.NumStages]float64{2, 1, 0.5, 0.25, 1.5, 1.25}},
		{Dimension: releasetime.ByLane, Group: "green", N: 1000, Mean: 5, Within: []float64{0.99, 1}, Stages: stages},
		{Dimension: releasetime.ByLane, Group: "red", N: 200, Mean: 12.5, Within: []float64{0.9, 0.97}, Stages: red},
		{Dimension: releasetime.ByOffice, Group: "KEMBA", N: 700, Mean: 7, Within: []float64{0.9, 0.97}, Stages: red},
	}
	rpath := filepath.Join(dir, "release.parquet")
	if err := releasetime.WriteTable(rpath, []float64{24, 48}, rows); err != nil {
		t.Fatal(err)
	}
	back, targets, err := releasetime.ReadTable(rpath)
	if err != nil {
		t.Fatal(err)
	}
	if in.Release, err = NewReleaseSection(rpath, back, targets); err != nil {
		t.Fatal(err)
	}
	spath := filepath.Join(dir, "sim.csv")
	tbl := simulate.Table(simRows(24))
	defer tbl.Release()
	if err := sink.WriteTable(spath, tbl); err != nil {
		t.Fatal(err)
	}
	srows, err := simulate.ReadTable(spath)
	if err != nil {
		t.Fatal(err)
	}
	if in.Simulation, err = NewSimulationSection(spath, srows); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestAnalysesSections(t *testing.T) {
	d, err := Build(analysesInputs(t))
	if err != nil {
		t.Fatal(err)
	}
	// The drawn groups are the largest: D (900), B (400), E (250), A (100).
	var drawn []string
	for _, c := range d.Forecast.Curves {
		drawn = append(drawn, c.Group)
	}
	if strings.Join(drawn, "") != "DBEA" {
		t.Errorf("drawn groups %v, want the four largest, largest first", drawn)
	}
	if len(d.Release.Bars) != 3 || len(d.Release.Rows) != 3 {
		t.Errorf("release bars %d rows %d", len(d.Release.Bars), len(d.Release.Rows))
	}
	var b bytes.Buffer
	if err := Write(&b, d); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{`<section id="forecast">`, `<section id="release">`, `href="#forecast"`, `<section id="simulation">`, `href="#simulation"`, "Last 20 periods",
		"1,200 declarations: a mean of 6.5 h", "97.0% released within 24 h", "lane red", "office KEMBA"} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	ids := d.ChartIDs()
	want := map[string]bool{"chart-forecast-0": true, "chart-forecast-3": true, "chart-release": true,
		"chart-simulation-revenue": true, "chart-simulation-precision": true}
	for _, id := range ids {
		delete(want, id)
	}
	if len(want) != 0 {
		t.Errorf("charts %v lack %v", ids, want)
	}
	if m := d.Missing(); len(m) != 0 {
		t.Errorf("missing %v", m)
	}
	// Without the tables the sections, and their links, are not on the page.
	d.Forecast, d.Release, d.Simulation = nil, nil, nil
	b.Reset()
	if err := Write(&b, d); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "#forecast") || strings.Contains(b.String(), `id="release"`) || strings.Contains(b.String(), "#simulation") {
		t.Error("the optional sections are on a page without their tables")
	}
	if !reporttestBrowser() {
		return
	}
	d, _ = Build(analysesInputs(t))
	b.Reset()
	if err := Write(&b, d); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "analyses.html")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	reporttest.Check(t, path, "analyses-report", d.ChartIDs())
}

func reporttestBrowser() bool { return reporttest.Browser() != "" }
