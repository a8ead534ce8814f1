package stage

import (
	"fmt"
	"os"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"risklane/beam/internal/scratch"
)

// The tests run their pipelines on Prism (--runner overrides it) and compare
// what they write with what the single-machine risklane commands write on
// the same generated data (package reftest builds that binary).
// Their runs get a private TMPDIR (scratch.Isolate), removed at the end: the
// SDK leaves a file in it per run, and reftest builds risklane into it.
// Benchmark inputs are kept between runs in the temporary folder outside it
// (benchCache, read before TestMain).
var benchCache = os.TempDir()

func TestMain(m *testing.M) {
	restore, err := scratch.Isolate()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := ptest.MainRetWithDefault(m, "prism")
	restore()
	os.Exit(code)
}

// runPipeline builds a pipeline with build and runs it (on Prism unless
// --runner says otherwise); an error from either fails tb.
func runPipeline(tb testing.TB, build func(s beam.Scope) error) {
	tb.Helper()
	pl, s := beam.NewPipelineWithRoot()
	if err := build(s); err != nil {
		tb.Fatal(err)
	}
	if err := ptest.Run(pl); err != nil {
		tb.Fatal(err)
	}
}
