package pricecluster

import (
	"math"

	"risklane/features"
)

// Phrases words the price-cluster features for officers (features.Worded):
// the reasons of a ranked row and the conditions of a rule.
func (s *Signal) Phrases() []features.Phrase { return phrases }

var phrases = []features.Phrase{
	{Pattern: "*uv_low_cluster", Topic: "cluster", Say: func(f features.Fact) string {
		if f.V >= 0.5 {
			return "unit value in the lowest price cluster of HS " + f.HS(6)
		}
		return "unit value outside the lowest price cluster of HS " + f.HS(6)
	}, Term: features.CodeTerm("unit value in the lowest price cluster of its HS6", features.YesNo)},
	{Pattern: "*uv_cluster_rank", Topic: "cluster", Say: func(f features.Fact) string {
		return "unit value in price cluster " + features.FormatNumber(f.V) + " of HS " + f.HS(6) + " (0 is the cheapest)"
	}, Term: features.CodeTerm("price cluster of its HS6 (0 is the cheapest)", features.FormatNumber)},
	// uv_log_dist_median is the distance to the median of the row's whole
	// price group (its HS6, or the HS4 heading or all rows a sparse code
	// falls back to), not to the median of its cluster.
	{Pattern: "*uv_log_dist_median", Topic: "cluster", Say: func(f features.Fact) string {
		return features.Relative("unit value", math.Exp(f.V), "the HS "+f.HS(6)+" median")
	}, Term: features.Fixed("unit value as a share of its HS6 median", func(v float64) string { return features.FormatPercent(math.Exp(v)) })},
	{Pattern: "*uv_percentile", Topic: "cluster", Say: func(f features.Fact) string {
		return "unit value at the " + features.Ordinal(f.V) + " percentile of HS " + f.HS(6)
	}, Term: features.Fixed("percentile of the unit value in its HS6", features.FormatNumber)},
}
