package date

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
	"risklane/models/modeltest"
)

// TestProbPowerHandWorked checks the dual score p^a x estimate of one row
// against values worked by hand (python3: 1/(1+exp(-0.5)) ** 1.1 *
// expm1(9.25 + 0.5 * 1.5)), for a = 1.1, and that a = 0 (a model saved
// before the option) and a = 1 give p x estimate.
func TestProbPowerHandWorked(t *testing.T) {
	m := &Model{RevMean: 9.25, RevSD: 1.5, RevCap: math.Inf(1), CalA: 1}
	prob, exp := make([]float64, 1), make([]float64, 1)
	// p = sigmoid(0.5) = 0.6224593312018546, the estimate expm1(10) =
	// 22025.465794806718
	for _, c := range []struct {
		a, want float64
	}{
		{0, 13709.95670804},    // 0.6224593312018546 × 22025.465794806718
		{1, 13709.95670804},    //
		{1.1, 13075.16510571},  // 0.5936385285798381 × 22025.465794806718
		{1.2, 12469.76530870},  // 0.5661521724383226 × 22025.465794806718
		{0.25, 19563.78345384}, // 0.888234720486873: the least power allowed
	} {
		m.Config.ProbPower = c.a
		m.output(0, 0.5, 0.5, 0, prob, exp)
		// sigmoid is float32: about 1e-7 relative
		if math.Abs(exp[0]-c.want) > 2e-7*c.want {
			t.Errorf("power %v: dual score %.8f, want %.8f", c.a, exp[0], c.want)
		}
		if math.Abs(prob[0]-0.6224593312018546) > 1e-7 {
			t.Errorf("power %v: probability %v changed", c.a, prob[0])
		}
	}
}

// TestProbPowerSeam trains a small model, scores it through the seam with
// the power off and at 1.1 (every row's expected revenue p^0.1 times the
// other, the probability unchanged), saves it with the power and reads it
// back (the power kept), and refuses a manifest with a hostile power.
func TestProbPowerSeam(t *testing.T) {
	batches := modeltest.Declarations(t, 3000, 5)
	tc := models.TrainConfig{Seed: 3, Params: map[string]float64{
		"trees": 3, "tree-depth": 3, "epochs": 1, "dim": 4, "rev-uv-inputs": 1, "prob-power": 1.1}}
	cfg, err := ConfigOf(tc)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ProbPower != 1.1 || !slices.Equal(cfg.RevenueInputs[len(cfg.RevenueInputs)-3:], uvRevInputs) {
		t.Fatalf("parameters set power %v, revenue inputs %v", cfg.ProbPower, cfg.RevenueInputs)
	}
	if c1, _ := ConfigOf(models.TrainConfig{Params: map[string]float64{"prob-power": 1}}); c1.ProbPower != 0 {
		t.Fatalf("prob-power=1 stored as %v: want 0, today's manifest", c1.ProbPower)
	}
	m, err := Train(batches, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Arch.RevIn != len(DefaultConfig().RevenueInputs)+3-missingDefaults(m) {
		t.Fatalf("%d revenue inputs: the three unit-value ones not taken (%v)", m.Arch.RevIn, m.State.Names())
	}
	probe := batches[len(batches)-1].NewSlice(0, 200)
	p1, e1 := seamScore(t, m, probe)
	m.Config.ProbPower = 0
	p0, e0 := seamScore(t, m, probe)
	m.Config.ProbPower = 1.1
	if !slices.Equal(p0, p1) {
		t.Fatal("the power changed the probabilities")
	}
	moved := 0
	for i := range e0 {
		want := e0[i] * math.Pow(p0[i], 0.1)
		if math.Abs(e1[i]-want) > 1e-12*want {
			t.Fatalf("row %d: p %v, p x estimate %v, p^1.1 x estimate %v: want %v", i, p0[i], e0[i], e1[i], want)
		}
		if e1[i] != e0[i] {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("the power changed no row's score")
	}
	dir, back := saveLoad(t, m)
	if back.Config.ProbPower != 1.1 {
		t.Fatalf("read back with power %v", back.Config.ProbPower)
	}
	if _, e := seamScore(t, back, probe); !slices.Equal(e, e1) {
		t.Fatal("read back scores differently")
	}
	manifest, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(manifest, []byte(`"ProbPower": 1.1`)) {
		t.Fatalf("the manifest does not hold the power:\n%s", manifest)
	}
	for _, bad := range []string{"-1", "0.1", "1e300", "5"} {
		b := bytes.Replace(manifest, []byte(`"ProbPower": 1.1`), []byte(`"ProbPower": `+bad), 1)
		if err := os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "ProbPower") || !strings.Contains(err.Error(), dir) {
			t.Errorf("power %s: %v", bad, err)
		}
	}
}

// missingDefaults counts the default revenue inputs m's feature state does
// not compute (taken when present).
func missingDefaults(m *Model) int {
	n := 0
	for _, w := range DefaultConfig().RevenueInputs {
		if !slices.Contains(m.State.Names(), w) {
			n++
		}
	}
	return n
}

func seamScore(t *testing.T, m *Model, rec arrow.RecordBatch) (prob, exp []float64) {
	t.Helper()
	n := int(rec.NumRows())
	feats := make([]float64, n*len(m.FeatureNames()))
	if err := m.Features(rec, feats); err != nil {
		t.Fatal(err)
	}
	prob, exp = make([]float64, n), make([]float64, n)
	if err := m.Predict(rec, feats, prob, exp); err != nil {
		t.Fatal(err)
	}
	return prob, exp
}

// TestRevUVInputsRefused checks that the unit-value revenue inputs are
// refused, naming them, when the feature state lacks them, and that the
// parameter off removes them.
func TestRevUVInputsRefused(t *testing.T) {
	names := []string{"log_value", "log_duty", "uv_kg_z_hs6", "tax_rate"}
	err := checkRevInputs(names, append([]string{"log_value"}, uvRevInputs...))
	if err == nil || !strings.Contains(err.Error(), "uv_kg_z_hs6_origin") || strings.Contains(err.Error(), `"tax_rate"`) {
		t.Fatalf("a state without uv_kg_z_hs6_origin: %v", err)
	}
	if err := checkRevInputs(names, []string{"log_value", "log_total_taxes"}); err != nil {
		t.Fatalf("a default input the state lacks is skipped, as before: %v", err)
	}
	if got := setInputs(setInputs([]string{"log_value"}, uvRevInputs, true), uvRevInputs, false); !slices.Equal(got, []string{"log_value"}) {
		t.Fatalf("on then off: %v", got)
	}
	if got := setInputs(setInputs([]string{"a"}, uvRevInputs, true), uvRevInputs, true); len(got) != 4 {
		t.Fatalf("on twice: %v", got)
	}
}
