package scorer

import (
	"math"
	"testing"
	"unsafe"

	"risklane/models/xgb"
	"risklane/models/xgb/xgbtest"
)

// edgeCaseForest returns a random 60-tree depth-8 classifier (modelSeed) and
// nrows rows of nfeat features (rowSeed, 15% missing) in which every fifth
// value lies exactly at one of the forest's thresholds and every fifth after
// it is ±0, ±Inf or NaN: the rows the walks must agree on.
func edgeCaseForest(modelSeed, rowSeed uint64, nrows, nfeat int) (*xgb.Model, []float64) {
	m := xgbtest.RandomModel(modelSeed, "binary:logistic", 60, 8, nfeat)
	rows := xgbtest.Rows(rowSeed, nrows, nfeat, 0.15)
	var thresholds []float32
	for i := range m.Trees {
		thresholds = append(thresholds, m.Trees[i].SplitCondition...)
	}
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN()}
	for i := range rows {
		switch i % 5 {
		case 0:
			rows[i] = float64(thresholds[(i*7919)%len(thresholds)])
		case 1:
			rows[i] = special[(i/5)%len(special)]
		}
	}
	return m, rows
}

// TestWalkGroupLikeGo: the walk the engine uses (assembly on amd64) ends
// every row at the node walkGroupGo, the Go reference, ends it at, on a
// random forest with missing values, values exactly at thresholds, ±0, ±Inf
// and the negated columns of default-left nodes. On other architectures
// walkGroup is walkGroupGo and the test passes trivially.
func TestWalkGroupLikeGo(t *testing.T) {
	const nfeat, nrows = 9, 2000
	m, rows := edgeCaseForest(5, 6, nrows, nfeat)
	f := newForest(m)
	b := f.newBuf()
	steps := 0
	for lo := 0; lo < nrows; lo += f.blockRows {
		hi := min(lo+f.blockRows, nrows)
		n := f.load(b, rows, lo, hi)
		xp := unsafe.Pointer(unsafe.SliceData(b.x))
		for k, root := range f.roots {
			np := unsafe.Pointer(&f.nodes[root])
			for r := 0; r+group <= n; r += group {
				for _, depth := range []int{0, 1, int(f.depth[k]), int(f.depth[k]) + 2} {
					var got, want [group]uint32
					walkGroup(np, unsafe.Add(xp, r*4), depth, &got)
					walkGroupGo(np, unsafe.Add(xp, r*4), depth, &want)
					if got != want {
						t.Fatalf("rows %d+, tree %d, depth %d: walkGroup ends at %v, walkGroupGo at %v", lo+r, k, depth, got, want)
					}
					steps++
				}
			}
		}
	}
	if steps == 0 {
		t.Fatal("nothing compared")
	}
}

// TestWalkSumLikeGo: the summing walk the engine uses for margins (assembly
// on amd64) leaves every row's sum bit for bit where walkSumGo, the Go
// reference, leaves it, for every tree, starting from the base margin and
// from sums of earlier trees, on the rows of TestWalkGroupLikeGo (missing
// values, values at thresholds, ±0, ±Inf), for 0, 1 and all groups of a
// block and depths 0, 1, the tree's and two past it.
func TestWalkSumLikeGo(t *testing.T) {
	const nfeat, nrows = 9, 2000
	m, rows := edgeCaseForest(7, 8, nrows, nfeat)
	f := newForest(m)
	b := f.newBuf()
	compared := 0
	for lo := 0; lo < nrows; lo += f.blockRows {
		hi := min(lo+f.blockRows, nrows)
		n := f.load(b, rows, lo, hi)
		xp := unsafe.Pointer(unsafe.SliceData(b.x))
		for _, groups := range []int{0, 1, n / group} {
			got := make([]float32, n+group) // a guard group past the end
			want := make([]float32, n+group)
			for i := range got {
				got[i], want[i] = f.base, f.base
			}
			for k, root := range f.roots {
				np := unsafe.Pointer(&f.nodes[root])
				for _, depth := range []int{0, 1, int(f.depth[k]), int(f.depth[k]) + 2} {
					walkSum(np, xp, depth, unsafe.Pointer(&got[0]), groups)
					walkSumGo(np, xp, depth, unsafe.Pointer(&want[0]), groups)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("rows %d+, %d groups, tree %d, depth %d: row %d sums to %v, walkSumGo %v", lo, groups, k, depth, i, got[i], want[i])
						}
					}
					compared++
				}
			}
			for i := groups * group; i < len(got); i++ {
				if got[i] != f.base {
					t.Fatalf("rows %d+, %d groups: row %d past the groups changed to %v", lo, groups, i, got[i])
				}
			}
		}
	}
	if compared == 0 {
		t.Fatal("nothing compared")
	}
}
