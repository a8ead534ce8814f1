package report

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"risklane/datasets/demo"
	"risklane/features/mirror"
	"risklane/features/pricecluster"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/pipeline/rank"
)

// sampleInputs makes report inputs from the embedded demo data without a
// trained model: the score is a plain price screen (the further below its
// HS6 group's median unit value, the riskier), which is enough to fill every
// section with real-looking numbers.
func sampleInputs(t testing.TB) Inputs {
	t.Helper()
	dir := t.TempDir()
	paths, err := demo.WriteTo(dir)
	if err != nil {
		t.Fatal(err)
	}
	batches, _, err := ingest.ReadAll(paths[:1], profile.Canonical(), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, b := range batches {
			b.Release()
		}
	})
	cols, err := ReadColumns(batches)
	if err != nil {
		t.Fatal(err)
	}
	m, err := pricecluster.Fit(cols.HS6, cols.Value, cols.Mass, cols.Qty, pricecluster.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var a pricecluster.Assignment
	if err := m.Apply(cols.HS6, cols.Value, cols.Mass, cols.Qty, &a); err != nil {
		t.Fatal(err)
	}
	scores := make([]float64, len(cols.IDs))
	for i, d := range a.LogDist {
		if math.IsNaN(d) {
			scores[i] = 0.5
			continue
		}
		scores[i] = 1 / (1 + math.Exp(3*d+2))
	}
	cfg := mirror.DefaultConfig("KEN")
	tf, err := os.Open(paths[3])
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	if cfg.Tariffs, _, err = mirror.ReadTariffs(tf, paths[3]); err != nil {
		t.Fatal(err)
	}
	gaps, err := mirror.Analyze(cfg, paths[1])
	if err != nil {
		t.Fatal(err)
	}
	ranked := writeSampleRanked(t, filepath.Join(dir, "ranked.parquet"), cols.IDs, scores)
	return Inputs{
		Title:        "risklane report (sample)",
		Subtitle:     "A price screen on the embedded demo data",
		Facts:        []Fact{{"data", "demo declarations.csv"}, {"rows", "20,000"}},
		Declarations: batches,
		Scores:       scores,
		Gaps:         gaps,
		Ranked:       ranked,
		Rules: &RulesSection{Rows: 20000, Rules: []Rule{
			{Text: "unit value below 40% of the HS6 median and importer's past fraud rate above 20%", Rows: 120, Illicit: 96, Lift: 14},
			{Text: "origin ZAF and HS 110610", Rows: 40, Illicit: 22, Lift: 9.6},
		}},
	}
}

// writeSampleRanked ranks the rows by score, cuts 5% red and 10% yellow and
// reads the file back as a RankedSection.
func writeSampleRanked(t testing.TB, path string, ids []string, scores []float64) *RankedSection {
	t.Helper()
	keys := make([]rank.Key, len(scores))
	for i, s := range scores {
		keys[i] = rank.MakeKey(float32(s), uint32(i))
	}
	keys = rank.Sort(keys, make([]rank.Key, len(keys)))
	lanes, err := rank.DefaultPlan().Apply(keys)
	if err != nil {
		t.Fatal(err)
	}
	w, err := rank.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]rank.Row, len(keys))
	for r, k := range keys {
		lane := lanes.Lane(r)
		reasons := ""
		if lane != rank.Green {
			reasons = "unit value far below the HS6 median; <script>alert('not run')</script>"
		}
		rows[r] = rank.Row{Rank: int64(r + 1), DeclarationID: ids[k.Ord()], Score: k.Score(), Lane: lane, Reasons: reasons, ModelID: "sample", RunID: "run-1"}
	}
	if err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	s, err := ReadRanked(path, 20)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
