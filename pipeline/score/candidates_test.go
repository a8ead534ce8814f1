package score

import (
	"math/rand/v2"
	"slices"
	"testing"

	"risklane/pipeline/rank"
)

// Played out one row at a time, as workers and collector would with no
// delay: with a bound on the row count, every row of the final top K is
// kept whatever the input order; without one, in a random order. A random
// order keeps far fewer rows than all.
func TestCandidatesKeepTheTop(t *testing.T) {
	const n = 200000
	explained := rank.DefaultPlan().Explained // 15% of the rows
	r := rand.New(rand.NewPCG(1, 2))
	scores := make([]float32, n)
	for i := range scores {
		scores[i] = r.Float32()
	}
	for _, tc := range []struct {
		order string
		hint  int
	}{{"random", 0}, {"random", n}, {"best last", n}, {"best first", n}, {"best last", 0}} {
		order := tc.order
		s := slices.Clone(scores)
		switch order {
		case "best last":
			slices.Sort(s)
		case "best first":
			slices.Sort(s)
			slices.Reverse(s)
		}
		keys := make([]rank.Key, n)
		for i, v := range s {
			keys[i] = rank.MakeKey(v, uint32(i))
		}
		c := newCandidates(explained, tc.hint)
		kept := map[rank.Key]bool{}
		for i, k := range keys {
			keep := uint64(k) < c.threshold.Load()
			c.seen(i + 1)
			if keep {
				kept[k] = true
				c.offer(k)
			}
		}
		sorted := rank.Sort(slices.Clone(keys), make([]rank.Key, n))
		for rk, k := range sorted[:explained(n)] {
			if !kept[k] {
				t.Fatalf("%s, hint %d: rank %d was not kept", order, tc.hint, rk+1)
			}
		}
		t.Logf("%s, hint %d: kept %.1f%% of the rows", order, tc.hint, 100*float64(len(kept))/n)
		if order == "random" && len(kept) > n/2 {
			t.Errorf("random order kept %d of %d rows", len(kept), n)
		}
		// The heap holds the best keys of all, worst on top.
		if k := sorted[len(c.heap)-1]; c.heap[0] != k {
			t.Errorf("%s: heap of %d, top %v; want %v", order, len(c.heap), c.heap[0], k)
		}
	}
}
