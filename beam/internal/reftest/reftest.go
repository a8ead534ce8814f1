// Package reftest holds what the beam module's tests share: the
// single-machine risklane binary the pipeline is held to, built from the
// root module with its own dependency versions, and file comparisons.
package reftest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"risklane/internal/version"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Risklane builds the single-machine binary from the root module once per
// test process and returns its path.
func Risklane(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		var dir string
		if dir, binErr = os.MkdirTemp("", "risklane-beam-bin-"); binErr != nil {
			return
		}
		binPath = filepath.Join(dir, "risklane")
		_, self, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(self), "..", "..", "..")
		// Stamped with this process's version: the ranked file's footer
		// records the version, and files are compared byte for byte.
		cmd := exec.Command("go", "build", "-ldflags", "-X risklane/internal/version.stamp="+version.String(), "-o", binPath, "./cmd/risklane")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = err
			binPath = string(out)
		}
	})
	if binErr != nil {
		t.Fatalf("building risklane: %v\n%s", binErr, binPath)
	}
	return binPath
}

// Sh runs risklane with args and fails the test if it fails.
func Sh(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command(Risklane(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("risklane %v: %v\n%s", args, err, out.String())
	}
}

// Rows is the size of the generated inputs: 20,000 by default (make
// test); RISKLANE_BEAM_ROWS=1000000 in CI (.ci/run) and for the
// documented equality runs (docs/beam.md).
func Rows(t testing.TB) int {
	if v := os.Getenv("RISKLANE_BEAM_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			t.Fatalf("RISKLANE_BEAM_ROWS=%q: want a number of rows, at least 100", v)
		}
		return n
	}
	return 20000
}

// SameFile fails unless the two files hold the same bytes.
func SameFile(t testing.TB, want, got string) {
	t.Helper()
	a, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("%s (%d bytes) differs from %s (%d bytes)", got, len(b), want, len(a))
	}
}

// Damage appends two rows ingest rejects to a generated CSV file: a copy of
// the last row with a negative net mass, and one with a date that is not a
// date.
func Damage(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	header, last := strings.Split(lines[0], ","), strings.Split(lines[len(lines)-1], ",")
	set := func(col, v string) []string {
		row := slices.Clone(last)
		row[slices.Index(header, col)] = v
		row[slices.Index(header, "declaration_id")] += "-" + col
		return row
	}
	extra := strings.Join(set("net_mass_kg", "-3"), ",") + "\n" + strings.Join(set("date", "yesterday"), ",") + "\n"
	if err := os.WriteFile(path, append(b, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
}
