package rules

import (
	"strconv"
	"strings"

	"risklane/features"
	"risklane/pipeline/score"
)

// A Namer tells rules how to write features for an officer. Feature f is
// the model's feature (column) index.
type Namer interface {
	// Name is the feature's column name, as the model and the data call it
	// ("log_uv_kg"); it is what JSON output gives machines.
	Name(f int) string
	// Phrase names what the feature measures, for people: "value per kg".
	Phrase(f int) string
	// Format writes value v of the feature in the units people know: a log
	// unit value as the unit value, a share as a percentage, a code as the
	// code. It must not decrease as v grows, so that a threshold keeps its
	// direction.
	Format(f int, v float64) string
	// IsCode reports whether the feature's values are codes (an HS heading,
	// a label-encoded attribute) rather than amounts: its conditions are
	// written as sets of codes.
	IsCode(f int) bool
}

// Names returns a Namer for features with these column names, phrased by
// the sentence table of the reasons (package risklane/pipeline/score), so a
// rule and a reason call a feature the same. A name the table does not know
// is used as it is, its values written as plain numbers; a feature without a
// name is called f0, f1, ... as in XGBoost.
func Names(names []string) Namer {
	t := &table{names: names, terms: make([]score.Term, len(names))}
	for f, n := range names {
		t.terms[f], _ = score.TermOf(n)
	}
	return t
}

// FeatureNamer returns the Namer of a fitted feature layer: Names of its
// feature names, and its label-encoded attributes (code_extra_channel)
// written as the attribute's values ("channel in {R, Y}") through the
// state's code tables.
func FeatureNamer(st *features.State) Namer {
	t := Names(st.Names()).(*table)
	for f, n := range t.names {
		labels := st.Labels(f)
		if labels == nil {
			continue
		}
		t.terms[f] = score.Term{Phrase: strings.TrimPrefix(n, "code_extra_"), Code: true, Value: func(v float64) string {
			if c := int(v); float64(c) == v && c >= 0 && c < len(labels) {
				if labels[c] == "" {
					return "(blank)"
				}
				return labels[c]
			}
			return score.FormatNumber(v)
		}}
	}
	return t
}

// table is a Namer from one term per feature.
type table struct {
	names []string
	terms []score.Term
}

func (t *table) known(f int) bool { return f >= 0 && f < len(t.names) }

func (t *table) Name(f int) string {
	if t.known(f) {
		return t.names[f]
	}
	return "f" + strconv.Itoa(f)
}

func (t *table) Phrase(f int) string {
	if t.known(f) {
		return t.terms[f].Phrase
	}
	return t.Name(f)
}

func (t *table) Format(f int, v float64) string {
	if t.known(f) {
		return t.terms[f].Value(v)
	}
	return score.FormatNumber(v)
}

func (t *table) IsCode(f int) bool { return t.known(f) && t.terms[f].Code }
