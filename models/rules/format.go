package rules

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"risklane/features"
)

// maxListed is the most codes a condition names one by one; beyond that it
// names the few codes it leaves out, or the range its codes span.
const maxListed = 5

// maxJSONCodes is the most codes a JSON condition lists on either side.
const maxJSONCodes = 100

// Format writes the condition for people, with n naming the feature:
// "value per kg < 1,240", "1,240 <= value per kg < 3,000", "HS4 = 8703",
// "HS4 in {8703, 8704}", "channel not in {G}", "HS6 from 870321 to 870390
// (14 codes)", "channel in {A, B, C, D, E, ...} (9 codes)"; "(or missing)" follows when a missing value meets it too
// (and some row has one), and a condition only missing values meet reads
// "value per kg missing".
func (c Condition) Format(n Namer) string {
	phrase := n.Phrase(c.Feature)
	if c.empty() && c.Missing {
		return phrase + " missing"
	}
	var s string
	if c.Code {
		s = c.codes(n, phrase)
	}
	if s == "" {
		f := func(v float64) string { return n.Format(c.Feature, v) }
		switch {
		case math.IsInf(c.Lo, -1):
			s = phrase + " < " + f(c.Hi)
		case math.IsInf(c.Hi, 1):
			s = phrase + " >= " + f(c.Lo)
		default:
			s = f(c.Lo) + " <= " + phrase + " < " + f(c.Hi)
		}
	}
	if c.Missing && !c.NoneMissing {
		s += " (or missing)"
	}
	return s
}

// codes writes a code condition from its lists, or returns "" when they
// cannot say it (no code of the data lies in the interval). Few codes are
// listed; failing that, the few codes left out; failing that, ordered codes
// read as a range and labels as the shorter list, cut after five codes when
// it has more than seven.
func (c Condition) codes(n Namer, phrase string) string {
	list := func(vs []float64) string {
		shown := vs
		if len(vs) > maxListed+2 {
			shown = vs[:maxListed]
		}
		parts := make([]string, len(shown), len(shown)+1)
		for i, v := range shown {
			parts[i] = n.Format(c.Feature, v)
		}
		if len(shown) < len(vs) {
			parts = append(parts, "...")
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	count := func(vs []float64) string {
		if len(vs) <= maxListed+2 {
			return ""
		}
		return " (" + features.FormatNumber(float64(len(vs))) + " codes)"
	}
	switch in, out := len(c.In), len(c.Out); {
	case in == 0:
		return ""
	case in == 1:
		return phrase + " = " + n.Format(c.Feature, c.In[0])
	case in <= maxListed:
		return phrase + " in " + list(c.In)
	case out == 0:
		return phrase + " any"
	case out <= maxListed:
		return phrase + " not in " + list(c.Out)
	case n.Kind(c.Feature) == Code:
		return phrase + " from " + n.Format(c.Feature, c.In[0]) + " to " + n.Format(c.Feature, c.In[in-1]) +
			" (" + features.FormatNumber(float64(in)) + " codes)"
	case in <= out:
		return phrase + " in " + list(c.In) + count(c.In)
	}
	return phrase + " not in " + list(c.Out) + count(c.Out)
}

// Text writes the rule's conditions joined by "and"; a rule without
// conditions (a tree of one leaf) reads "every declaration".
func (r Rule) Text(n Namer) string {
	if len(r.Conditions) == 0 {
		return "every declaration"
	}
	parts := make([]string, len(r.Conditions))
	for i, c := range r.Conditions {
		parts[i] = c.Format(n)
	}
	return strings.Join(parts, " and ")
}

// Format writes the rule and its measures for people:
//
//	HS4 = 8703 and value per kg < 1,240  ->  support 312 (0.8%), fraud rate 71% (lift 3.3)
func (r Rule) Format(n Namer) string {
	return r.Text(n) + "  ->  support " + features.FormatNumber(float64(r.Support)) + " (" + features.FormatPercent(r.SupportShare) +
		"), fraud rate " + features.FormatPercent(r.FraudRate) + " (lift " + formatLift(r.Lift) + ")"
}

// String formats the rule with the Namer Extract was given.
func (r Rule) String() string { return r.Format(r.names()) }

func (r Rule) names() Namer {
	if r.namer == nil {
		return Names(nil)
	}
	return r.namer
}

// formatLift gives one decimal, two below 1 where one would blur 0.44 and
// 0.36 into 0.4.
func formatLift(l float64) string {
	if l < 1 {
		return strconv.FormatFloat(l, 'f', 2, 64)
	}
	return strconv.FormatFloat(l, 'f', 1, 64)
}

type jsonCondition struct {
	Feature int      `json:"feature"`
	Name    string   `json:"name"`
	Text    string   `json:"text"`
	Min     *float64 `json:"min,omitempty"`
	Max     *float64 `json:"max,omitempty"`
	Missing bool     `json:"missing"`
	In      []string `json:"in,omitempty"`
	NotIn   []string `json:"not_in,omitempty"`
}

type jsonRule struct {
	Text         string          `json:"text"`
	Conditions   []jsonCondition `json:"conditions"`
	Support      int             `json:"support"`
	SupportShare float64         `json:"support_share"`
	Illicit      int             `json:"illicit"`
	FraudRate    float64         `json:"fraud_rate"`
	Lift         float64         `json:"lift"`
	Score        float64         `json:"score"`
	Value        float64         `json:"leaf_value"`
	Tree         int             `json:"tree"`
	Leaf         int             `json:"leaf"`
	Similar      int             `json:"similar"`
}

// MarshalJSON writes the rule for machines: its text, its conditions (the
// feature's column name, the bounds in the feature's own units, which
// compare as "min <= value < max" in float32, and for a code feature the
// codes inside and outside when there are at most 100 of them), and its
// measures.
func (r Rule) MarshalJSON() ([]byte, error) {
	n := r.names()
	out := jsonRule{Text: r.Text(n), Conditions: make([]jsonCondition, len(r.Conditions)), Support: r.Support,
		SupportShare: r.SupportShare, Illicit: r.Illicit, FraudRate: r.FraudRate, Lift: r.Lift, Score: r.Score,
		Value: r.Value, Tree: r.Tree, Leaf: r.Leaf, Similar: r.Similar}
	for i, c := range r.Conditions {
		jc := jsonCondition{Feature: c.Feature, Name: n.Name(c.Feature), Text: c.Format(n), Missing: c.Missing}
		if !math.IsInf(c.Lo, 0) {
			jc.Min = &c.Lo
		}
		if !math.IsInf(c.Hi, 0) {
			jc.Max = &c.Hi
		}
		labels := func(vs []float64) []string {
			if len(vs) == 0 || len(vs) > maxJSONCodes {
				return nil
			}
			s := make([]string, len(vs))
			for k, v := range vs {
				s[k] = n.Format(c.Feature, v)
			}
			return s
		}
		jc.In, jc.NotIn = labels(c.In), labels(c.Out)
		out.Conditions[i] = jc
	}
	return json.Marshal(out)
}
