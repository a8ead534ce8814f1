package rank

import (
	"math/rand/v2"
	"testing"
)

// TestCutRankMatchesApply checks that placing each sorted row with
// Draws.Rank gives the order Apply makes in place.
func TestCutRankMatchesApply(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 19, 100, 1000, 4097} {
		for _, p := range []Plan{DefaultPlan(), {Budget: Percent(30), Yellow: Percent(20), Explore: Percent(50), Seed: 9},
			{Budget: Rows(7), Yellow: Rows(3), Explore: Rows(7), Seed: 2}, {Budget: Percent(0), Yellow: Percent(10)}} {
			keys := make([]Key, n)
			for i := range keys {
				keys[i] = MakeKey(float32(r.IntN(50)), uint32(i))
			}
			sorted := Sort(keys, make([]Key, n))
			placed := make([]Key, n)
			lanes, draws, err := p.Cut(n)
			if err != nil {
				t.Fatal(err)
			}
			for pos, k := range sorted {
				placed[draws.Rank(pos)] = k
			}
			applied, err := p.Apply(sorted)
			if err != nil {
				t.Fatal(err)
			}
			if applied != lanes {
				t.Fatalf("n=%d %+v: Apply lanes %+v, Cut lanes %+v", n, p, applied, lanes)
			}
			for i := range sorted {
				if placed[i] != sorted[i] {
					t.Fatalf("n=%d %+v: rank %d is %v by Draws.Rank, %v by Apply", n, p, i, placed[i], sorted[i])
				}
			}
		}
	}
}
