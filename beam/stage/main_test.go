package stage

import (
	"risklane/internal/version"

	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
)

// The tests run their pipelines on Prism (--runner overrides it) and compare
// what they write with what the single-machine risklane commands write on
// the same generated data.
func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// risklane builds the single-machine binary from the root module, with the
// root module's own dependency versions: the reference the stages are held
// to.
func risklane(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "risklane-beam-bin-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "risklane")
		root, err := filepath.Abs("../..")
		if err != nil {
			binErr = err
			return
		}
		// Stamped with this process's version: the ranked file's footer
		// records the version, and the two files are compared byte for byte.
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

// sh runs risklane with args.
func sh(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command(risklane(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("risklane %v: %v\n%s", args, err, out.String())
	}
}

// rows is the size of the generated inputs: 20,000 in CI;
// RISKLANE_BEAM_ROWS=1000000 for the documented equality run (docs/beam.md).
func rows(t *testing.T) int {
	if v := os.Getenv("RISKLANE_BEAM_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			t.Fatalf("RISKLANE_BEAM_ROWS=%q: want a number of rows, at least 100", v)
		}
		return n
	}
	return 20000
}

// sameFile fails unless the two files hold the same bytes.
func sameFile(t *testing.T, want, got string) {
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
