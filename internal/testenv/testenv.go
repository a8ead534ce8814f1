// Package testenv finds what some tests need outside Go: the shared labelled
// data beside the repository and a Python with reference libraries (XGBoost,
// scikit-learn, pandas). A test that lacks them skips with a message that says
// how to get them; CI (.ci/run) installs them, so there every test runs.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Root returns the repository root (the folder holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testenv: cannot locate the source tree")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// SharedData returns the path of rel under ../shared/data, or skips the test
// when it is absent (a fresh clone has no ../shared).
func SharedData(t testing.TB, rel string) string {
	t.Helper()
	dir := os.Getenv("RISKLANE_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join(Root(t), "..", "shared", "data")
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: %s not found (the labelled data lives in ../shared/data beside the repository, or set RISKLANE_SHARED_DATA)", p)
	}
	return p
}

// Python returns a Python interpreter that imports every module named, or
// skips the test. It tries $RISKLANE_PYTHON, then Debian's /usr/bin/python3
// (where apt's python3-xgboost and python3-sklearn install), then python3 on
// the PATH.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	var candidates []string
	if p := os.Getenv("RISKLANE_PYTHON"); p != "" {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3", "python3")
	script := "import " + strings.Join(modules, ", ")
	for _, c := range candidates {
		path, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		if err := exec.Command(path, "-c", script).Run(); err == nil {
			return path
		}
	}
	t.Skipf("skipping: no Python with %s (on Debian: apt-get install python3-xgboost python3-sklearn python3-pandas; or set RISKLANE_PYTHON)", strings.Join(modules, ", "))
	return ""
}

// Rscript returns an Rscript that loads every R package named, or skips the
// test. It tries $RISKLANE_RSCRIPT, then Rscript on the PATH.
func Rscript(t testing.TB, packages ...string) string {
	t.Helper()
	candidates := []string{"Rscript"}
	if p := os.Getenv("RISKLANE_RSCRIPT"); p != "" {
		candidates = append([]string{p}, candidates...)
	}
	var script strings.Builder
	for _, p := range packages {
		script.WriteString("suppressMessages(library(" + p + "));")
	}
	for _, c := range candidates {
		path, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		if err := exec.Command(path, "-e", script.String()).Run(); err == nil {
			return path
		}
	}
	t.Skipf("skipping: no Rscript with %s (on Debian: apt-get install r-cran-forecast; or set RISKLANE_RSCRIPT)", strings.Join(packages, ", "))
	return ""
}
