package gbdt_test

import (
	"fmt"
	"math"

	"risklane/models/gbdt"
)

func ExampleTrain() {
	// Declarations declared below 50 per kg are fraudulent; unit values are
	// sometimes missing.
	n := 200
	unitValue := make([]float64, n)
	fraud := make([]float64, n)
	for i := range n {
		unitValue[i] = float64(i % 100)
		if unitValue[i] < 50 {
			fraud[i] = 1
		}
		if i%10 == 3 {
			unitValue[i] = math.NaN()
		}
	}
	X := &gbdt.Matrix{Rows: n, Cols: [][]float64{unitValue}, Names: []string{"unit_value"}}

	p := gbdt.DefaultParams()
	p.NumRounds, p.MaxDepth = 10, 2
	model, report, err := gbdt.Train(X, fraud, nil, nil, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	root := model.Trees[0]
	fmt.Printf("%d trees; first split: %s < %v (missing goes left: %v)\n",
		len(model.Trees), model.FeatureNames[root.SplitIndex[0]], root.SplitCondition[0], root.DefaultLeft[0])
	fmt.Printf("training %s: %.3f -> %.3f\n", report.Metric, report.Train[0], report.Train[len(report.Train)-1])
	// Output:
	// 10 trees; first split: unit_value < 50 (missing goes left: false)
	// training logloss: 0.471 -> 0.098
}
