package kinds

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
)

// TestTable: every kind has a name, a loader and a unique name, and the
// default kind is in the table.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range All() {
		if k.Name == "" || k.Load == nil || seen[k.Name] {
			t.Errorf("kind %q: empty name, no Load, or listed twice", k.Name)
		}
		seen[k.Name] = true
		for _, p := range k.Params {
			if err := p.Check(p.Default); err != nil {
				t.Errorf("kind %s: the default of --%s is out of its own range: %v", k.Name, p.Name, err)
			}
		}
	}
	if !seen[Default] {
		t.Errorf("the default kind %q is not in the table", Default)
	}
	if _, err := Lookup("isolation-forest"); err == nil || !strings.Contains(err.Error(), Default) {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestLoadUnknownKind: a folder whose manifest names a kind this risklane
// does not know is refused by name, after its files were checked.
func TestLoadUnknownKind(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{"weights.bin": []byte("0123")}
	_, err := models.WriteFolder(dir, files, func(id string, hashes map[string]string) ([]byte, error) {
		return []byte(`{"format":"risklane-model","version":1,"kind":"forest","model_id":"` + id + `","files":{"weights.bin":"` + hashes["weights.bin"] + `"}}`), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `unknown model kind "forest"`) {
		t.Fatalf("load: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "not a model folder") {
		t.Fatalf("load of a missing folder: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "weights.bin"), []byte("0124"), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "changed or damaged") {
		t.Fatalf("load of a changed file: %v", err)
	}
}

// constant is the smallest model kind: it scores every row with the number
// its one file holds. TestNewKind adds it to the table as a new kind's
// package would, with one line.
type constant struct {
	id    string
	score float64
}

func (c *constant) Kind() string                                { return "constant" }
func (c *constant) ID() string                                  { return c.id }
func (c *constant) FeatureNames() []string                      { return nil }
func (c *constant) Columns() []string                           { return nil }
func (c *constant) Check(*arrow.Schema) error                   { return nil }
func (c *constant) Features(arrow.RecordBatch, []float64) error { return nil }
func (c *constant) Predict(_ arrow.RecordBatch, _ []float64, score, expRev []float64) error {
	for i := range score {
		score[i], expRev[i] = c.score, 0
	}
	return nil
}

var constantKind = models.Kind{Name: "constant", Doc: "one score for every row", Load: func(f *models.Folder) (models.Model, error) {
	v, err := strconv.ParseFloat(string(f.Files["score.txt"]), 64)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path("score.txt"), err)
	}
	return &constant{id: f.ID, score: v}, nil
}}

// TestNewKind: a folder written by a new kind loads through the same Load
// once its Kind is in the table, and a ranking it cannot give is refused.
func TestNewKind(t *testing.T) {
	defer func(saved []models.Kind) { table = saved }(table)
	table = append(table, constantKind) // the one registration line

	dir := t.TempDir()
	if _, err := models.WriteFolder(dir, map[string][]byte{"score.txt": []byte("0.25")}, func(id string, h map[string]string) ([]byte, error) {
		return json.Marshal(models.Header{Format: models.FolderFormat, Version: models.FolderVersion, Kind: "constant", ID: id, Files: h})
	}); err != nil {
		t.Fatal(err)
	}
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	score, exp := make([]float64, 2), make([]float64, 2)
	if err := m.Predict(nil, nil, score, exp); err != nil || m.Kind() != "constant" || score[1] != 0.25 {
		t.Fatalf("loaded %s model scores %v, %v", m.Kind(), score, err)
	}
	if err := models.CheckRankBy(m, models.ByExpectedRevenue); err == nil {
		t.Fatal("a model without a revenue head may rank by expected revenue")
	}
}

// TestTrainParams: every kind risklane trains refuses an unknown parameter
// and a value out of its declared range with the same words, before it
// reads any data: the kinds share models.Recipe, and a kind that checked
// its parameters its own way would fail here.
func TestTrainParams(t *testing.T) {
	for _, k := range All() {
		if k.Train == nil {
			continue
		}
		_, err := k.Train(nil, nil, models.TrainConfig{Params: map[string]float64{"no-such-flag": 1}})
		if want := "--no-such-flag is not a parameter of " + k.Name + " models"; err == nil || err.Error() != want {
			t.Errorf("%s: unknown parameter: %v, want %q", k.Name, err, want)
		}
		for _, p := range k.Params {
			v := p.Min - 1
			want := p.Check(v)
			_, err := k.Train(nil, nil, models.TrainConfig{Params: map[string]float64{p.Name: v}})
			if want == nil || err == nil || err.Error() != want.Error() {
				t.Errorf("%s: --%s %g: %v, want %v", k.Name, p.Name, v, err, want)
			}
		}
	}
}

// Only the gbdt kind weights training rows by recency; every other kind
// refuses --train-halflife before reading any data.
func TestTrainHalfLife(t *testing.T) {
	for _, k := range All() {
		if k.Train == nil {
			continue
		}
		_, err := k.Train(nil, nil, models.TrainConfig{RowHalfLife: 28})
		refused := err != nil && strings.Contains(err.Error(), "cannot weight their training rows")
		if refused != (k.Name != Default) {
			t.Errorf("%s: --train-halflife 28: %v", k.Name, err)
		}
	}
}
