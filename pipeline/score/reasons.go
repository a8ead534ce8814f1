package score

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
	"risklane/features"
	"risklane/models/explain"
)

// Reasons are worded by the feature groups that make the features
// (features.Phrase: package features for the core groups, each plug-in group
// for its own); a feature no phrase matches still gets the generic
// "<feature> = <value> raises the risk".

// Reasoner writes the reasons of a row from its strongest positive
// contributions. It is safe for concurrent use.
type Reasoner struct {
	// Max is the number of reasons per row (default 3).
	Max   int
	names []string
	say   []func(features.Fact) string
	// topicOf is each feature's topic; members lists each topic's features,
	// the one that speaks for it first.
	topicOf []int
	members [][]int
	quoted  []string
}

// NewReasoner matches every feature name against the phrases once.
func NewReasoner(featureNames []string) *Reasoner {
	r := &Reasoner{Max: 3, names: featureNames, say: make([]func(features.Fact) string, len(featureNames)),
		topicOf: make([]int, len(featureNames)), quoted: slices.Clone(features.QuotedColumns)}
	for _, name := range featureNames {
		if _, col, ok := strings.Cut(name, "_extra_"); ok && !slices.Contains(r.quoted, col) {
			r.quoted = append(r.quoted, col)
		}
	}
	phrases := features.Phrases()
	rankInTable := make([]int, len(featureNames))
	topics := map[string]int{}
	for f, name := range featureNames {
		rankInTable[f] = len(phrases)
		topic := "feature:" + name
		if p, k, ok := features.PhraseOf(phrases, name); ok {
			r.say[f], rankInTable[f] = p.Say, k
			if p.Topic != "" {
				topic = p.Topic
			}
		}
		id, ok := topics[topic]
		if !ok {
			id = len(r.members)
			topics[topic] = id
			r.members = append(r.members, nil)
		}
		r.topicOf[f] = id
		r.members[id] = append(r.members[id], f)
	}
	for _, m := range r.members {
		slices.SortStableFunc(m, func(a, b int) int { return cmp.Compare(rankInTable[a], rankInTable[b]) })
	}
	return r
}

// sentence returns the reason feature f, of value v, gives for row i of the
// batch row is bound to.
func (r *Reasoner) sentence(row quoted, i, f int, v float64) string {
	if math.IsNaN(v) {
		return r.names[f] + " missing raises the risk"
	}
	if s := r.say[f]; s != nil {
		return s(features.Fact{Name: r.names[f], V: v, Row: rowAt{row, i}})
	}
	return r.names[f] + " = " + features.FormatNumber(v) + " raises the risk"
}

// rowAt is row i of a quoted batch, as a phrase reads it.
type rowAt struct {
	q quoted
	i int
}

func (r rowAt) Str(col string) string { return r.q.str(r.i, col) }

// NoReason is the reason of a red or yellow row none of whose features
// pushes its score above the model's average (a wide budget reaches such
// rows).
const NoReason = "no feature raises the risk above the average declaration"

// reasonScratch is one goroutine's working space for appendReasons.
type reasonScratch struct {
	topic []float64
	top   []int
}

// appendReasons appends, joined by "; ", the sentences of the Max topics
// whose features' contributions (contrib, per feature) add up to the most
// risk, for row i of the batch row is bound to; x is that row's features.
func (r *Reasoner) appendReasons(dst []byte, sc *reasonScratch, row quoted, i int, x, contrib []float64) []byte {
	if cap(sc.topic) < len(r.members) {
		sc.topic = make([]float64, len(r.members))
	}
	sc.topic = sc.topic[:len(r.members)]
	clear(sc.topic)
	for f, c := range contrib {
		sc.topic[r.topicOf[f]] += c
	}
	sc.top = explain.Top(sc.topic, r.Max, sc.top)
	if len(sc.top) == 0 {
		return append(dst, NoReason...)
	}
	for k, t := range sc.top {
		if k > 0 {
			dst = append(dst, "; "...)
		}
		f := -1
		for _, m := range r.members[t] {
			if !math.IsNaN(x[m]) && contrib[m] > 0 {
				f = m
				break
			}
		}
		for _, m := range r.members[t] {
			if f < 0 && !math.IsNaN(x[m]) {
				f = m
			}
		}
		if f < 0 {
			f = r.members[t][0]
		}
		dst = append(dst, r.sentence(row, i, f, x[f])...)
	}
	return dst
}

// quoted gives the raw string columns phrases quote: features.QuotedColumns and
// the extra attributes, for row i ("?" when absent or null).
type quoted interface {
	str(i int, col string) string
}

// Quoted returns the raw columns the reasons of these features may quote.
func (r *Reasoner) Quoted() []string { return r.quoted }

// rowView reads the raw string columns phrases quote from one batch,
// looking each column up once per batch.
type rowView struct {
	rec  arrow.RecordBatch
	cols map[string]*array.String
}

func (v *rowView) bind(rec arrow.RecordBatch) {
	v.rec = rec
	clear(v.cols)
}

// str returns the string column name at row i, or "?" when absent or null.
func (v *rowView) str(i int, name string) string {
	s, ok := v.value(i, name)
	if !ok {
		return "?"
	}
	return s
}

// value returns the string column name at row i, trimmed, and false when
// absent or null.
func (v *rowView) value(i int, name string) (string, bool) {
	c, ok := v.cols[name]
	if !ok {
		if v.cols == nil {
			v.cols = map[string]*array.String{}
		}
		if a, ok := decl.Field(v.rec, name); ok {
			c, _ = a.(*array.String)
		}
		v.cols[name] = c
	}
	if c == nil || c.IsNull(i) {
		return "", false
	}
	return strings.TrimSpace(c.Value(i)), true
}

// spillRow is the quoted columns of one candidate record.
type spillRow struct {
	cols []string
	vals []string
}

func (r *spillRow) str(_ int, col string) string {
	for k, c := range r.cols {
		if c == col {
			if r.vals[k] == "" {
				return "?"
			}
			return r.vals[k]
		}
	}
	return "?"
}
