package features

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/internal/testenv"
)

func readKCS(t testing.TB, name string) []arrow.RecordBatch {
	t.Helper()
	path := testenv.SharedData(t, "kcs/"+name)
	p, err := profile.Resolve("kcs")
	if err != nil {
		t.Fatal(err)
	}
	batches, stats, err := ingest.ReadAll([]string{path}, p, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Rejected != 0 {
		t.Fatalf("%s: %d rows rejected", name, stats.Rejected)
	}
	t.Cleanup(func() {
		for _, b := range batches {
			b.Release()
		}
	})
	return batches
}

// TestAgainstPandas recomputes every feature of the KCS training rows (out of
// fold, with risklane's folds) and validation rows (whole history) with an
// independent pandas implementation, testdata/kcs_reference.py.
func TestAgainstPandas(t *testing.T) {
	py := testenv.Python(t, "pandas", "numpy")
	train, valid := readKCS(t, "train.csv"), readKCS(t, "valid.csv")
	st, m, err := Fit(train, Config{Groups: BuiltinGroups, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "go_features.csv")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("split,fold")
	for _, n := range st.Names() {
		w.WriteString("," + n)
	}
	w.WriteString("\n")
	put := func(split string, fold int, cols [][]float64, i int) {
		w.WriteString(split + "," + strconv.Itoa(fold))
		for _, c := range cols {
			w.WriteString("," + strconv.FormatFloat(c[i], 'g', -1, 64))
		}
		w.WriteString("\n")
	}
	for i := range m.Rows {
		put("train", int(m.Fold[i]), m.Cols, i)
	}
	var cols [][]float64
	for _, b := range valid {
		cols, err = st.Transform(b, cols)
		if err != nil {
			t.Fatal(err)
		}
		for i := range int(b.NumRows()) {
			put("valid", -1, cols, i)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cmd := exec.Command(py, "testdata/kcs_reference.py",
		testenv.SharedData(t, "kcs/train.csv"), testenv.SharedData(t, "kcs/valid.csv"), out)
	cmd.Stderr = os.Stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcs_reference.py: %v", err)
	}
	var r struct {
		Checked    int
		Rows       int
		Missing    []string
		Mismatches []map[string]any
		Worst      float64
	}
	if err := json.Unmarshal(res, &r); err != nil {
		t.Fatalf("kcs_reference.py output %q: %v", res, err)
	}
	if len(r.Missing) > 0 {
		t.Errorf("features with no pandas reference: %v", r.Missing)
	}
	for _, mm := range r.Mismatches {
		t.Errorf("%v row %v %v: risklane %v, pandas %v", mm["split"], mm["row"], mm["feature"], mm["go"], mm["python"])
	}
	if want := r.Rows * len(st.Names()); r.Checked != want {
		t.Errorf("pandas checked %d values, want %d", r.Checked, want)
	}
	t.Logf("%d rows x %d features agree with pandas (largest relative difference %.2g)", r.Rows, len(st.Names()), r.Worst)
}
