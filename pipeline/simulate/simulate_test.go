package simulate

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
	"risklane/features"
	"risklane/ingest"
	"risklane/models"
	"risklane/models/kinds"
)

// generated returns the batches of a small generated data set.
func generated(t testing.TB, cfg synth.Config) []arrow.RecordBatch {
	t.Helper()
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []arrow.RecordBatch
	for {
		b, err := g.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}

// spy is a model kind whose models score every row by its position (so a
// ranking is known) and whose training records how many labelled rows it
// was given.
type spy struct {
	labelled []int
	illicit  []int
}

type spyModel struct{}

func (spyModel) Kind() string                                { return "spy" }
func (spyModel) ID() string                                  { return "" }
func (spyModel) FeatureNames() []string                      { return nil }
func (spyModel) Columns() []string                           { return nil }
func (spyModel) Check(*arrow.Schema) error                   { return nil }
func (spyModel) Features(arrow.RecordBatch, []float64) error { return nil }
func (spyModel) Save(string) error                           { return nil }
func (spyModel) Predict(rec arrow.RecordBatch, _ []float64, score, expRev []float64) error {
	for i := range score {
		score[i], expRev[i] = 1/float64(i+2), 0
	}
	return nil
}

func (s *spy) kind() models.Kind {
	return models.Kind{Name: "spy", Load: func(*models.Folder) (models.Model, error) { return spyModel{}, nil },
		Train: func(train, _ []arrow.RecordBatch, _ models.TrainConfig) (models.Trained, error) {
			labels, _, err := models.Outcomes(train)
			if err != nil {
				return nil, err
			}
			n, f := 0, 0
			for _, l := range labels {
				if l >= 0 {
					n++
					f += int(l)
				}
			}
			s.labelled = append(s.labelled, n)
			s.illicit = append(s.illicit, f)
			return spyModel{}, nil
		}}
}

// TestLabelsOnlyWhereInspected: a strategy's model learns from the
// initial window's labels and the rows it inspected, nothing else; the
// rows inspected per period follow the budget, constant or decaying.
func TestLabelsOnlyWhereInspected(t *testing.T) {
	gc := synth.DefaultConfig()
	gc.Rows, gc.LabelRate = 20_000, 0.5
	gc.End = time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	gc.LabelRate = 1
	batches := generated(t, gc)
	for _, budget := range []Budget{{0.1, 0.1}, {0.1, 0.02}} {
		s := &spy{}
		cfg := Config{Start: time.Date(2024, 2, 5, 0, 0, 0, 0, time.UTC), PeriodDays: 7, Periods: 6, InitialDays: 28,
			Budget: budget, RetrainEvery: 1, Seed: 1, Kind: s.kind(), Strategies: []string{"spy"}}
		rows, err := Run(batches, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.labelled) != cfg.Periods {
			t.Fatalf("%d trainings for %d periods", len(s.labelled), cfg.Periods)
		}
		for p, r := range rows {
			want := int(math.Max(1, math.Round(budget.At(p, cfg.Periods)*float64(r.Rows))))
			if r.Inspected != want {
				t.Errorf("budget %v period %d: inspected %d of %d rows, want %d", budget, p+1, r.Inspected, r.Rows, want)
			}
			if p+1 < len(s.labelled) && s.labelled[p+1]-s.labelled[p] != r.Inspected {
				t.Errorf("budget %v period %d: the next training got %d more labels, want the %d inspected", budget, p+1, s.labelled[p+1]-s.labelled[p], r.Inspected)
			}
			if p+1 < len(s.illicit) && s.illicit[p+1]-s.illicit[p] != r.Frauds {
				t.Errorf("budget %v period %d: the next training got %d more frauds, want the %d found", budget, p+1, s.illicit[p+1]-s.illicit[p], r.Frauds)
			}
		}
	}
}

// TestDeterministic: the same seed gives the same table, another seed
// other random picks.
func TestDeterministic(t *testing.T) {
	gc := synth.DefaultConfig()
	gc.Rows = 20_000
	gc.End = time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	batches := generated(t, gc)
	cfg := Config{Start: time.Date(2024, 2, 5, 0, 0, 0, 0, time.UTC), PeriodDays: 7, Periods: 3, InitialDays: 28,
		Budget: Budget{0.1, 0.1}, RetrainEvery: 1, Seed: 1, Kind: (&spy{}).kind(),
		Strategies: []string{"random", "risky", "spy:0.5+random:0.5"}}
	a, err := Run(batches, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(batches, cfg)
	cfg.Seed = 2
	c, _ := Run(batches, cfg)
	same := func(x, y []Row) bool {
		for i := range x {
			if x[i].Frauds != y[i].Frauds || x[i].Revenue != y[i].Revenue {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("two runs with the same seed differ")
	}
	if same(a, c) {
		t.Error("seeds 1 and 2 gave the same random picks")
	}
	cfg.Seed, cfg.Parallel = 1, 3
	if p, err := Run(batches, cfg); err != nil || !same(a, p) || len(p) != len(a) || p[0].Strategy != "random" || p[len(p)-1].Strategy != "spy:0.5+random:0.5" {
		t.Errorf("three strategies at once differ from one after another (%v)", err)
	}
	for _, r := range a {
		want := map[string]float64{"random": 1, "risky": 0, "spy:0.5+random:0.5": 0.5}[r.Strategy]
		if math.Abs(r.Exploration-want) > 0.01 {
			t.Errorf("%s period %d: exploration %.3f, want %.1f", r.Strategy, r.Period, r.Exploration, want)
		}
	}
}

func TestParseStrategy(t *testing.T) {
	for spec, want := range map[string]string{
		"gbdt": "", "gbdt:0.9+random:0.1": "", "apt": "", "gbdt:0.8+diversity:0.1+gatekeeper:0.1": "", "selftrain": "", "pu": "", "gbdt:0.9+iforest:0.1": "", "adapt": "",
		"gbdt:0.9+random": "weight", "gbdt:0.9+random:0.2": "sum", "apt:0.5+random:0.5": "alone",
		"gbdt:x+random:0.1": "weight", "+random:1": "empty",
	} {
		_, err := ParseStrategy(spec)
		if (err == nil) != (want == "") || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("ParseStrategy(%q) = %v, want an error with %q", spec, err, want)
		}
	}
}

// TestDiversityPick, worked by hand: with every row equally weighted and
// three groups of identical leaf vectors, k-means++ seeding picks one row
// of each group before any second row of a group (distance 0 leaves no
// chance), whatever the draws.
func TestDiversityPick(t *testing.T) {
	// rows 0-3 in group A, 4-5 in B, 6 in C; two trees
	leaves := []int32{1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 1, 3, 3}
	for seed := range uint64(20) {
		pd := &period{n: 7, score: make([]float64, 7), expRev: make([]float64, 7), leaves: leaves, trees: 2,
			taken: make([]bool, 7), rng: newRand(seed)}
		got := diversityPick(pd, 3, false)
		groups := map[int32]bool{}
		for _, r := range got {
			groups[leaves[2*r]*10+leaves[2*r+1]] = true
		}
		if len(groups) != 3 {
			t.Fatalf("seed %d: picked %v, not one row of each of the three groups", seed, got)
		}
	}
}

// TestLeafDrift, worked by hand: tree 0 puts a's rows in leaves {1,1} and
// b's in {1,2} (TV 1/2); tree 1 the same leaves for both (TV 0): mean 1/4.
func TestLeafDrift(t *testing.T) {
	a := []int32{1, 5, 1, 6}
	b := []int32{1, 5, 2, 6}
	if got := leafDrift(a, b, 2); math.Abs(got-0.25) > 1e-12 {
		t.Errorf("leafDrift = %v, want 0.25", got)
	}
}

func TestBudget(t *testing.T) {
	b := Budget{0.1, 0.02}
	if b.At(0, 5) != 0.1 || math.Abs(b.At(4, 5)-0.02) > 1e-15 || math.Abs(b.At(2, 5)-0.06) > 1e-15 {
		t.Errorf("linear budget: %v %v %v", b.At(0, 5), b.At(2, 5), b.At(4, 5))
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

// TestOtherKinds: a strategy may name a kind other than the one the
// parameters were given for (date, gbdtlr); it trains with its own defaults
// rather than failing on the gbdt parameters.
func TestOtherKinds(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: trains DATE and GBDT+LR")
	}
	gc := synth.DefaultConfig()
	gc.Rows, gc.Seed = 8_000, 2
	gc.End = time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC)
	batches := generated(t, gc)
	defer ingest.Release(batches)
	all := map[string]models.Kind{}
	for _, k := range kinds.All() {
		all[k.Name] = k
	}
	params := map[string]float64{"rounds": 5, "max-depth": 4, "eta": 0.3}
	cfg := Config{Start: time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC), PeriodDays: 7, Periods: 2, InitialDays: 28,
		Budget: Budget{0.1, 0.1}, RetrainEvery: 1, Seed: 1, Kind: all[models.DefaultKind], Kinds: all,
		Train:      models.TrainConfig{Features: features.Config{Groups: features.DefaultGroups, Folds: 5, Smoothing: 10}, Params: params},
		Strategies: []string{"gbdtlr", "date"}}
	rows, err := Run(batches, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if !(r.AUC > 0.6) || !r.Retrained {
			t.Errorf("%s period %d: AUC %v, retrained %v", r.Strategy, r.Period, r.AUC, r.Retrained)
		}
	}
}
