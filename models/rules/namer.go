package rules

import (
	"strconv"
	"strings"

	"risklane/features"
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
	// Kind says how the feature's values read: as amounts compared by size,
	// as codes in a meaningful order (an HS heading, a month), or as labels
	// whose codes carry no order (a label-encoded attribute). The conditions
	// of codes and labels are written as sets of the codes the data has.
	Kind(f int) Kind
}

// Kind is how the values of a feature read.
type Kind uint8

// Kinds of feature.
const (
	Amount Kind = iota // compared by size: "value per kg < 1,240"
	Code               // codes in order: "HS4 = 8703", "HS6 from 870321 to 870390 (14 codes)"
	Label              // codes in no order: "channel in {R, Y}"
)

// Names returns a Namer for features with these column names, phrased by
// the sentence table of the reasons (package risklane/pipeline/score), so a
// rule and a reason call a feature the same. A name the table does not know
// is used as it is, its values written as plain numbers; a feature without a
// name is called f0, f1, ... as in XGBoost.
func Names(names []string) Namer {
	t := &table{names: names, terms: make([]features.Term, len(names))}
	for f, n := range names {
		t.terms[f], _ = features.TermOf(n)
	}
	return t
}

// FeatureNamer returns the Namer of a fitted feature layer: Names of its
// feature names, and its label-encoded attributes (code_extra_channel)
// written as the attribute's values ("channel in {R, Y}") through the
// state's code tables.
func FeatureNamer(st *features.State) Namer {
	t := Names(st.Names()).(*table)
	t.labels = make([]bool, len(t.names))
	for f, n := range t.names {
		labels := st.Labels(f)
		if labels == nil {
			continue
		}
		t.labels[f] = true
		t.terms[f] = features.Term{Phrase: strings.TrimPrefix(n, "code_extra_"), Code: true, Value: func(v float64) string {
			if c := int(v); float64(c) == v && c >= 0 && c < len(labels) {
				if labels[c] == "" {
					return "(blank)"
				}
				return labels[c]
			}
			return features.FormatNumber(v)
		}}
	}
	return t
}

// table is a Namer from one term per feature.
type table struct {
	names  []string
	terms  []features.Term
	labels []bool // per feature: a label-encoded attribute
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
	return features.FormatNumber(v)
}

func (t *table) Kind(f int) Kind {
	switch {
	case !t.known(f) || !t.terms[f].Code:
		return Amount
	case t.labels != nil && t.labels[f]:
		return Label
	}
	return Code
}
