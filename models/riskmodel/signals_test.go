package riskmodel

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
	"risklane/features"
	"risklane/features/mirror"
	"risklane/features/pricecluster"
	"risklane/models"
)

// smallSynth is the generator's configuration for tests: rows of 2024 with
// the trader populations of generate.
func smallSynth(rows int64, seed uint64) synth.Config {
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed = rows, seed
	cfg.NumImporters, cfg.NumSellers = 2000, 1200
	return cfg
}

// generateWithTrade returns synthetic declarations and the path of the
// trade statistics the generator wrote for them.
func generateWithTrade(t testing.TB, cfg synth.Config) ([]arrow.RecordBatch, string) {
	t.Helper()
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []arrow.RecordBatch
	t.Cleanup(func() {
		for _, b := range out {
			b.Release()
		}
	})
	for !g.Done() {
		b, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	path := filepath.Join(t.TempDir(), "trade.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := g.TradeStatistics(f); err != nil {
		t.Fatal(err)
	}
	return out, path
}

// withMirror returns cfg with the mirror group added, reading trade.
func withMirror(cfg Config, trade string) Config {
	cfg.Features.Groups = append(slices.Clone(cfg.Features.Groups), mirror.GroupName)
	mc := mirror.DefaultConfig("KEN")
	mc.MinValue = 1000
	cfg.Features.Signals = []features.Signal{mirror.NewFeature(mc, trade)}
	return cfg
}

// TestSignalsSaveLoadScore trains with the cluster (a default group) and
// mirror groups, saves the model folder and loads it: the loaded model must
// score every validation batch bit for bit as the trained one does,
// reproduce the validation metrics of training, and need no trade file to
// do so.
func TestSignalsSaveLoadScore(t *testing.T) {
	all, trade := generateWithTrade(t, smallSynth(12_000, 5))
	train, valid, err := SplitByDate(all, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	cfg := withMirror(DefaultConfig(), trade)
	cfg.Classifier.NumRounds, cfg.Classifier.MaxDepth = 40, 6
	cfg.Revenue.NumRounds = 20
	m, err := Train(train, valid, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{pricecluster.GroupName, mirror.GroupName} {
		if !slices.Contains(m.Manifest.Groups, g) {
			t.Errorf("manifest groups %v lack %s", m.Manifest.Groups, g)
		}
	}
	var used []string
	for _, im := range m.Metrics.Importance {
		if im.Group == pricecluster.GroupName || im.Group == mirror.GroupName {
			used = append(used, im.Feature)
		}
	}
	if len(used) == 0 {
		t.Error("the classifier uses no cluster or mirror feature")
	}

	dir := filepath.Join(t.TempDir(), "model")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(trade); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for k, b := range valid {
		p1, e1, err := m.Score(b, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		p2, e2, err := loaded.Score(b, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range p1 {
			if math.Float64bits(p1[i]) != math.Float64bits(p2[i]) || math.Float64bits(e1[i]) != math.Float64bits(e2[i]) {
				t.Fatalf("batch %d row %d: loaded model scores %v / %v, trained model %v / %v", k, i, p2[i], e2[i], p1[i], e1[i])
			}
		}
	}
	ev, err := loaded.Evaluate(valid, models.ByProbability)
	if err != nil {
		t.Fatal(err)
	}
	want := m.Metrics.Validation
	if ev.AUC != want.AUC || !slices.Equal(ev.AtRates, want.AtRates) {
		t.Errorf("loaded model: AUC %v, at rates %+v; training reported AUC %v, %+v", ev.AUC, ev.AtRates, want.AUC, want.AtRates)
	}
}
