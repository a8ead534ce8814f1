package score

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/pipeline/decl"
)

// A template turns one feature's value, and the raw row it came from, into a
// sentence an officer reads. Templates are matched on the feature's name
// (path.Match patterns, first match wins), so a new feature gets a sentence
// by adding a line to the table, and a feature no line matches still gets the
// generic one.
type template struct {
	pattern string
	say     func(v float64, row *rowView, i int) string
}

// templates is the table of sentences, by feature name.
var templates = []template{
	{"unit_value_ratio_hs6*", func(v float64, row *rowView, i int) string {
		return relative("unit value", v, "the HS "+row.hs6(i)+" median")
	}},
	{"unit_value_ratio_hs4*", func(v float64, row *rowView, i int) string {
		return relative("unit value", v, "the HS "+row.hsN(i, 4)+" median")
	}},
	{"unit_value_ratio_hs6_origin*", func(v float64, row *rowView, i int) string {
		return relative("unit value", v, "the HS "+row.hs6(i)+" median for goods from "+row.str(i, decl.OriginCountry))
	}},
	{"*importer*fraud_rate*", rate("importer's past fraud rate")},
	{"*declarant*fraud_rate*", rate("declarant's past fraud rate")},
	{"*seller*fraud_rate*", rate("seller's past fraud rate")},
	{"*office*fraud_rate*", rate("office's past fraud rate")},
	{"*origin*fraud_rate*", func(v float64, row *rowView, i int) string {
		return "past fraud rate on goods from " + row.str(i, decl.OriginCountry) + " " + percent(v)
	}},
	{"*hs6*fraud_rate*", func(v float64, row *rowView, i int) string {
		return "past fraud rate on HS " + row.hs6(i) + " " + percent(v)
	}},
	{"*importer*count*", count("importer seen", "times in the history")},
	{"tax_ratio*", func(v float64, _ *rowView, _ int) string { return "taxes declared at " + percent(v) + " of the value" }},
}

func rate(what string) func(float64, *rowView, int) string {
	return func(v float64, _ *rowView, _ int) string { return what + " " + percent(v) }
}

func count(before, after string) func(float64, *rowView, int) string {
	return func(v float64, _ *rowView, _ int) string { return before + " " + number(v) + " " + after }
}

// relative says how far a ratio to a reference is from 1: "unit value 78%
// below the HS 870323 median".
func relative(what string, ratio float64, ref string) string {
	switch {
	case ratio < 1:
		return fmt.Sprintf("%s %.0f%% below %s", what, (1-ratio)*100, ref)
	case ratio > 1:
		return fmt.Sprintf("%s %.0f%% above %s", what, (ratio-1)*100, ref)
	}
	return what + " at " + ref
}

func percent(v float64) string {
	p := v * 100
	if p < 10 && p != math.Trunc(p) {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// number formats v with at most 4 significant decimals and no exponent for
// the values features take.
func number(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// Reasoner writes the reasons of a row from its strongest positive
// contributions. It is safe for concurrent use.
type Reasoner struct {
	// Max is the number of reasons per row.
	Max   int
	names []string
	say   []func(float64, *rowView, int) string
}

// NewReasoner matches every feature name against the template table once.
func NewReasoner(featureNames []string) *Reasoner {
	r := &Reasoner{Max: 3, names: featureNames, say: make([]func(float64, *rowView, int) string, len(featureNames))}
	for f, name := range featureNames {
		for _, t := range templates {
			if ok, _ := path.Match(t.pattern, name); ok {
				r.say[f] = t.say
				break
			}
		}
	}
	return r
}

// Sentence returns the reason feature f with value v gives for row i of the
// bound batch.
func (r *Reasoner) sentence(row *rowView, i, f int, v float64) string {
	if math.IsNaN(v) {
		return r.names[f] + " missing raises the risk"
	}
	if s := r.say[f]; s != nil {
		return s(v, row, i)
	}
	return r.names[f] + " = " + number(v) + " raises the risk"
}

// appendReasons appends the sentences of the features in top, joined by
// "; ", for row i of the batch row is bound to; x is that row's features.
func (r *Reasoner) appendReasons(dst []byte, row *rowView, i int, x []float64, top []int) []byte {
	for k, f := range top {
		if k > 0 {
			dst = append(dst, "; "...)
		}
		dst = append(dst, r.sentence(row, i, f, x[f])...)
	}
	return dst
}

// rowView reads the raw columns templates quote (HS code, origin, IDs) from
// one batch.
type rowView struct {
	schema *arrow.Schema
	rec    arrow.RecordBatch
	cols   map[string]*array.String
}

func (v *rowView) bind(rec arrow.RecordBatch) {
	v.rec = rec
	if v.schema != rec.Schema() {
		v.schema = rec.Schema()
	}
	clear(v.cols)
}

// str returns the string column name at row i, or "?" when absent or null.
func (v *rowView) str(i int, name string) string {
	c, ok := v.cols[name]
	if !ok {
		if v.cols == nil {
			v.cols = map[string]*array.String{}
		}
		if idx := v.schema.FieldIndices(name); len(idx) > 0 {
			c, _ = v.rec.Column(idx[0]).(*array.String)
		}
		v.cols[name] = c
	}
	if c == nil || c.IsNull(i) {
		return "?"
	}
	return strings.TrimSpace(c.Value(i))
}

func (v *rowView) hsN(i, n int) string {
	hs := v.str(i, decl.HSCode)
	if len(hs) > n {
		return hs[:n]
	}
	return hs
}

func (v *rowView) hs6(i int) string { return v.hsN(i, 6) }
