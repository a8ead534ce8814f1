package stage

import (
	"testing"

	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
)

// The tests run their pipelines on Prism (--runner overrides it) and compare
// what they write with what the single-machine risklane commands write on
// the same generated data (package reftest builds that binary).
func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }
