package metrics_test

import (
	"fmt"

	"risklane/models/metrics"
)

func ExampleEvaluate() {
	scores := []float64{0.9, 0.8, 0.7, 0.4, 0.3, 0.2}
	labels := []int8{1, 0, metrics.Unknown, 1, 0, 0}
	revenue := []float64{500, 0, 0, 120, 0, 0}
	rep, err := metrics.Evaluate(scores, labels, revenue, []float64{20, 50}, 0.5)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(rep)
	// Output:
	// rows 6: 5 labelled (2 illicit), 1 unlabelled; AUC 0.8333
	// threshold 0.5: precision 0.5000  recall 0.5000  F1 0.5000
	// rate  k  illicit  precision  recall  revenue
	// 20%   1  1        1.0000     0.5000  0.8065
	// 50%   3  2        0.6667     1.0000  1.0000
}
