package modeltest

import (
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/internal/testenv"
)

// KCS reads name (train.csv or valid.csv) of the shared labelled KCS data
// with the kcs profile, skipping t where the data is absent
// (testenv.SharedData). Every row must be read: a rejected row fails t.
func KCS(t testing.TB, name string) []arrow.RecordBatch {
	t.Helper()
	path := testenv.SharedData(t, filepath.Join("kcs", name))
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
