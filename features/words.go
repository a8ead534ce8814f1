package features

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"risklane/decl"
)

// Words for officers. Each feature group words its own features: a Phrase
// per feature (or per name pattern) says what one value of the feature
// means for the row it came from (Say) and, without a row, how a rule names
// the feature (Term). The core groups' phrases are in this file; a plug-in
// group returns its own from Signal.Phrases (see Worded). pipeline/score
// builds the reasons of a ranked row from them and models/rules the
// conditions of a rule; both ask this package (PhraseOf, TermOf).

// A Phrase words the features whose names match Pattern (path.Match; the
// first phrase that matches wins, and plug-in features may carry a prefix:
// hence the leading * on theirs).
//
// Features that say the same thing (a unit value's ratio, robust z-score and
// percentile against its HS reference, per kg and per unit) share a Topic:
// their contributions are added up and the topic speaks once, through its
// first feature in phrase order that has a value and pushed the score up
// itself (failing that, its first feature with a value). An empty Topic
// speaks for its feature alone.
type Phrase struct {
	Pattern string
	Topic   string
	Say     func(f Fact) string
	Term    func(name string) Term
}

// Worded is implemented by a Signal whose features have phrases.
type Worded interface {
	Phrases() []Phrase
}

// Fact is one feature of one row: its name, its value, and the row's raw
// string columns.
type Fact struct {
	Name string
	V    float64
	Row  Row
}

// Row gives the raw string columns of the row a reason is about: the
// canonical columns decl.HSCode, decl.OriginCountry, decl.OfficeID,
// decl.DepartureCountry (QuotedColumns) and the extra attribute a
// risk_extra_ feature is about; "?" when absent or null.
type Row interface {
	Str(col string) string
}

// QuotedColumns are the canonical columns a phrase may quote; it may also
// quote the extra attribute its feature is about (risk_extra_<column>).
var QuotedColumns = []string{decl.HSCode, decl.OriginCountry, decl.OfficeID, decl.DepartureCountry}

// Str returns a raw string column of the row ("?" when absent or null).
func (f Fact) Str(col string) string { return f.Row.Str(col) }

// HS returns the first n digits of the row's HS code.
func (f Fact) HS(n int) string {
	hs := f.Str(decl.HSCode)
	if len(hs) > n {
		return hs[:n]
	}
	return hs
}

// HSLevel is the HS level a name ending in 2, 4 or 6 is about.
func (f Fact) HSLevel() int { return int(f.Name[len(f.Name)-1] - '0') }

// Origin returns the row's country of origin.
func (f Fact) Origin() string { return f.Str(decl.OriginCountry) }

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

// Phrases returns every phrase in match order: those of the registered
// plug-in groups (by group name), then the core groups'.
func Phrases() []Phrase {
	var out []Phrase
	for _, name := range Registered() {
		if s, ok := newRegistered(name); ok {
			if w, ok := s.(Worded); ok {
				out = append(out, w.Phrases()...)
			}
		}
	}
	return append(out, corePhrases...)
}

// PhraseOf returns the phrase of the feature called name among phrases (as
// Phrases returns them), its index there, and false when none matches.
func PhraseOf(phrases []Phrase, name string) (Phrase, int, bool) {
	for k, p := range phrases {
		if ok, _ := path.Match(p.Pattern, name); ok {
			return p, k, true
		}
	}
	return Phrase{}, -1, false
}

// TermOf returns the term of the feature called name, and whether a phrase
// knows the feature; an unknown feature is named by its own name and
// written as a plain number.
func TermOf(name string) (Term, bool) {
	if p, _, ok := PhraseOf(Phrases(), name); ok {
		return p.Term(name), true
	}
	return Term{Phrase: name, Value: number}, false
}

// FormatNumber writes v for an officer: thousands separated by commas, at
// most two decimals below 100, none above.
func FormatNumber(v float64) string { return number(v) }

// FormatPercent writes a share as a percentage: one decimal below 10%, none
// above.
func FormatPercent(v float64) string { return percent(v) }

// Ordinal writes a percentile as "3rd", "21st", "100th".
func Ordinal(p float64) string { return ordinal(p) }

// Relative says how far a ratio to a reference is from 1: "unit value 78%
// below the HS 870323 median".
func Relative(what string, ratio float64, ref string) string { return relative(what, ratio, ref) }

// Fixed is the term of a feature whose name says everything.
func Fixed(phrase string, value func(float64) string) func(string) Term { return fixed(phrase, value) }

// CodeTerm is the term of a feature whose values are codes.
func CodeTerm(phrase string, value func(float64) string) func(string) Term {
	return codeTerm(phrase, value)
}

// YesNo writes a 0/1 flag; the trees split it anywhere between the two.
func YesNo(v float64) string { return yesNo(v) }

// corePhrases words the features of the built-in groups. More specific
// patterns come first.
var corePhrases = []Phrase{

	// Unit value against its HS reference.
	{"uv_kg_ratio_hs6", "uv", func(f Fact) string {
		return relative("value per kg", f.V, "the HS "+f.HS(6)+" median")
	}, fixed("value per kg as a share of its HS6 median", percent)},
	{"uv_unit_ratio_hs6", "uv", func(f Fact) string {
		return relative("value per unit", f.V, "the HS "+f.HS(6)+" median")
	}, fixed("value per unit as a share of its HS6 median", percent)},
	{"uv_kg_z_hs6_origin", "uv", func(f Fact) string {
		return spread("value per kg", f.V, "the HS "+f.HS(6)+" median for goods from "+f.Origin())
	}, fixed("value per kg in robust deviations from its HS6 median for its origin", number)},
	{"uv_unit_z_hs6_origin", "uv", func(f Fact) string {
		return spread("value per unit", f.V, "the HS "+f.HS(6)+" median for goods from "+f.Origin())
	}, fixed("value per unit in robust deviations from its HS6 median for its origin", number)},
	{"uv_kg_z_hs6", "uv", func(f Fact) string { return spread("value per kg", f.V, "the HS "+f.HS(6)+" median") }, fixed("value per kg in robust deviations from its HS6 median", number)},
	{"uv_unit_z_hs6", "uv", func(f Fact) string { return spread("value per unit", f.V, "the HS "+f.HS(6)+" median") }, fixed("value per unit in robust deviations from its HS6 median", number)},
	{"uv_kg_pct_hs6", "uv", func(f Fact) string {
		return "value per kg at the " + ordinal(f.V) + " percentile of HS " + f.HS(6)
	}, fixed("percentile of the value per kg in its HS6", number)},
	{"uv_unit_pct_hs6", "uv", func(f Fact) string {
		return "value per unit at the " + ordinal(f.V) + " percentile of HS " + f.HS(6)
	}, fixed("percentile of the value per unit in its HS6", number)},
	{"log_uv_kg", "", func(f Fact) string { return "value per kg " + number(math.Exp(f.V)) }, fixed("value per kg", expNumber)},
	{"log_uv_unit", "", func(f Fact) string { return "value per unit " + number(math.Exp(f.V)) }, fixed("value per unit", expNumber)},
	// Past fraud rates (smoothed, from the labelled history).
	{"risk_importer_hs6", "", func(f Fact) string { return "importer's past fraud rate on HS " + f.HS(6) + " " + percent(f.V) }, fixed("importer's past fraud rate on its HS6", percent)},
	{"risk_hs6_origin", "", func(f Fact) string {
		return "past fraud rate on HS " + f.HS(6) + " from " + f.Origin() + " " + percent(f.V)
	}, fixed("past fraud rate on its HS6 from its origin", percent)},
	{"risk_declarant_importer", "", func(f Fact) string { return "past fraud rate of this declarant with this importer " + percent(f.V) }, fixed("past fraud rate of the declarant with the importer", percent)},
	{"risk_office_importer", "", func(f Fact) string {
		return "importer's past fraud rate at office " + f.Str(decl.OfficeID) + " " + percent(f.V)
	}, fixed("importer's past fraud rate at the office", percent)},
	{"risk_importer", "", func(f Fact) string { return "importer's past fraud rate " + percent(f.V) }, fixed("importer's past fraud rate", percent)},
	{"risk_declarant", "", func(f Fact) string { return "declarant's past fraud rate " + percent(f.V) }, fixed("declarant's past fraud rate", percent)},
	{"risk_seller", "", func(f Fact) string { return "seller's past fraud rate " + percent(f.V) }, fixed("seller's past fraud rate", percent)},
	{"risk_office", "", func(f Fact) string { return "past fraud rate at office " + f.Str(decl.OfficeID) + " " + percent(f.V) }, fixed("past fraud rate at the office", percent)},
	{"risk_origin", "", func(f Fact) string { return "past fraud rate on goods from " + f.Origin() + " " + percent(f.V) }, fixed("past fraud rate on its origin", percent)},
	{"risk_departure", "", func(f Fact) string {
		return "past fraud rate on goods shipped from " + f.Str(decl.DepartureCountry) + " " + percent(f.V)
	}, fixed("past fraud rate on its country of departure", percent)},
	{"risk_hs[246]", "", func(f Fact) string { return "past fraud rate on HS " + f.HS(f.HSLevel()) + " " + percent(f.V) }, func(name string) Term {
		return Term{Phrase: "past fraud rate on its HS" + name[len(name)-1:], Value: percent}
	}},
	{"risk_extra_*", "", func(f Fact) string {
		col := strings.TrimPrefix(f.Name, "risk_extra_")
		return "past fraud rate for " + col + " " + f.Str(col) + " " + percent(f.V)
	}, func(name string) Term {
		return Term{Phrase: "past fraud rate for its " + strings.TrimPrefix(name, "risk_extra_"), Value: percent}
	}},
	// How often a key appears in the history (a scored row counts itself).
	{"freq_importer", "", seenSay("importer"), seenTerm("importer")},
	{"freq_declarant", "", seenSay("declarant"), seenTerm("declarant")},
	{"freq_seller", "", seenSay("seller"), seenTerm("seller")},
	{"freq_importer_hs6", "", seenSay("importer with this HS code"), seenTerm("importer with this HS code")},
	{"freq_hs6_origin", "", seenSay("this HS code from this origin"), seenTerm("this HS code from this origin")},
	{"freq_declarant_importer", "", seenSay("this declarant with this importer"), seenTerm("this declarant with this importer")},
	{"freq_office_importer", "", seenSay("this importer at this office"), seenTerm("this importer at this office")},
	{"freq_*", "", func(f Fact) string { return seenSay(keyWords(f.Name))(f) }, func(name string) Term { return seenTerm(keyWords(name))(name) }},
	// Values, taxes, dates.
	{"log_value", "", expm1("declared value", ""), expm1Term("declared value", "")},
	{"log_net_mass", "", expm1("net mass", " kg"), expm1Term("net mass", " kg")},
	{"log_gross_weight", "", expm1("gross weight", " kg"), expm1Term("gross weight", " kg")},
	{"log_quantity", "", expm1("quantity", ""), expm1Term("quantity", "")},
	{"log_duty", "", expm1("duty at stake", ""), expm1Term("duty at stake", "")},
	{"log_total_taxes", "", expm1("total taxes declared", ""), expm1Term("total taxes declared", "")},
	{"cif_fob_ratio", "", func(f Fact) string { return "CIF/FOB ratio " + number(f.V) }, fixed("CIF/FOB ratio", number)},
	{"tax_rate", "", func(f Fact) string { return "duty rate " + number(f.V) + "%" }, fixed("duty rate", func(v float64) string { return number(v) + "%" })},
	{"tax_to_value", "", func(f Fact) string { return "taxes declared at " + percent(f.V) + " of the value" }, fixed("taxes declared as a share of the value", percent)},
	{"hs[246]", "", func(f Fact) string { return "goods declared under HS " + f.HS(f.HSLevel()) }, hsTerm},
	{"weekday", "", func(f Fact) string {
		if d := int(f.V); d >= 0 && d < 7 {
			return "declared on a " + time.Weekday(d).String()
		}
		return "day of week " + number(f.V)
	}, codeTerm("day of week", weekdayName)},
	{"month", "", func(f Fact) string {
		if m := int(f.V); m >= 1 && m <= 12 {
			return "declared in " + time.Month(m).String()
		}
		return "month " + number(f.V)
	}, codeTerm("month", monthName)}}

// fixed is the term of a feature whose name says everything.
func fixed(phrase string, value func(float64) string) func(string) Term {
	return func(string) Term { return Term{Phrase: phrase, Value: value} }
}

// codeTerm is the term of a feature whose values are codes.
func codeTerm(phrase string, value func(float64) string) func(string) Term {
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

func seenSay(what string) func(Fact) string {
	return func(f Fact) string {
		switch before := f.V - 1; {
		case before <= 0:
			return what + " never seen before"
		case before == 1:
			return what + " seen once before"
		default:
			return what + " seen " + number(before) + " times before"
		}
	}
}

func expm1(what, unit string) func(Fact) string {
	return func(f Fact) string { return what + " " + number(math.Expm1(f.V)) + unit }
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
		return sign + groupDigits(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	}
	s := strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(v, 'f', 2, 64), "0"), ".")
	if s == "0" {
		return s // -0.001 rounds to 0, not "-0"
	}
	return sign + s
}

// groupDigits puts commas between groups of three digits.
func groupDigits(digits string) string {
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
