package score

import (
	"cmp"
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
	"risklane/models/explain"
)

// A template turns one feature's value, and the raw row it came from, into a
// sentence an officer reads. Templates are matched on the feature's name
// (path.Match patterns, first match wins), so a new feature gets a sentence
// by adding a line to the table, and a feature no line matches still gets the
// generic "<feature> = <value> raises the risk".
//
// Features that say the same thing (a unit value's ratio, robust z-score and
// percentile against its HS reference, per kg and per unit) share a topic:
// their contributions are added up and the topic speaks once, so that three
// reasons are three different things. It speaks through its first feature in
// the table that has a value and pushed the score up itself (failing that,
// its first feature with a value): the ratio to the median, the plainest.
//
// The same line also says how a rule names the feature when no row is at
// hand (its Term): package rules prints "value per kg < 1,240" from it.
type template struct {
	pattern string
	topic   string
	say     func(f fact) string
	term    func(name string) Term
}

// Term describes a feature without a particular row, as a rule about many
// declarations needs it.
type Term struct {
	// Phrase names what the feature measures: "value per kg".
	Phrase string
	// Value writes a value of the feature in the units an officer knows: a
	// log unit value as the unit value, a share as a percentage, an HS level
	// with its leading zeros. It never decreases as v grows, so a threshold
	// keeps its direction ("log_uv_kg < 7" is "value per kg < 1,097").
	Value func(v float64) string
	// Code marks a feature whose values are codes (an HS heading, a weekday)
	// rather than amounts: a rule names the codes, not a range.
	Code bool
}

// TermOf returns the term of the feature called name, from the sentence
// table, and whether the table knows the feature; an unknown feature is
// named by its own name and written as a plain number.
func TermOf(name string) (Term, bool) {
	for _, t := range templates {
		if ok, _ := path.Match(t.pattern, name); ok {
			return t.term(name), true
		}
	}
	return Term{Phrase: name, Value: number}, false
}

// FormatNumber writes v as the reasons do: thousands separated by commas, at
// most two decimals below 100, none above.
func FormatNumber(v float64) string { return number(v) }

// FormatPercent writes a share as a percentage: one decimal below 10%, none
// above.
func FormatPercent(v float64) string { return percent(v) }

// fact is one feature of one row: its name, its value, and the row's raw
// columns.
type fact struct {
	name string
	v    float64
	row  quoted
	i    int
}

// str returns a raw string column of the row ("?" when absent or null).
func (f fact) str(col string) string { return f.row.str(f.i, col) }

// hs returns the first n digits of the row's HS code.
func (f fact) hs(n int) string {
	hs := f.str(decl.HSCode)
	if len(hs) > n {
		return hs[:n]
	}
	return hs
}

// hsLevel is the HS level a name ending in 2, 4 or 6 is about.
func (f fact) hsLevel() int { return int(f.name[len(f.name)-1] - '0') }

func (f fact) origin() string { return f.str(decl.OriginCountry) }

// templates is the table of sentences, by the feature names package features
// gives (signal features may carry a prefix: hence the leading * on theirs).
// More specific patterns come first.
var templates = []template{
	// Unit value against its HS reference.
	{"uv_kg_ratio_hs6", "uv", func(f fact) string {
		return relative("value per kg", f.v, "the HS "+f.hs(6)+" median")
	}, fixed("value per kg as a share of its HS6 median", percent)},
	{"uv_unit_ratio_hs6", "uv", func(f fact) string {
		return relative("value per unit", f.v, "the HS "+f.hs(6)+" median")
	}, fixed("value per unit as a share of its HS6 median", percent)},
	{"uv_kg_z_hs6_origin", "uv", func(f fact) string {
		return spread("value per kg", f.v, "the HS "+f.hs(6)+" median for goods from "+f.origin())
	}, fixed("value per kg in robust deviations from its HS6 median for its origin", number)},
	{"uv_unit_z_hs6_origin", "uv", func(f fact) string {
		return spread("value per unit", f.v, "the HS "+f.hs(6)+" median for goods from "+f.origin())
	}, fixed("value per unit in robust deviations from its HS6 median for its origin", number)},
	{"uv_kg_z_hs6", "uv", func(f fact) string { return spread("value per kg", f.v, "the HS "+f.hs(6)+" median") }, fixed("value per kg in robust deviations from its HS6 median", number)},
	{"uv_unit_z_hs6", "uv", func(f fact) string { return spread("value per unit", f.v, "the HS "+f.hs(6)+" median") }, fixed("value per unit in robust deviations from its HS6 median", number)},
	{"uv_kg_pct_hs6", "uv", func(f fact) string {
		return "value per kg at the " + ordinal(f.v) + " percentile of HS " + f.hs(6)
	}, fixed("percentile of the value per kg in its HS6", number)},
	{"uv_unit_pct_hs6", "uv", func(f fact) string {
		return "value per unit at the " + ordinal(f.v) + " percentile of HS " + f.hs(6)
	}, fixed("percentile of the value per unit in its HS6", number)},
	{"log_uv_kg", "", func(f fact) string { return "value per kg " + number(math.Exp(f.v)) }, fixed("value per kg", expNumber)},
	{"log_uv_unit", "", func(f fact) string { return "value per unit " + number(math.Exp(f.v)) }, fixed("value per unit", expNumber)},
	// Price clusters.
	{"*uv_low_cluster", "cluster", func(f fact) string {
		if f.v >= 0.5 {
			return "unit value in the lowest price cluster of HS " + f.hs(6)
		}
		return "unit value outside the lowest price cluster of HS " + f.hs(6)
	}, code("unit value in the lowest price cluster of its HS6", yesNo)},
	{"*uv_cluster_rank", "cluster", func(f fact) string {
		return "unit value in price cluster " + number(f.v) + " of HS " + f.hs(6) + " (0 is the cheapest)"
	}, code("price cluster of its HS6 (0 is the cheapest)", number)},
	// uv_log_dist_median is the distance to the median of the row's whole
	// price group (its HS6, or the HS4 heading or all rows a sparse code
	// falls back to), not to the median of its cluster.
	{"*uv_log_dist_median", "cluster", func(f fact) string {
		return relative("unit value", math.Exp(f.v), "the HS "+f.hs(6)+" median")
	}, fixed("unit value as a share of its HS6 median", func(v float64) string { return percent(math.Exp(v)) })},
	{"*uv_percentile", "cluster", func(f fact) string { return "unit value at the " + ordinal(f.v) + " percentile of HS " + f.hs(6) }, fixed("percentile of the unit value in its HS6", number)},
	// Mirror statistics.
	{"*mirror_rel_gap", "mirror", func(f fact) string {
		return "partners report " + percent(f.v) + " more HS " + f.hs(6) + " trade from " + f.origin() + " than is declared"
	}, fixed("partner-reported trade above what is declared", percent)},
	{"*mirror_uv_ratio", "mirror", func(f fact) string {
		return relative("unit value", f.v, "the partner-reported unit value of HS "+f.hs(6)+" from "+f.origin())
	}, fixed("unit value as a share of the partner-reported unit value", percent)},
	{"*mirror_revenue_share", "mirror", func(f fact) string {
		return "the HS " + f.hs(6) + " trade gap with " + f.origin() + " is " + percent(f.v) + " of its revenue"
	}, fixed("trade gap with its origin as a share of its revenue", percent)},
	// Past fraud rates (smoothed, from the labelled history).
	{"risk_importer_hs6", "", func(f fact) string { return "importer's past fraud rate on HS " + f.hs(6) + " " + percent(f.v) }, fixed("importer's past fraud rate on its HS6", percent)},
	{"risk_hs6_origin", "", func(f fact) string {
		return "past fraud rate on HS " + f.hs(6) + " from " + f.origin() + " " + percent(f.v)
	}, fixed("past fraud rate on its HS6 from its origin", percent)},
	{"risk_declarant_importer", "", func(f fact) string { return "past fraud rate of this declarant with this importer " + percent(f.v) }, fixed("past fraud rate of the declarant with the importer", percent)},
	{"risk_office_importer", "", func(f fact) string {
		return "importer's past fraud rate at office " + f.str(decl.OfficeID) + " " + percent(f.v)
	}, fixed("importer's past fraud rate at the office", percent)},
	{"risk_importer", "", func(f fact) string { return "importer's past fraud rate " + percent(f.v) }, fixed("importer's past fraud rate", percent)},
	{"risk_declarant", "", func(f fact) string { return "declarant's past fraud rate " + percent(f.v) }, fixed("declarant's past fraud rate", percent)},
	{"risk_seller", "", func(f fact) string { return "seller's past fraud rate " + percent(f.v) }, fixed("seller's past fraud rate", percent)},
	{"risk_office", "", func(f fact) string { return "past fraud rate at office " + f.str(decl.OfficeID) + " " + percent(f.v) }, fixed("past fraud rate at the office", percent)},
	{"risk_origin", "", func(f fact) string { return "past fraud rate on goods from " + f.origin() + " " + percent(f.v) }, fixed("past fraud rate on its origin", percent)},
	{"risk_departure", "", func(f fact) string {
		return "past fraud rate on goods shipped from " + f.str(decl.DepartureCountry) + " " + percent(f.v)
	}, fixed("past fraud rate on its country of departure", percent)},
	{"risk_hs[246]", "", func(f fact) string { return "past fraud rate on HS " + f.hs(f.hsLevel()) + " " + percent(f.v) }, func(name string) Term {
		return Term{Phrase: "past fraud rate on its HS" + name[len(name)-1:], Value: percent}
	}},
	{"risk_extra_*", "", func(f fact) string {
		col := strings.TrimPrefix(f.name, "risk_extra_")
		return "past fraud rate for " + col + " " + f.str(col) + " " + percent(f.v)
	}, func(name string) Term {
		return Term{Phrase: "past fraud rate for its " + strings.TrimPrefix(name, "risk_extra_"), Value: percent}
	}},
	// How often a key appears in the history (a scored row counts itself).
	{"freq_importer", "", seen("importer"), seenTerm("importer")},
	{"freq_declarant", "", seen("declarant"), seenTerm("declarant")},
	{"freq_seller", "", seen("seller"), seenTerm("seller")},
	{"freq_importer_hs6", "", seen("importer with this HS code"), seenTerm("importer with this HS code")},
	{"freq_hs6_origin", "", seen("this HS code from this origin"), seenTerm("this HS code from this origin")},
	{"freq_declarant_importer", "", seen("this declarant with this importer"), seenTerm("this declarant with this importer")},
	{"freq_office_importer", "", seen("this importer at this office"), seenTerm("this importer at this office")},
	{"freq_*", "", func(f fact) string { return seen(keyWords(f.name))(f) }, func(name string) Term { return seenTerm(keyWords(name))(name) }},
	// Values, taxes, dates.
	{"log_value", "", expm1("declared value", ""), expm1Term("declared value", "")},
	{"log_net_mass", "", expm1("net mass", " kg"), expm1Term("net mass", " kg")},
	{"log_gross_weight", "", expm1("gross weight", " kg"), expm1Term("gross weight", " kg")},
	{"log_quantity", "", expm1("quantity", ""), expm1Term("quantity", "")},
	{"log_duty", "", expm1("duty at stake", ""), expm1Term("duty at stake", "")},
	{"log_total_taxes", "", expm1("total taxes declared", ""), expm1Term("total taxes declared", "")},
	{"cif_fob_ratio", "", func(f fact) string { return "CIF/FOB ratio " + number(f.v) }, fixed("CIF/FOB ratio", number)},
	{"tax_rate", "", func(f fact) string { return "duty rate " + number(f.v) + "%" }, fixed("duty rate", func(v float64) string { return number(v) + "%" })},
	{"tax_to_value", "", func(f fact) string { return "taxes declared at " + percent(f.v) + " of the value" }, fixed("taxes declared as a share of the value", percent)},
	{"hs[246]", "", func(f fact) string { return "goods declared under HS " + f.hs(f.hsLevel()) }, hsTerm},
	{"weekday", "", func(f fact) string {
		if d := int(f.v); d >= 0 && d < 7 {
			return "declared on a " + time.Weekday(d).String()
		}
		return "day of week " + number(f.v)
	}, code("day of week", weekdayName)},
	{"month", "", func(f fact) string {
		if m := int(f.v); m >= 1 && m <= 12 {
			return "declared in " + time.Month(m).String()
		}
		return "month " + number(f.v)
	}, code("month", monthName)},
}

// fixed is the term of a feature whose name says everything.
func fixed(phrase string, value func(float64) string) func(string) Term {
	return func(string) Term { return Term{Phrase: phrase, Value: value} }
}

// code is the term of a feature whose values are codes.
func code(phrase string, value func(float64) string) func(string) Term {
	return func(string) Term { return Term{Phrase: phrase, Value: value, Code: true} }
}

// hsTerm names an HS level by its name ("hs4" is "HS4") and writes its codes
// with their leading zeros.
func hsTerm(name string) Term {
	digits := int(name[len(name)-1] - '0')
	return Term{Phrase: "HS" + name[len(name)-1:], Code: true, Value: func(v float64) string {
		if v >= 0 && v < 1e9 && v == math.Trunc(v) {
			return fmt.Sprintf("%0*d", digits, int(v))
		}
		return number(v)
	}}
}

// seenTerm counts earlier sightings: the feature counts the row itself.
func seenTerm(what string) func(string) Term {
	return fixed("times "+what+" seen before", func(v float64) string { return number(v - 1) })
}

// keyWords names the key a freq_ feature counts: "freq_hs6" counts the HS6
// code, "freq_extra_channel" the channel.
func keyWords(name string) string {
	key := strings.TrimPrefix(strings.TrimPrefix(name, "freq_"), "extra_")
	if len(key) == 3 && key[:2] == "hs" {
		return "HS" + key[2:] + " code"
	}
	return key
}

func expm1Term(what, unit string) func(string) Term {
	return fixed(what, func(v float64) string { return number(math.Expm1(v)) + unit })
}

func expNumber(v float64) string { return number(math.Exp(v)) }

// yesNo writes a 0/1 flag; the trees split it anywhere between the two.
func yesNo(v float64) string {
	if v >= 0.5 {
		return "yes"
	}
	return "no"
}

func weekdayName(v float64) string {
	if d := int(v); d >= 0 && d < 7 && float64(d) == v {
		return time.Weekday(d).String()
	}
	return number(v)
}

func monthName(v float64) string {
	if m := int(v); m >= 1 && m <= 12 && float64(m) == v {
		return time.Month(m).String()
	}
	return number(v)
}

func seen(what string) func(fact) string {
	return func(f fact) string {
		switch before := f.v - 1; {
		case before <= 0:
			return what + " never seen before"
		case before == 1:
			return what + " seen once before"
		default:
			return what + " seen " + number(before) + " times before"
		}
	}
}

func expm1(what, unit string) func(fact) string {
	return func(f fact) string { return what + " " + number(math.Expm1(f.v)) + unit }
}

// relative says how far a ratio to a reference is from 1: "unit value 78%
// below the HS 870323 median".
func relative(what string, ratio float64, ref string) string {
	switch p := math.Round((ratio - 1) * 100); {
	case p < 0:
		return fmt.Sprintf("%s %.0f%% below %s", what, -p, ref)
	case p > 0:
		return fmt.Sprintf("%s %.0f%% above %s", what, p, ref)
	}
	return what + " at " + ref
}

// spread phrases a robust z-score.
func spread(what string, z float64, ref string) string {
	dir := "below"
	if z > 0 {
		dir = "above"
	}
	return fmt.Sprintf("%s %.1f robust deviations %s %s", what, math.Abs(z), dir, ref)
}

// ordinal writes a percentile as "3rd", "21st", "100th".
func ordinal(p float64) string {
	n := int(math.Round(p))
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// percent writes a share as a percentage: one decimal below 10%, none above.
func percent(v float64) string {
	p := v * 100
	if math.Abs(p) < 9.95 {
		s := strconv.FormatFloat(p, 'f', 1, 64)
		return strings.TrimSuffix(s, ".0") + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// number writes v for an officer: thousands separated by commas, at most two
// decimals below 100, none above.
func number(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) >= 1e15 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	sign := ""
	switch {
	case v == 0:
		return "0" // and not "-0" for negative zero
	case v < 0:
		sign, v = "-", -v
	}
	if v >= 100 || v == math.Trunc(v) {
		return sign + group(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	}
	s := strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(v, 'f', 2, 64), "0"), ".")
	if s == "0" {
		return s // -0.001 rounds to 0, not "-0"
	}
	return sign + s
}

// group puts commas between groups of three digits.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	pre := len(digits) % 3
	b.WriteString(digits[:pre])
	for i := pre; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// Reasoner writes the reasons of a row from its strongest positive
// contributions. It is safe for concurrent use.
type Reasoner struct {
	// Max is the number of reasons per row (default 3).
	Max   int
	names []string
	say   []func(fact) string
	// topicOf is each feature's topic; members lists each topic's features,
	// the one that speaks for it first.
	topicOf []int
	members [][]int
	quoted  []string
}

// NewReasoner matches every feature name against the template table once.
func NewReasoner(featureNames []string) *Reasoner {
	r := &Reasoner{Max: 3, names: featureNames, say: make([]func(fact) string, len(featureNames)),
		topicOf: make([]int, len(featureNames)), quoted: slices.Clone(quotedColumns)}
	for _, name := range featureNames {
		if _, col, ok := strings.Cut(name, "_extra_"); ok && !slices.Contains(r.quoted, col) {
			r.quoted = append(r.quoted, col)
		}
	}
	rankInTable := make([]int, len(featureNames))
	topics := map[string]int{}
	for f, name := range featureNames {
		rankInTable[f] = len(templates)
		topic := "feature:" + name
		for k, t := range templates {
			if ok, _ := path.Match(t.pattern, name); ok {
				r.say[f], rankInTable[f] = t.say, k
				if t.topic != "" {
					topic = t.topic
				}
				break
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
		return s(fact{name: r.names[f], v: v, row: row, i: i})
	}
	return r.names[f] + " = " + number(v) + " raises the risk"
}

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

// quoted gives the raw string columns templates quote: the quotedColumns and
// the extra attributes, for row i ("?" when absent or null).
type quoted interface {
	str(i int, col string) string
}

// quotedColumns are the canonical columns a template may quote; it may also
// quote the extra attribute its feature is about (risk_extra_<column>). The
// first pass keeps these columns of the rows that may need reasons.
var quotedColumns = []string{decl.HSCode, decl.OriginCountry, decl.OfficeID, decl.DepartureCountry}

// Quoted returns the raw columns the reasons of these features may quote.
func (r *Reasoner) Quoted() []string { return r.quoted }

// rowView reads the raw string columns templates quote from one batch,
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
