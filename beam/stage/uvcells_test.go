package stage

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"risklane/features"
)

// TestUVCellsGiveEveryReferenceItsValues reports rows' unit values as
// features.Tally.Add does (a row's global reference, then its others),
// cuts them into cells and chunks of a few values, and wants every
// reference to get back exactly the values reported under it, and every
// chunk's references in the chapter of its shuffle key.
func TestUVCellsGiveEveryReferenceItsValues(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, limit := range []int{1, 7, DefaultChunk} {
		want := map[features.UnitValueKey][]float64{}
		got := map[features.UnitValueKey][]float64{}
		var chunks int
		c := newUVCells(limit, func(sh string, b []byte) {
			chunks++
			vals := map[features.UnitValueKey][]float64{}
			if err := addCells(vals, b); err != nil {
				t.Fatal(err)
			}
			for k, xs := range vals {
				basis, chapter, _ := strings.Cut(sh, "/")
				if k.Basis != basis || (k.Level == globalLevel) != (chapter == globalLevel) ||
					(k.Level != globalLevel && !strings.HasPrefix(k.A, chapter)) {
					t.Fatalf("reference %+v under shuffle key %s", k, sh)
				}
				got[k] = append(got[k], xs...)
			}
		})
		report := func(k features.UnitValueKey, x float64) {
			want[k] = append(want[k], x)
			c.add(k, x)
		}
		for batch := range 3 {
			for _, basis := range []string{"kg", "unit"} {
				for range 500 + batch {
					x := r.NormFloat64()
					hs6 := []string{"010121", "010129", "020110", "870321"}[r.IntN(4)]
					origin := []string{"KEN", "CHN", ""}[r.IntN(3)]
					report(features.UnitValueKey{Basis: basis, Level: globalLevel}, x)
					if r.IntN(10) == 0 {
						continue // a row with the global reference only
					}
					report(features.UnitValueKey{Basis: basis, Level: "hs6", A: hs6}, x)
					report(features.UnitValueKey{Basis: basis, Level: "hs4", A: hs6[:4]}, x)
					report(features.UnitValueKey{Basis: basis, Level: "hs2", A: hs6[:2]}, x)
					if origin != "" {
						report(features.UnitValueKey{Basis: basis, Level: "hs6_origin", A: hs6, B: origin}, x)
					}
				}
			}
			c.close() // the end of a batch, as tallyFileFn reads them
		}
		if err := c.finish(); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("chunk %d: %d references, want %d", limit, len(got), len(want))
		}
		for k, xs := range want {
			g := got[k]
			slices.Sort(g)
			slices.Sort(xs)
			if !slices.Equal(g, xs) {
				t.Fatalf("chunk %d: reference %+v: %d values, want %d (or different values)", limit, k, len(g), len(xs))
			}
		}
		if limit == 1 && chunks < 1000 {
			t.Fatalf("chunk 1 gave %d chunks", chunks)
		}
	}
	// A reference that does not follow its row's global one is an error,
	// not a value put in the wrong cell.
	c := newUVCells(0, func(string, []byte) {})
	c.add(features.UnitValueKey{Basis: "kg", Level: globalLevel}, 1)
	c.add(features.UnitValueKey{Basis: "kg", Level: "hs6", A: "010121"}, 2)
	if err := c.finish(); err == nil {
		t.Fatal("a reference with another value than its row's global one was accepted")
	}
}

// TestClusterRowsRoundTrip: a chunk of cluster rows decodes to the rows
// encoded, NaNs, missing HS6 codes and large row numbers included, and a
// cut chunk is an error.
func TestClusterRowsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var rows []clusterRow
	ord := int64(1 << 40)
	for range 1000 {
		ord += int64(r.IntN(1000))
		row := clusterRow{File: 7, Ord: ord, HS6: int32(r.IntN(1_000_000)) - 1, Value: r.ExpFloat64(), Mass: r.NormFloat64(), Qty: math.NaN()}
		if r.IntN(2) == 0 {
			row.Mass, row.Qty = math.Inf(1), r.Float64()
		}
		rows = append(rows, row)
	}
	b := encodeClusterRows(rows)
	got, err := decodeClusterRows(b, []clusterRow{{File: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows)+1 {
		t.Fatalf("%d rows, want %d", len(got)-1, len(rows))
	}
	bits := math.Float64bits
	for i, w := range rows {
		g := got[i+1]
		if g.File != w.File || g.Ord != w.Ord || g.HS6 != w.HS6 || bits(g.Value) != bits(w.Value) || bits(g.Mass) != bits(w.Mass) || bits(g.Qty) != bits(w.Qty) {
			t.Fatalf("row %d: %+v, want %+v", i, g, w)
		}
	}
	if _, err := decodeClusterRows(b[:len(b)-3], nil); err == nil {
		t.Fatal("a cut chunk decoded")
	}
}
