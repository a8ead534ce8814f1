package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
	"risklane/ingest"
	"risklane/models/riskmodel"
	"risklane/sink"
)

// TestTrainMirrorFlags: the mirror group and --trade go together, and each
// wrong combination says what to give. Every case fails before any data is
// read.
func TestTrainMirrorFlags(t *testing.T) {
	base := []string{"--profile", "canonical", "--in", "no-such.csv", "--out", filepath.Join(t.TempDir(), "m")}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--features", "+mirror"}, "needs trade statistics: give --trade"},
		{[]string{"--features", "hs,mirror"}, "needs trade statistics: give --trade"},
		{[]string{"--reporter", "KEN"}, "go with --trade"},
		{[]string{"--tariffs", "tariffs.csv"}, "go with --trade"},
		{[]string{"--trade", "trade.csv"}, "give --reporter"},
		{[]string{"--trade", "trade.csv", "--reporter", "KEN", "--features", "hs,risk"}, "leaves the mirror group out"},
		{[]string{"--trade", "trade.csv", "--reporter", "KEN", "--features", "-mirror"}, "leaves the mirror group out"},
		{[]string{"--trade", "trade.csv", "--reporter", "KEN", "--tariffs", "no-such-tariffs.csv"}, "no-such-tariffs.csv"},
	} {
		out, err := execute(t, newTrainCmd, append(slices.Clone(base), c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("train %s: error %v, want one containing %q\n%s", strings.Join(c.args, " "), err, c.want, out)
		}
	}
}

// TestTrainWithSignals trains on generated declarations with their trade
// statistics (the cluster group is a default one), and checks that the model folder holds
// both signal groups and that evaluate, which has no trade file, scores the
// validation file as train did.
func TestTrainWithSignals(t *testing.T) {
	dir := t.TempDir()
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed = 6000, 13
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
	defer ingest.Release(all)
	before, after, err := riskmodel.SplitByDate(all, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	defer ingest.Release(before)
	defer ingest.Release(after)
	decls, valid := filepath.Join(dir, "train.csv"), filepath.Join(dir, "valid.csv")
	for path, bs := range map[string][]arrow.RecordBatch{decls: before, valid: after} {
		w, err := sink.Create(path, g.Schema())
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
	}
	trade := filepath.Join(dir, "trade.csv")
	writeWith(t, trade, g.TradeStatistics)
	tariffs := filepath.Join(dir, "tariffs.csv")
	writeWith(t, tariffs, g.Tariffs)

	model := filepath.Join(dir, "model")
	out, err := execute(t, newTrainCmd, "--profile", "canonical", "--in", decls, "--valid", valid, "--out", model,
		"--rounds", "20", "--max-depth", "4", "--trade", trade, "--reporter", "KEN", "--tariffs", tariffs, "--top", "0")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	for _, want := range []string{"Mirror features: ", " 0 rejected;", " HS6 flows of KEN", ",freq,cluster,mirror)"} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	m, err := riskmodel.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"uv_low_cluster", "uv_percentile", "mirror_rel_gap", "mirror_revenue_share"} {
		if !slices.Contains(m.State.Names(), name) {
			t.Errorf("model features lack %s: %v", name, m.State.Names())
		}
	}

	if err := os.Remove(trade); err != nil {
		t.Fatal(err)
	}
	ev, err := execute(t, newEvaluateCmd, "--model", model, "--profile", "canonical", "--in", valid)
	if err != nil {
		t.Fatalf("evaluate: %v\n%s", err, ev)
	}
	if want := m.Metrics.Validation.String(); !strings.Contains(ev, want) {
		t.Errorf("evaluate without the trade file:\n%s\nwant the validation report of train:\n%s", ev, want)
	}
}

func writeWith(t *testing.T, path string, write func(w io.Writer) error) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
