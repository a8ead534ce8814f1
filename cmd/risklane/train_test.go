package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/cobra"

	"risklane/datasets/synth"
	"risklane/models/riskmodel"
	"risklane/sink"
)

// execute runs a freshly built command with args and returns its output.
func execute(t *testing.T, newCmd func() *cobra.Command, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newCmd()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// writeSynth writes generated declarations of 2024 in risklane's canonical
// layout, split in two files at October 1st.
func writeSynth(t *testing.T, dir string, rows int64) (train, valid string) {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed = rows, 11
	cfg.NumImporters, cfg.NumSellers = 800, 500
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var all []arrow.RecordBatch
	for !g.Done() {
		b, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b)
	}
	before, after, err := riskmodel.SplitByDate(all, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, bs []arrow.RecordBatch) string {
		p := filepath.Join(dir, name)
		w, err := sink.Create(p, g.Schema())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if err := w.Write(b); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("train.csv", before), write("valid.csv", after)
}

func TestTrainEvaluateCommands(t *testing.T) {
	dir := t.TempDir()
	train, valid := writeSynth(t, dir, 6000)
	model := filepath.Join(dir, "model")
	out, err := execute(t, newTrainCmd, "--profile", "canonical", "--in", train, "--valid", valid,
		"--out", model, "--rounds", "30", "--max-depth", "5", "--features", "+extras", "--top", "5", "--seed", "3")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	for _, want := range []string{"Validation, ranked by probability", "Validation, ranked by expected revenue",
		"Most important features", "30 trees (depth 5", "groups hs,unitvalue,tax,risk,freq,cluster,extras", "written to " + model} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "weekday") {
		t.Errorf("date features without --features +date:\n%s", out)
	}
	m, err := riskmodel.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if m.Manifest.Classifier.NumRounds != 30 || m.Manifest.Classifier.Seed != 3 || m.Manifest.Profile != "canonical" {
		t.Errorf("manifest parameters: %+v, profile %q", m.Manifest.Classifier, m.Manifest.Profile)
	}

	// evaluate prints, as JSON, what train measured on the same file
	js, err := execute(t, newEvaluateCmd, "--model", model, "--profile", "canonical", "--in", valid, "--json")
	if err != nil {
		t.Fatalf("evaluate: %v\n%s", err, js)
	}
	var ev struct {
		ModelID string `json:"model_id"`
		RankBy  string `json:"rank_by"`
		Metrics struct {
			AUC     float64 `json:"auc"`
			AtRates []struct {
				Rate      float64 `json:"rate"`
				Precision float64 `json:"precision"`
			} `json:"at_rates"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(js), &ev); err != nil {
		t.Fatalf("evaluate --json: %v\n%s", err, js)
	}
	if ev.ModelID != m.Manifest.ID || ev.RankBy != "probability" || ev.Metrics.AUC != m.Metrics.Validation.AUC {
		t.Errorf("evaluate: model %s rank %s AUC %v; train saw model %s AUC %v", ev.ModelID, ev.RankBy, ev.Metrics.AUC, m.Manifest.ID, m.Metrics.Validation.AUC)
	}
	if len(ev.Metrics.AtRates) != 4 {
		t.Errorf("evaluate: %d rates, want 1, 2, 5, 10", len(ev.Metrics.AtRates))
	}

	text, err := execute(t, newEvaluateCmd, "--model", model, "--profile", "canonical", "--in", valid, "--rank-by", "expected-revenue")
	if err != nil || !strings.Contains(text, "ranked by expected-revenue") || !strings.Contains(text, "AUC") {
		t.Errorf("evaluate --rank-by expected-revenue: %v\n%s", err, text)
	}
	// the model's own JSON as a "Python" classifier gives the same metrics
	same, err := execute(t, newEvaluateCmd, "--xgb-model", filepath.Join(model, "model.json"), "--features-from", model,
		"--profile", "canonical", "--in", valid, "--json")
	if err != nil || !strings.Contains(same, `"auc"`) {
		t.Fatalf("evaluate --xgb-model: %v\n%s", err, same)
	}
	var ev2 struct {
		Metrics struct {
			AUC float64 `json:"auc"`
		} `json:"metrics"`
	}
	json.Unmarshal([]byte(same), &ev2)
	if ev2.Metrics.AUC != ev.Metrics.AUC {
		t.Errorf("--xgb-model with the model's own trees: AUC %v, want %v", ev2.Metrics.AUC, ev.Metrics.AUC)
	}

	// --valid-from splits the input by date
	out, err = execute(t, newTrainCmd, "--profile", "canonical", "--in", train, "--valid-from", "2024-07-01",
		"--out", filepath.Join(dir, "m2"), "--rounds", "10", "--no-revenue-head")
	if err != nil || !strings.Contains(out, "rows dated 2024-07-01 or later") || strings.Contains(out, "expected revenue") {
		t.Errorf("train --valid-from: %v\n%s", err, out)
	}
}

func TestTrainEvaluateUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		cmd  func() *cobra.Command
		args []string
		want string
	}{
		{newTrainCmd, []string{"--profile", "kcs", "--out", dir}, "give --in"},
		{newTrainCmd, []string{"--in", "x.csv", "--out", dir}, "give --profile"},
		{newTrainCmd, []string{"--in", "x.csv", "--profile", "kcs"}, "give --out"},
		{newTrainCmd, []string{"--in", "x.csv", "--profile", "kcs", "--out", dir, "--valid", "v.csv", "--valid-from", "2021-01-01"}, "not both"},
		{newTrainCmd, []string{"--in", "x.csv", "--profile", "kcs", "--out", dir, "--valid-from", "January"}, "not a date"},
		{newTrainCmd, []string{"--in", "x.csv", "--profile", "kcs", "--out", dir, "--features", "hs,bogus"}, `unknown feature group "bogus"`},
		{newTrainCmd, []string{"--in", "x.csv", "--profile", "kcs", "--out", dir, "--risk-halflife", "-3"}, "--risk-halflife"},
		{newEvaluateCmd, []string{"--in", "x.csv", "--profile", "kcs"}, "give --model"},
		{newEvaluateCmd, []string{"--in", "x.csv", "--profile", "kcs", "--model", dir, "--rank-by", "luck"}, "rank by"},
		{newEvaluateCmd, []string{"--in", "x.csv", "--profile", "kcs", "--xgb-model", "m.json"}, "go together"},
	} {
		_, err := execute(t, tc.cmd, tc.args...)
		if err == nil || !isUsageError(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want a usage error mentioning %q", tc.args, err, tc.want)
		}
	}
	// not a model folder: a run failure, not a usage error
	_, err := execute(t, newEvaluateCmd, "--in", "x.csv", "--profile", "kcs", "--model", dir)
	if err == nil || isUsageError(err) || !strings.Contains(err.Error(), "not a model folder") {
		t.Errorf("evaluate on an empty folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		t.Error("a failed command wrote a model")
	}
}
