package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"risklane/models/xgb"
)

func TestConvertCommand(t *testing.T) {
	td := filepath.Join("..", "..", "models", "xgb", "testdata")
	dir := t.TempDir()
	want, err := xgb.ReadFile(filepath.Join(td, "python-1.7.4-logistic.json"))
	if err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(dir, "model.bin")
	text, err := execute(t, newConvertCmd, "--in", filepath.Join(td, "python-1.7.4-logistic.ubj"), "--out", bin)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	for _, s := range []string{"(XGBoost UBJSON): binary:logistic, 6 trees, 6 features, base_score 0.35", "model.bin (XGBoost legacy binary)", "the 6 names"} {
		if !strings.Contains(text, s) {
			t.Errorf("output lacks %q:\n%s", s, text)
		}
	}
	golden, _ := os.ReadFile(filepath.Join(td, "risklane-logistic.model"))
	if got, _ := os.ReadFile(bin); !bytes.Equal(got, golden) {
		t.Error("UBJSON to legacy binary differs from testdata/risklane-logistic.model")
	}

	js := filepath.Join(dir, "back.json")
	if text, err := execute(t, newConvertCmd, "--in", bin, "--out", js); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	back, err := xgb.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	// The legacy binary drops the names and stores base_score as a margin.
	want.FeatureNames = nil
	back.BaseScore = want.BaseScore
	if !reflect.DeepEqual(back, want) {
		t.Error("JSON -> legacy binary -> JSON changed the trees")
	}
}

func TestConvertCommandErrors(t *testing.T) {
	td := filepath.Join("..", "..", "models", "xgb", "testdata")
	dir := t.TempDir()
	good := filepath.Join(td, "python-1.7.4-logistic.json")
	for _, c := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"--out", filepath.Join(dir, "m.json")}, true, "--in"},
		{[]string{"--in", good}, true, "--out"},
		{[]string{"--in", good, "--out", filepath.Join(dir, "m.txt")}, true, "cannot tell the model format"},
		{[]string{"--in", good, "--out", filepath.Join(dir, "m.ubj")}, true, "not UBJSON"},
		{[]string{"--in", filepath.Join(td, "python-1.7.4-logistic.model"), "--out", filepath.Join(dir, "m.json")}, false, "saved by XGBoost 1.1 or later (version 1.7)"},
		{[]string{"--in", filepath.Join(dir, "missing.json"), "--out", filepath.Join(dir, "m.json")}, false, "missing.json"},
	} {
		_, err := execute(t, newConvertCmd, c.args...)
		if err == nil || isUsageError(err) != c.usage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v (usage %v); want %q, usage %v", c.args, err, isUsageError(err), c.want, c.usage)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "m.json")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a failed conversion left an output file")
	}
}
