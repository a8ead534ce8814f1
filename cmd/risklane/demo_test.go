package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"risklane/datasets/demo"
	"risklane/models/metrics"
	"risklane/pipeline/report"
	"risklane/pipeline/report/reporttest"
)

// TestDemo runs the demo once and checks what it made in subtests.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	res, err := runDemo(context.Background(), &b, dir, false)
	out := b.String()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	t.Run("narration and files", func(t *testing.T) { checkDemoOutput(t, dir, out, res) })
	t.Run("report matches evaluate", func(t *testing.T) { checkDemoMatchesEvaluate(t, dir, res) })
	t.Run("report in browser", func(t *testing.T) { checkDemoInBrowser(t, dir, res) })
	t.Run("report command", func(t *testing.T) { checkReportCommand(t, dir) })
	t.Run("rules match the rules command", func(t *testing.T) { checkDemoRules(t, dir, res) })
}

// The report lists the rules `risklane rules` prints for the same model and
// data.
func checkDemoRules(t *testing.T, dir string, res *demoResult) {
	js, err := execute(t, newRulesCmd, "--model", filepath.Join(dir, demoModel), "--profile", "canonical",
		"--in", filepath.Join(dir, demoTest), "--top", fmt.Sprint(report.TopRules), "--json")
	if err != nil {
		t.Fatalf("rules: %v\n%s", err, js)
	}
	var out struct {
		Rules []struct {
			Text    string  `json:"text"`
			Support int     `json:"support"`
			Illicit int     `json:"illicit"`
			Lift    float64 `json:"lift"`
			Tree    int     `json:"tree"`
			Leaf    int     `json:"leaf"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(js), &out); err != nil {
		t.Fatalf("rules --json: %v", err)
	}
	got := res.Report.Rules.Rules
	if len(got) != len(out.Rules) || len(got) == 0 {
		t.Fatalf("the report has %d rules, risklane rules prints %d", len(got), len(out.Rules))
	}
	for i, w := range out.Rules {
		g := got[i]
		if g.Text != w.Text || g.Rows != w.Support || g.Illicit != w.Illicit || g.Lift != w.Lift || g.Tree != w.Tree || g.Leaf != w.Leaf {
			t.Errorf("rule %d: report %+v\nrules command %+v", i+1, g, w)
		}
	}
}

func checkDemoOutput(t *testing.T, dir, out string, res *demoResult) {
	for i := 1; i <= 7; i++ {
		if !strings.Contains(out, "\n"+string(rune('0'+i))+"/7 ") {
			t.Errorf("the narration has no step %d/7:\n%s", i, out)
		}
	}
	reportPath := filepath.Join(dir, demoReport)
	if !strings.HasSuffix(strings.TrimSpace(out), "Open "+reportPath+" in a web browser: it works offline.") {
		t.Errorf("the narration does not end with the report's path:\n%s", out)
	}
	for _, f := range append(append([]string{}, demo.Files...), demoTrain, demoTest, demoPrices, demoGaps, demoRanked, "ranked.csv",
		demoManifest, demoReport, filepath.Join(demoModel, "manifest.json"), filepath.Join(demoModel, "model.json")) {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the demo did not write %s: %v", f, err)
		}
	}
	if m := res.Report.Missing(); len(m) > 0 {
		t.Errorf("sections missing from the demo report: %v", m)
	}
	// The split keeps every row once.
	train, test := readCSV(t, filepath.Join(dir, demoTrain)), readCSV(t, filepath.Join(dir, demoTest))
	all := readCSV(t, filepath.Join(dir, demo.DeclarationsFile))
	if len(train)+len(test)-2 != len(all)-1 || len(train) < 2 || len(test) < 2 {
		t.Errorf("split %d + %d rows of %d", len(train)-1, len(test)-1, len(all)-1)
	}
	for _, r := range train[1:] {
		if r[1] >= "2024-10-01" {
			t.Fatalf("train.csv has a row of %s", r[1])
		}
	}
	for _, r := range test[1:] {
		if r[1] < "2024-10-01" {
			t.Fatalf("test.csv has a row of %s", r[1])
		}
	}
}

// The report's metrics are exactly what `risklane evaluate` prints for the
// same model and data.
func checkDemoMatchesEvaluate(t *testing.T, dir string, res *demoResult) {
	js, err := execute(t, newEvaluateCmd, "--model", filepath.Join(dir, demoModel), "--profile", "canonical",
		"--in", filepath.Join(dir, demoTest), "--json")
	if err != nil {
		t.Fatalf("evaluate: %v\n%s", err, js)
	}
	var ev struct {
		Metrics metrics.Report `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(js), &ev); err != nil {
		t.Fatalf("evaluate --json: %v\n%s", err, js)
	}
	want, got := ev.Metrics, res.Report.Metrics.Report
	if got.N != want.N || got.Illicit != want.Illicit || got.AUC != want.AUC || got.F1 != want.F1 || len(got.AtRates) != len(want.AtRates) {
		t.Fatalf("report %+v\nevaluate %+v", got, want)
	}
	page, err := os.ReadFile(filepath.Join(dir, demoReport))
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want.AtRates {
		if got.AtRates[i] != w {
			t.Errorf("at %v%%: report %+v, evaluate %+v", w.Rate, got.AtRates[i], w)
		}
		// The page shows the same numbers, rounded as the table writes them.
		for _, v := range []float64{w.Precision, w.Recall, w.Revenue} {
			cell := fmt.Sprintf(">%.1f%%<", 100*v)
			if !bytes.Contains(page, []byte(cell)) {
				t.Errorf("at %v%%: %s is not in the page", w.Rate, cell)
			}
		}
	}
	// And the narration's evaluation is the same run.
	if res.Eval.AtRates[2] != want.AtRates[2] {
		t.Errorf("narrated %+v, evaluate %+v", res.Eval.AtRates[2], want.AtRates[2])
	}
}

// A person opening the demo report sees every section drawn: headless
// Chromium loads it from disk, offline, without errors.
func checkDemoInBrowser(t *testing.T, dir string, res *demoResult) {
	if reporttest.Browser() == "" {
		t.Skip("no Chromium: install Debian's chromium package (apt-get install chromium) to run the browser test")
	}
	r := reporttest.Check(t, filepath.Join(dir, demoReport), "demo-report", res.Report.ChartIDs())
	if len(r.Charts) < 6 {
		t.Errorf("only %d charts", len(r.Charts))
	}
	for _, id := range report.Sections {
		if !bytes.Contains(mustRead(t, filepath.Join(dir, demoReport)), []byte(`<section id="`+id+`">`)) {
			t.Errorf("section %s is missing", id)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDemoDataOnly(t *testing.T) {
	dir := t.TempDir()
	out, err := execute(t, newDemoCmd, "--dir", dir, "--data-only")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, f := range append(append([]string{}, demo.Files...), demoTrain, demoTest) {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("--data-only did not write %s", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, demoModel)); err == nil {
		t.Error("--data-only trained a model")
	}
	if !strings.Contains(out, "1/7 ") || strings.Contains(out, "2/7 ") {
		t.Errorf("narration:\n%s", out)
	}
}

// risklane report on the demo's model and new declarations, without trade
// statistics or a ranked file: those sections say what to give.
func checkReportCommand(t *testing.T, dir string) {
	out := filepath.Join(t.TempDir(), "r.html")
	msg, err := execute(t, newReportCmd, "--model", filepath.Join(dir, demoModel), "--profile", "canonical",
		"--in", filepath.Join(dir, demoTest), "--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	if !strings.Contains(msg, "Read 5478 rows: 5478 accepted, 0 rejected") ||
		!strings.Contains(msg, "Report written to "+out+" (not available: mirror, ranked)") {
		t.Errorf("output:\n%s", msg)
	}
	page := string(mustRead(t, out))
	for _, want := range []string{"Not available yet: give the trade statistics with --trade FILE --reporter ISO3",
		"Not available yet: give a ranked file written by risklane score with --ranked FILE."} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// Declarations nobody inspected yet (tonight's): the sections that need
	// labels say so, the others are drawn.
	rows := readCSV(t, filepath.Join(dir, demoTest))
	for _, r := range rows[1:] {
		r[16], r[17], r[19] = "", "", "" // illicit, revenue, fraud_type
	}
	night := filepath.Join(t.TempDir(), "night.csv")
	writeRows(t, night, rows)
	out = filepath.Join(t.TempDir(), "night.html")
	msg, err = execute(t, newReportCmd, "--model", filepath.Join(dir, demoModel), "--profile", "canonical", "--in", night, "--out", out)
	if err != nil {
		t.Fatalf("unlabelled data: %v\n%s", err, msg)
	}
	if !strings.Contains(msg, "(not available: metrics, mirror, map, rules, ranked)") {
		t.Errorf("unlabelled data: %s", msg)
	}
	if page := string(mustRead(t, out)); strings.Count(page, "Not available yet: "+html.EscapeString(report.NoLabels)) != 3 ||
		!strings.Contains(page, "not inspected (5,478)") {
		t.Error("unlabelled data: the page does not say why metrics, map and rules are missing, or lacks the score distribution")
	}

	// With everything, the page is the demo's own (the same inputs give the
	// same bytes).
	full := filepath.Join(t.TempDir(), "full.html")
	msg, err = execute(t, newReportCmd, "--model", filepath.Join(dir, demoModel), "--profile", "canonical",
		"--in", filepath.Join(dir, demoTest), "--trade", filepath.Join(dir, demo.TradeFile), "--reporter", demoReporter,
		"--tariffs", filepath.Join(dir, demo.TariffsFile), "--ranked", filepath.Join(dir, demoRanked),
		"--title", "risklane demo report", "--out", full)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	if !bytes.Equal(mustRead(t, full), mustRead(t, filepath.Join(dir, demoReport))) {
		t.Error("risklane report with the demo's inputs does not give the demo's report")
	}
	if reporttest.Browser() != "" {
		// The scores and price charts of the unlabelled report draw too.
		ids := []string{"chart-scores"}
		for i := range report.PriceGroups {
			ids = append(ids, fmt.Sprintf("chart-price-%d", i))
		}
		reporttest.Check(t, out, "night-report", ids)
	}
}

func TestReportUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--in", "x.csv", "--profile", "canonical", "--out", "r.html"}, "give --model DIR"},
		{[]string{"--model", "m", "--profile", "canonical", "--out", "r.html"}, "give --in FILE"},
		{[]string{"--model", "m", "--in", "x.csv", "--out", "r.html"}, "give --profile"},
		{[]string{"--model", "m", "--in", "x.csv", "--profile", "canonical"}, "give --out"},
		{[]string{"--model", "m", "--in", "x.csv", "--profile", "canonical", "--out", "r.pdf"}, "the report is an .html file"},
		{[]string{"--model", "m", "--in", "x.csv", "--profile", "canonical", "--out", "r.html", "--trade", "t.csv"}, "give --reporter"},
		{[]string{"--model", "m", "--in", "x.csv", "--profile", "canonical", "--out", "r.html", "--reporter", "KEN"}, "go with --trade"},
		{[]string{"--model", "m", "--in", "x.csv", "--profile", "canonical", "--out", "r.html", "--budget", "0"}, "--budget 0"},
		{[]string{"--model", "m", "--in", "x.csv", "--profile", "canonical", "--out", "r.html", "--ranked", "r.json"}, "--ranked r.json"},
	} {
		_, err := execute(t, newReportCmd, c.args...)
		if err == nil || !isUsageError(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want a usage error containing %q", c.args, err, c.want)
		}
	}
	_, err := execute(t, newReportCmd, "--model", filepath.Join(t.TempDir(), "none"), "--in", "x.csv", "--profile", "canonical", "--out", "r.html")
	if err == nil || isUsageError(err) {
		t.Errorf("a missing model folder: error %v, want a run failure", err)
	}
}

func writeRows(t *testing.T, path string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
