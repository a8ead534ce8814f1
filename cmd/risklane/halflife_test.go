package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainHalfLifeFlag: --train-halflife reaches the gbdt kind's training
// (its manifest records it), and the other kinds refuse it. (simulate sets
// the same TrainConfig field; a run here would leave its flags set for
// TestSimulateCommand, so its harness, TestDriftSweep's thalflife=, is
// where simulate's half-life is exercised.)
func TestTrainHalfLifeFlag(t *testing.T) {
	dir := t.TempDir()
	train, _ := writeSynth(t, dir, 3000)
	model := filepath.Join(dir, "model")
	if out, err := execute(t, newTrainCmd, "--profile", "canonical", "--in", train, "--out", model, "--rounds", "5", "--quiet", "--train-halflife", "30"); err != nil {
		t.Fatalf("train --train-halflife 30: %v\n%s", err, out)
	}
	var man struct {
		HalfLife float64 `json:"row_half_life_days"`
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join(model, "manifest.json")), &man); err != nil || man.HalfLife != 30 {
		t.Errorf("manifest row_half_life_days %v (%v), want 30", man.HalfLife, err)
	}
	want := "date models cannot weight their training rows"
	if _, err := execute(t, newTrainCmd, "--profile", "canonical", "--in", train, "--out", filepath.Join(dir, "d"), "--model", "date", "--train-halflife", "30"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("train --model date --train-halflife 30: %v, want %q", err, want)
	}
}
