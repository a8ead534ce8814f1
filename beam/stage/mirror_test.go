package stage

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"risklane/beam/internal/reftest"
)

// TestMirrorEqualsRisklaneMirror runs the mirror analysis of generated
// trade statistics, cut into two files with a duplicate row across them
// and a malformed row, plus the hand-worked bulk file, with risklane mirror
// and with the pipeline on Prism: the gap table, rejects and signals must
// be byte-identical.
func TestMirrorEqualsRisklaneMirror(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	reftest.Sh(t, "generate", "--rows", strconv.Itoa(reftest.Rows(t)), "--seed", "31", "--out", p("decl.parquet"),
		"--trade", p("trade.csv"), "--tariffs", p("tariffs.csv"))
	b, err := os.ReadFile(p("trade.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) < 100 {
		t.Fatalf("trade.csv has %d lines: too few to test", len(lines))
	}
	half := len(lines) / 2
	one := strings.Join(lines[:half], "\n") + "\n"
	// The second file repeats a row of the first (a duplicate, rejected)
	// and has a row with too few fields (malformed, rejected).
	two := strings.Join(append([]string{lines[0], lines[1]}, lines[half:]...), "\n") + "\n" + "HS,2024,2024\n"
	if err := os.WriteFile(p("t1.csv"), []byte(one), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p("t2.csv"), []byte(two), 0o644); err != nil {
		t.Fatal(err)
	}
	hand, err := filepath.Abs(filepath.Join("..", "..", "features", "mirror", "testdata", "handworked_bulk.csv"))
	if err != nil {
		t.Fatal(err)
	}
	trade := []string{p("t1.csv"), p("t2.csv"), hand}
	reftest.Sh(t, "mirror", "--trade", trade[0], "--trade", trade[1], "--trade", trade[2], "--reporter", "KEN",
		"--tariffs", p("tariffs.csv"), "--out", p("want.parquet"), "--rejects", p("want-rejects.csv"), "--signals", p("want-signals.json"))

	runPipeline(t, func(s beam.Scope) error {
		return Mirror(s, MirrorConfig{Trade: trade, Reporter: "KEN", MinValue: 1000, Tariffs: p("tariffs.csv"),
			Out: p("got.parquet"), Rejects: p("got-rejects.csv"), Signals: p("got-signals.json")})
	})
	reftest.SameFile(t, p("want.parquet"), p("got.parquet"))
	reftest.SameFile(t, p("want-rejects.csv"), p("got-rejects.csv"))
	reftest.SameFile(t, p("want-signals.json"), p("got-signals.json"))
	if b, err := os.ReadFile(p("got-rejects.csv")); err != nil || !strings.Contains(string(b), "repeats") || !strings.Contains(string(b), "fields") {
		t.Errorf("rejects: want the duplicate and the malformed row, got %q (%v)", b, err)
	}
}
