package releasetime

import (
	"path/filepath"
	"reflect"
	"testing"
)

// TestReadTableRoundTrip: what WriteTable wrote reads back equal, in every
// format, with the targets its columns name.
func TestReadTableRoundTrip(t *testing.T) {
	rows := []Row{
		{Dimension: All, Group: "all", N: 3, Mean: 26.5, Median: 19.5, P90: 56.25, P95: 68.75, Within: []float64{0.625, 0.875},
			MeanWorking: 6.9, Inspected: 0.25, PreLodged: 0.125, Stages: [NumStages]float64{1, 2, 3, 4, 5, 11.5}},
		{Dimension: ByLane, Group: "red", N: 1, Mean: 55.5, Within: []float64{0, 0.5}, Stages: [NumStages]float64{0, 0, 30, 20, 5, 0.5}},
	}
	targets := []float64{24, 36.5}
	for _, name := range []string{"r.csv", "r.parquet", "r.arrow"} {
		path := filepath.Join(t.TempDir(), name)
		if err := WriteTable(path, targets, rows); err != nil {
			t.Fatal(err)
		}
		got, tg, err := ReadTable(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(tg, targets) || !reflect.DeepEqual(got, rows) {
			t.Fatalf("%s: got %v %+v", name, tg, got)
		}
	}
}
