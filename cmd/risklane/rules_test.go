package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models/riskmodel"
)

// jsonRules is the part of rules --json the tests read back.
type jsonRules struct {
	ModelID string `json:"model_id"`
	Data    struct {
		Training bool    `json:"training_features"`
		Rows     int     `json:"rows"`
		Labelled int     `json:"labelled"`
		Illicit  int     `json:"illicit"`
		BaseRate float64 `json:"base_rate"`
	} `json:"data"`
	Rules []struct {
		Text       string `json:"text"`
		Conditions []struct {
			Feature int      `json:"feature"`
			Name    string   `json:"name"`
			Min     *float64 `json:"min"`
			Max     *float64 `json:"max"`
			Missing bool     `json:"missing"`
		} `json:"conditions"`
		Support   int     `json:"support"`
		Illicit   int     `json:"illicit"`
		FraudRate float64 `json:"fraud_rate"`
		Lift      float64 `json:"lift"`
	} `json:"rules"`
}

// readCanonical reads declarations written by writeSynth.
func readCanonical(t *testing.T, path string) []arrow.RecordBatch {
	t.Helper()
	p, err := profile.Resolve("canonical")
	if err != nil {
		t.Fatal(err)
	}
	bs, _, err := ingest.ReadAll([]string{path}, p, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ingest.Release(bs) })
	return bs
}

// recount measures each printed rule again from its JSON conditions, on
// feature columns computed here, and compares with the printed counts.
func recount(t *testing.T, what string, got jsonRules, cols [][]float64, labels []int8) {
	t.Helper()
	labelled, illicit := 0, 0
	for _, l := range labels {
		if l >= 0 {
			labelled++
			illicit += int(l)
		}
	}
	if got.Data.Rows != len(labels) || got.Data.Labelled != labelled || got.Data.Illicit != illicit {
		t.Errorf("%s: data %+v; the files have %d rows, %d labelled, %d illicit", what, got.Data, len(labels), labelled, illicit)
	}
	if len(got.Rules) == 0 {
		t.Fatalf("%s: no rule", what)
	}
	for k, r := range got.Rules {
		n, bad := 0, 0
		for i, l := range labels {
			if l < 0 {
				continue
			}
			meets := true
			for _, c := range r.Conditions {
				v := cols[c.Feature][i]
				if math.IsNaN(v) {
					meets = meets && c.Missing
					continue
				}
				x := float32(v)
				meets = meets && (c.Min == nil || x >= float32(*c.Min)) && (c.Max == nil || x < float32(*c.Max))
			}
			if meets {
				n++
				bad += int(l)
			}
		}
		if n != r.Support || bad != r.Illicit {
			t.Errorf("%s rule %d (%s): %d rows, %d illicit; recounted %d, %d", what, k+1, r.Text, r.Support, r.Illicit, n, bad)
		}
	}
}

func TestRulesCommand(t *testing.T) {
	dir := t.TempDir()
	train, valid := writeSynth(t, dir, 6000)
	model := filepath.Join(dir, "model")
	if out, err := execute(t, newTrainCmd, "--profile", "canonical", "--in", train, "--out", model,
		"--rounds", "20", "--max-depth", "4", "--seed", "5", "--no-revenue-head"); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	m, err := riskmodel.Load(model)
	if err != nil {
		t.Fatal(err)
	}

	// Without --in: the training file the manifest records, with the
	// out-of-fold features the trees saw, recomputed here by fitting the
	// feature layer as train did (default groups, seed 5).
	out, err := execute(t, newRulesCmd, "--model", model, "--top", "8", "--json")
	if err != nil {
		t.Fatalf("rules: %v\n%s", err, out)
	}
	var got jsonRules
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("rules --json: %v\n%s", err, out)
	}
	if got.ModelID != m.Manifest.ID || !got.Data.Training || len(got.Rules) != 8 {
		t.Errorf("rules on the training file: model %s, training features %v, %d rules", got.ModelID, got.Data.Training, len(got.Rules))
	}
	tb := readCanonical(t, train)
	_, fm, err := features.Fit(tb, features.Config{Groups: riskmodel.DefaultGroups, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	var labels []int8
	for _, b := range tb {
		if labels, err = features.ReadLabels(b, labels); err != nil {
			t.Fatal(err)
		}
	}
	recount(t, "training", got, fm.Cols, labels)

	// With --in: new declarations get the features the model scores with.
	out, err = execute(t, newRulesCmd, "--model", model, "--in", valid, "--profile", "canonical", "--json", "--min-support", "0.01")
	if err != nil {
		t.Fatalf("rules --in: %v\n%s", err, out)
	}
	got = jsonRules{}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("rules --in --json: %v\n%s", err, out)
	}
	if got.Data.Training {
		t.Error("validation declarations measured with training features")
	}
	vb := readCanonical(t, valid)
	var vcols [][]float64
	labels = labels[:0]
	for _, b := range vb {
		cols, err := m.State.Transform(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if vcols == nil {
			vcols = make([][]float64, len(cols))
		}
		for j := range cols {
			vcols[j] = append(vcols[j], cols[j]...)
		}
		if labels, err = features.ReadLabels(b, labels); err != nil {
			t.Fatal(err)
		}
	}
	recount(t, "validation", got, vcols, labels)
	for _, r := range got.Rules {
		if r.Support < int(math.Ceil(0.01*float64(got.Data.Labelled))) {
			t.Errorf("rule %s: support %d below 1%% of %d rows", r.Text, r.Support, got.Data.Labelled)
		}
	}

	// Text output.
	text, err := execute(t, newRulesCmd, "--model", model, "--top", "3", "--rank", "rate")
	if err != nil {
		t.Fatalf("rules: %v\n%s", err, text)
	}
	for _, want := range []string{"model " + m.Manifest.ID + ": 20 trees", "the training rows, with the out-of-fold features",
		"ranked by fraud rate; support at least 0.5%", "merged", "1. ", "2. ", "3. ", "  ->  support ", "tree "} {
		if !strings.Contains(text, want) {
			t.Errorf("rules output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "4. ") {
		t.Errorf("--top 3 printed more:\n%s", text)
	}
	t.Logf("\n%s", text)

	// The recorded training file is gone: say how to go on.
	if err := os.Rename(train, train+".moved"); err != nil {
		t.Fatal(err)
	}
	if _, err := execute(t, newRulesCmd, "--model", model); err == nil || !strings.Contains(err.Error(), "--in FILE") {
		t.Errorf("training file moved: %v", err)
	}
}

func TestRulesUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--top", "3"}, "give --model"},
		{[]string{"--model", "m", "--top", "-1"}, "--top"},
		{[]string{"--model", "m", "--min-support", "2"}, "--min-support 2"},
		{[]string{"--model", "m", "--similarity", "-1"}, "--similarity -1"},
		{[]string{"--model", "m", "--threads", "-1"}, "--workers"},
		{[]string{"--model", "m", "--rank", "lift"}, `unknown ranking "lift"`},
	} {
		_, err := execute(t, newRulesCmd, tc.args...)
		if err == nil || !isUsageError(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want a usage error mentioning %q", tc.args, err, tc.want)
		}
	}
	_, err := execute(t, newRulesCmd, "--model", t.TempDir())
	if err == nil || isUsageError(err) || !strings.Contains(err.Error(), "not a model folder") {
		t.Errorf("rules on an empty folder: %v", err)
	}
}
