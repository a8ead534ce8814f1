package stage

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"risklane/decl"
	"risklane/features"
	"risklane/ingest"
	"risklane/ingest/profile"
)

// TestSampleKeepsEveryIllicitRow samples a generated history at 20% on
// Prism and checks the sample against its input: every illicit row is in
// it, each kept row is an input row with the same label, and the other
// rows are kept at the rate within four standard deviations (of whole
// declarations kept at random).
func TestSampleKeepsEveryIllicitRow(t *testing.T) {
	dir := t.TempDir()
	in := history(t, dir)
	out := filepath.Join(dir, "sample")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	const rate = 0.2
	runPipeline(t, func(s beam.Scope) error {
		return Sample(s, SampleConfig{Inputs: in, Profile: "canonical", OutDir: out, Rate: rate, Seed: 4})
	})
	canonical, err := profile.Resolve("canonical")
	if err != nil {
		t.Fatal(err)
	}
	all := readRows(t, canonical, in...)
	got := readRows(t, canonical, filepath.Join(out, "sample-00000.parquet"), filepath.Join(out, "sample-00001.parquet"))
	var illicit, others, keptOthers int
	perDecl := map[string]float64{} // other rows per declaration: they are kept together
	for key, y := range all {
		g, ok := got[key]
		switch {
		case y == 1:
			illicit++
			if !ok {
				t.Fatalf("illicit row %s is not in the sample", key)
			}
		default:
			others++
			perDecl[key[:strings.LastIndexByte(key, '/')]]++
			if ok {
				keptOthers++
			}
		}
		if ok && g != y {
			t.Fatalf("row %s: label %d in the sample, %d in the input", key, g, y)
		}
	}
	if len(got) != illicit+keptOthers {
		t.Fatalf("the sample has %d rows, %d of them not in the input", len(got), len(got)-illicit-keptOthers)
	}
	// Whole declarations are kept: the variance of the kept rows is
	// rate(1-rate) times the sum of the squared declaration sizes.
	var sq float64
	for _, c := range perDecl {
		sq += c * c
	}
	mean, sd := rate*float64(others), math.Sqrt(rate*(1-rate)*sq)
	if d := math.Abs(float64(keptOthers) - mean); d > 4*sd {
		t.Errorf("kept %d of %d other rows; expected %.0f +- %.0f", keptOthers, others, mean, 4*sd)
	}
	if illicit == 0 || keptOthers == 0 {
		t.Fatalf("%d illicit rows, %d others kept: the data does not test the sample", illicit, keptOthers)
	}
}

// readRows returns the label of every row, keyed by the file's place in
// paths, the declaration id and the HS code (an item of a declaration).
func readRows(t *testing.T, prof *profile.Profile, paths ...string) map[string]int8 {
	t.Helper()
	m := map[string]int8{}
	for f, p := range paths {
		rd, err := ingest.Open(p, prof, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for rd.Next() {
			rec := rd.RecordBatch()
			ids, _, _ := decl.Strings(rec, decl.DeclarationID)
			hs, _, _ := decl.Strings(rec, decl.HSCode)
			ys, err := features.ReadLabels(rec, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, y := range ys {
				id, _ := ids.Value(i)
				h, _ := hs.Value(i)
				m[strconv.Itoa(f)+"/"+id+"/"+h] = y
			}
		}
		if err := rd.Err(); err != nil {
			t.Fatal(err)
		}
		rd.Close()
	}
	return m
}
