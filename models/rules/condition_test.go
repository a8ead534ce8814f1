package rules

import (
	"math"
	"slices"
	"testing"
)

var inf = math.Inf(1)

// Paths merged into conditions by hand.
func TestSimplify(t *testing.T) {
	L := func(f int32, th float32, defaultLeft bool) step { return step{f, th, true, defaultLeft} }
	R := func(f int32, th float32, defaultLeft bool) step { return step{f, th, false, defaultLeft} }
	tests := []struct {
		name  string
		steps []step
		want  []Condition
	}{
		{"one split, missing along", []step{L(0, 5, true)}, []Condition{{Feature: 0, Lo: -inf, Hi: 5, Missing: true}}},
		{"one split, missing away", []step{L(0, 5, false)}, []Condition{{Feature: 0, Lo: -inf, Hi: 5}}},
		{"right branch", []step{R(0, 5, false)}, []Condition{{Feature: 0, Lo: 5, Hi: inf, Missing: true}}},
		{"two upper bounds: the lower wins", []step{L(0, 5, true), L(0, 3, true)}, []Condition{{Feature: 0, Lo: -inf, Hi: 3, Missing: true}}},
		{"two lower bounds: the higher wins", []step{R(0, 3, false), R(0, 5, false)}, []Condition{{Feature: 0, Lo: 5, Hi: inf, Missing: true}}},
		{"interval", []step{R(0, 3, false), L(0, 5, true)}, []Condition{{Feature: 0, Lo: 3, Hi: 5, Missing: true}}},
		{"interval, one split sends missing away", []step{R(0, 3, false), L(0, 5, false)}, []Condition{{Feature: 0, Lo: 3, Hi: 5}}},
		{"contradiction: only missing values", []step{L(0, 3, true), R(0, 5, false)}, []Condition{{Feature: 0, Lo: 5, Hi: 3, Missing: true}}},
		{"interleaved features in first-test order",
			[]step{R(1, 2, false), L(0, 3, true), L(1, 4, false), R(2, -1, true), R(0, 1, false)},
			[]Condition{{Feature: 1, Lo: 2, Hi: 4}, {Feature: 0, Lo: 1, Hi: 3, Missing: true}, {Feature: 2, Lo: -1, Hi: inf}}},
		{"root leaf", nil, nil},
	}
	for _, tc := range tests {
		got := simplify(tc.steps)
		if !slices.EqualFunc(got, tc.want, func(a, b Condition) bool {
			return a.Feature == b.Feature && a.Lo == b.Lo && a.Hi == b.Hi && a.Missing == b.Missing
		}) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// Holds compares as the trees do: in float32, lower bound included, upper
// bound excluded.
func TestHolds(t *testing.T) {
	c := Condition{Lo: 3, Hi: 5, Missing: true}
	tests := []struct {
		v    float64
		want bool
	}{
		{3, true}, {4.999, true}, {5, false}, {2.999, false}, {nan, true},
		// float32(5 - 1e-12) is 5: the tree sends it right, out of [3, 5).
		{5 - 1e-12, false},
		{3 - 1e-12, true},
		{math.Inf(1), false}, {math.Inf(-1), false},
	}
	for _, tc := range tests {
		if got := c.Holds(tc.v); got != tc.want {
			t.Errorf("[3, 5) or missing holds for %v: %v, want %v", tc.v, got, tc.want)
		}
	}
	open := Condition{Lo: 3, Hi: inf}
	if !open.Holds(math.Inf(1)) || !open.Holds(1e300) || open.Holds(nan) {
		t.Error("[3, inf) must hold for +Inf and 1e300 (float32 +Inf goes right) and not for a missing value")
	}
	below := Condition{Lo: -inf, Hi: 3}
	if !below.Holds(math.Inf(-1)) || below.Holds(3) {
		t.Error("(-inf, 3) must hold for -Inf and not for 3")
	}
	empty := Condition{Lo: 5, Hi: 3}
	if empty.Holds(4) || empty.Holds(5) || empty.Holds(2) || empty.Holds(nan) {
		t.Error("an empty interval without missing holds for nothing")
	}
}

// Conditions written out by hand.
func TestConditionFormat(t *testing.T) {
	n := Names([]string{"log_uv_kg", "hs4", "risk_importer", "tax_rate", "pricecluster_uv_low_cluster", "my_feature"})
	codes := func(lo, hi float64, missing bool, in, out []float64) Condition {
		return Condition{Feature: 1, Lo: lo, Hi: hi, Missing: missing, Code: true, In: in, Out: out}
	}
	seq := func(from, to float64) []float64 {
		var s []float64
		for v := from; v <= to; v++ {
			s = append(s, v)
		}
		return s
	}
	tests := []struct {
		c    Condition
		want string
	}{
		{Condition{Feature: 0, Lo: -inf, Hi: float64(float32(math.Log(1240)))}, "value per kg < 1,240"},
		{Condition{Feature: 0, Lo: float64(float32(math.Log(1240))), Hi: inf, Missing: true}, "value per kg >= 1,240 (or missing)"},
		{Condition{Feature: 0, Lo: math.Log(0.5), Hi: math.Log(3000)}, "0.5 <= value per kg < 3,000"},
		{Condition{Feature: 0, Lo: 7, Hi: 6, Missing: true}, "value per kg missing"},
		// No row lacks the feature: missing values concern no row.
		{Condition{Feature: 0, Lo: math.Log(1240), Hi: inf, Missing: true, NoneMissing: true}, "value per kg >= 1,240"},
		{Condition{Feature: 2, Lo: 0.2, Hi: inf}, "importer's past fraud rate >= 20%"},
		{Condition{Feature: 2, Lo: 0.0125, Hi: 0.05}, "1.2% <= importer's past fraud rate < 5%"},
		{Condition{Feature: 3, Lo: -inf, Hi: 7.5}, "duty rate < 7.5%"},
		{Condition{Feature: 5, Lo: -inf, Hi: 1234.5}, "my_feature < 1,235"},
		{Condition{Feature: 9, Lo: 1, Hi: inf}, "f9 >= 1"},
		{codes(8703, 8704, false, []float64{8703}, []float64{8471, 8704}), "HS4 = 8703"},
		{codes(8703, 8705, true, []float64{8703, 8704}, []float64{8471}), "HS4 in {8703, 8704} (or missing)"},
		{codes(8400, inf, false, seq(8401, 8410), []float64{101, 302}), "HS4 not in {0101, 0302}"},
		{codes(0, inf, false, seq(8401, 8410), seq(1, 6)), "HS4 from 8401 to 8410 (10 codes)"},
		{codes(0, inf, false, seq(1, 1234), seq(2000, 2010)), "HS4 from 0001 to 1234 (1,234 codes)"},
		{codes(-inf, 9000, false, seq(8401, 8410), nil), "HS4 any"},
		// No code of the data in the interval: the interval itself.
		{codes(9000, 9100, false, []float64{}, []float64{8703}), "9000 <= HS4 < 9100"},
		{codes(9000, 9100, true, []float64{}, []float64{8703}), "9000 <= HS4 < 9100 (or missing)"},
		{Condition{Feature: 4, Lo: 0.5, Hi: inf, Code: true, In: []float64{1}, Out: []float64{0}},
			"unit value in the lowest price cluster of its HS6 = yes"},
	}
	for _, tc := range tests {
		if got := tc.c.Format(n); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.c, got, tc.want)
		}
	}
}

// labelNamer names feature 0 a label-encoded attribute whose codes 0..25
// stand for the letters A..Z.
type labelNamer struct{ Namer }

func (labelNamer) Phrase(int) string              { return "channel" }
func (labelNamer) Kind(int) Kind                  { return Label }
func (labelNamer) Format(f int, v float64) string { return string(rune('A' + int(v))) }

// Labels have no order: never a range, the shorter list instead.
func TestLabelFormat(t *testing.T) {
	codes := func(in, out []float64, missing bool) Condition {
		return Condition{Lo: -inf, Hi: 99, Missing: missing, Code: true, In: in, Out: out}
	}
	seq := func(from, to float64) []float64 {
		var s []float64
		for v := from; v <= to; v++ {
			s = append(s, v)
		}
		return s
	}
	n := labelNamer{Names(nil)}
	tests := []struct {
		c    Condition
		want string
	}{
		{codes([]float64{17}, seq(0, 3), false), "channel = R"},
		{codes([]float64{17, 24}, seq(0, 3), true), "channel in {R, Y} (or missing)"},
		{codes(seq(0, 8), seq(9, 25), false), "channel in {A, B, C, D, E, ...} (9 codes)"},
		{codes(seq(0, 17), seq(18, 25), false), "channel not in {S, T, U, V, W, ...} (8 codes)"},
		{codes(seq(0, 19), seq(20, 25), false), "channel not in {U, V, W, X, Y, Z}"},
		{codes(seq(0, 6), seq(7, 25), false), "channel in {A, B, C, D, E, F, G}"},
		{codes(seq(0, 20), seq(21, 25), false), "channel not in {V, W, X, Y, Z}"},
	}
	for _, tc := range tests {
		if got := tc.c.Format(n); got != tc.want {
			t.Errorf("in %v, out %v: %q, want %q", tc.c.In, tc.c.Out, got, tc.want)
		}
	}
}

func TestRuleFormat(t *testing.T) {
	n := Names([]string{"hs4", "log_uv_kg", "risk_importer"})
	r := Rule{
		Conditions: []Condition{
			{Feature: 0, Lo: 8703, Hi: 8704, Code: true, In: []float64{8703}, Out: []float64{8704}},
			{Feature: 1, Lo: -inf, Hi: math.Log(1240)},
			{Feature: 2, Lo: 0.2, Hi: inf},
		},
		Support: 312, SupportShare: 312.0 / 39000, FraudRate: 0.71, Lift: 3.3,
	}
	want := "HS4 = 8703 and value per kg < 1,240 and importer's past fraud rate >= 20%  ->  support 312 (0.8%), fraud rate 71% (lift 3.3)"
	if got := r.Format(n); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	r = Rule{Support: 12345, SupportShare: 1, FraudRate: 0.123, Lift: 1}
	if got, want := r.String(), "every declaration  ->  support 12,345 (100%), fraud rate 12% (lift 1.0)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	r = Rule{Conditions: []Condition{{Feature: 3, Lo: 2, Hi: inf}}, Support: 7, SupportShare: 0.0007, FraudRate: 0.02, Lift: 0.045}
	if got, want := r.String(), "f3 >= 2  ->  support 7 (0.1%), fraud rate 2% (lift 0.04)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestParseRank(t *testing.T) {
	for s, want := range map[string]Rank{"z": ByZ, " rate": ByRate, "value": ByValue} {
		if got, err := ParseRank(s); err != nil || got != want {
			t.Errorf("ParseRank(%q) = %q, %v; want %q", s, got, err, want)
		}
	}
	if _, err := ParseRank("lift"); err == nil {
		t.Error("ParseRank(lift): no error")
	}
}
