package mirror

import (
	"risklane/features"
)

// Phrases words the mirror features for officers (features.Worded): the reasons of a
// ranked row and the conditions of a rule.
func (s *Feature) Phrases() []features.Phrase { return phrases }

var phrases = []features.Phrase{
	{Pattern: "*mirror_rel_gap", Topic: "mirror", Say: func(f features.Fact) string {
		return "partners report " + features.FormatPercent(f.V) + " more HS " + f.HS(6) + " trade from " + f.Origin() + " than is declared"
	}, Term: features.Fixed("partner-reported trade above what is declared", features.FormatPercent)},
	{Pattern: "*mirror_uv_ratio", Topic: "mirror", Say: func(f features.Fact) string {
		return features.Relative("unit value", f.V, "the partner-reported unit value of HS "+f.HS(6)+" from "+f.Origin())
	}, Term: features.Fixed("unit value as a share of the partner-reported unit value", features.FormatPercent)},
	{Pattern: "*mirror_revenue_share", Topic: "mirror", Say: func(f features.Fact) string {
		return "the HS " + f.HS(6) + " trade gap with " + f.Origin() + " is " + features.FormatPercent(f.V) + " of its revenue"
	}, Term: features.Fixed("trade gap with its origin as a share of its revenue", features.FormatPercent)},
}
