package releasetime

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadTable gives the reader of breakdown tables (the report draws
// them) arbitrary CSV. A table it accepts has a share per target in every
// row, and WriteTable writes it to a file that reads back to the same rows
// and targets.
func FuzzReadTable(f *testing.F) {
	dir := f.TempDir()
	good := filepath.Join(dir, "good.csv")
	rows := []Row{{Dimension: "office", Group: "O1", N: 3, Mean: 10.5, Median: 9, P90: 20, P95: 22, Within: []float64{0.5, 1},
		MeanWorking: 7, Inspected: 1.0 / 3, PreLodged: 0}}
	if err := WriteTable(good, []float64{24, 72}, rows); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("dimension,group,declarations,mean_h,within_NaNh,within_0x1p1h\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := filepath.Join(dir, "in.csv")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rows, targets, err := ReadTable(in)
		if err != nil {
			return
		}
		for _, r := range rows {
			if len(r.Within) != len(targets) {
				t.Fatalf("row %+v: %d shares for %d targets", r, len(r.Within), len(targets))
			}
		}
		out := filepath.Join(dir, "out.csv")
		if err := WriteTable(out, targets, rows); err != nil {
			t.Fatalf("WriteTable of an accepted table: %v", err)
		}
		back, bt, err := ReadTable(out)
		if err != nil {
			t.Fatalf("ReadTable of what WriteTable wrote (targets %v): %v", targets, err)
		}
		// %v prints every float exactly (shortest form) and NaN as NaN
		if g, w := fmt.Sprintf("%v %v", bt, back), fmt.Sprintf("%v %v", targets, rows); g != w {
			t.Fatalf("read back as\n%s\nnot\n%s", g, w)
		}
	})
}
