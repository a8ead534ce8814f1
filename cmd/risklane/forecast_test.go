package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func runForecastCmd(args ...string) (string, error) {
	var out bytes.Buffer
	cmd := newForecastCmd()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestForecastCommand(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	synthCSV(t, p("decl.csv"), 20000)
	text, err := runForecastCmd("--in", p("decl.csv"), "--profile", "canonical", "--measure", "duty", "--by", "hs2",
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
		_, err := runForecastCmd(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || !isUsageError(err) {
			t.Errorf("%v: error %v, want a usage error with %q", c.args, err, c.want)
		}
	}
}
