package rules_test

import (
	"fmt"
	"math"

	"risklane/models/gbdt"
	"risklane/models/rules"
	"risklane/models/xgb"
)

// A one-tree model over an HS heading and a log unit value, measured on
// eight declarations: the rules name the headings and show the threshold of
// the log unit value as a value per kg. The clean rule of one row ranks
// above the clean rule of three (z-scores -0.77 and -1.34 at a base rate of
// 3/8), and no declaration lacks its heading, so "(or missing)" is said only
// of the unit value.
func Example() {
	// Node 0: hs4 < 8704 (missing right); node 1: log_uv_kg < log(1,240)
	// (missing left). Children of node n are at Left[n] and Left[n]+1.
	t := xgb.Tree{
		Left:           []int32{1, 3, -1, -1, -1},
		Right:          []int32{2, 4, -1, -1, -1},
		Parent:         []int32{-1, 0, 0, 1, 1},
		SplitIndex:     []int32{0, 1, 0, 0, 0},
		SplitCondition: []float32{8704, float32(math.Log(1240)), -0.2, 0.6, -0.1},
		DefaultLeft:    []bool{false, true, false, false, false},
		BaseWeight:     make([]float32, 5),
		LossChange:     make([]float32, 5),
		SumHessian:     make([]float32, 5),
	}
	m := &xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: 0.5, NumFeature: 2, Trees: []xgb.Tree{t}}
	X := &gbdt.Matrix{Rows: 8, Names: []string{"hs4", "log_uv_kg"}, Cols: [][]float64{
		{8703, 8703, 8703, 8703, 8517, 8708, 8708, 8708},
		{math.Log(900), math.Log(1000), math.Log(400), math.Log(5000), math.NaN(), math.Log(2000), math.Log(300), math.Log(800)},
	}}
	y := []float64{1, 1, 0, 0, 1, 0, 0, 0}
	rs, err := rules.Extract(m, X, y, rules.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rs {
		fmt.Println(r)
	}
	// Output:
	// HS4 in {8517, 8703} and value per kg < 1,240 (or missing)  ->  support 4 (50%), fraud rate 75% (lift 2.0)
	// HS4 in {8517, 8703} and value per kg >= 1,240  ->  support 1 (12%), fraud rate 0% (lift 0.00)
	// HS4 = 8708  ->  support 3 (38%), fraud rate 0% (lift 0.00)
}
