package features_test

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"risklane/features"
	"risklane/features/groups"
)

func init() { groups.Register() }

// Terms written out by hand: the phrase a rule uses, and a value in the
// units an officer reads.
func TestTermOf(t *testing.T) {
	tests := []struct {
		name   string
		v      float64
		phrase string
		value  string
		code   bool
		known  bool
	}{
		{"log_uv_kg", math.Log(1240), "value per kg", "1,240", false, true},
		{"uv_kg_ratio_hs6", 0.4, "value per kg as a share of its HS6 median", "40%", false, true},
		{"risk_importer", 0.2, "importer's past fraud rate", "20%", false, true},
		{"risk_hs4", 0.05, "past fraud rate on its HS4", "5%", false, true},
		{"risk_extra_mode_of_transport", 0.3, "past fraud rate for its mode_of_transport", "30%", false, true},
		{"freq_importer", 3, "times importer seen before", "2", false, true},
		{"freq_hs6", 158, "times HS6 code seen before", "157", false, true},
		{"freq_origin", 1, "times origin seen before", "0", false, true},
		{"freq_extra_channel", 12, "times channel seen before", "11", false, true},
		{"log_net_mass", math.Log1p(12.25), "net mass", "12.25 kg", false, true},
		{"tax_rate", 25, "duty rate", "25%", false, true},
		{"hs4", 8703, "HS4", "8703", true, true},
		{"hs2", 9, "HS2", "09", true, true},
		{"hs6", 90111, "HS6", "090111", true, true},
		{"hs4", 8703.5, "HS4", "8,704", true, true},
		{"weekday", 1, "day of week", "Monday", true, true},
		{"month", 3, "month", "March", true, true},
		{"pricecluster_uv_low_cluster", 1, "unit value in the lowest price cluster of its HS6", "yes", true, true},
		{"pricecluster_uv_low_cluster", 0.25, "unit value in the lowest price cluster of its HS6", "no", true, true},
		{"day_of_month", 31, "day_of_month", "31", false, false},
	}
	for _, tc := range tests {
		term, known := features.TermOf(tc.name)
		if known != tc.known || term.Phrase != tc.phrase || term.Code != tc.code {
			t.Errorf("features.TermOf(%q) = {%q, code %v}, %v; want {%q, code %v}, %v", tc.name, term.Phrase, term.Code, known, tc.phrase, tc.code, tc.known)
		}
		if got := term.Value(tc.v); got != tc.value {
			t.Errorf("features.TermOf(%q).Value(%v) = %q, want %q", tc.name, tc.v, got, tc.value)
		}
	}
}

// Every phrase has a term, and a measured feature's term keeps
// the order of values: a threshold read through Value keeps its direction.
func TestTermsKeepOrder(t *testing.T) {
	example := map[string]string{"risk_hs[246]": "risk_hs4", "risk_extra_*": "risk_extra_channel", "hs[246]": "hs6"}
	vs := []float64{-3, -0.5, 0, 0.01, 0.2, 0.5, 1, 2.5, 7, 12, 30}
	phrases := features.Phrases()
	for _, want := range []string{"*uv_log_dist_median", "*mirror_rel_gap", "uv_kg_ratio_hs6"} {
		if !slices.ContainsFunc(phrases, func(p features.Phrase) bool { return p.Pattern == want }) {
			t.Errorf("no phrase for %q: the groups' phrases are not all gathered", want)
		}
	}
	for _, tp := range phrases {
		name, ok := example[tp.Pattern]
		if !ok {
			name = strings.Replace(tp.Pattern, "*", "signal_", 1)
		}
		term, known := features.TermOf(name)
		if !known || term.Phrase == "" || term.Value == nil {
			t.Errorf("pattern %q (as %q): no term", tp.Pattern, name)
			continue
		}
		if term.Code {
			continue
		}
		prev := math.Inf(-1)
		for _, v := range vs {
			shown := term.Value(v)
			got, err := strconv.ParseFloat(strings.Map(func(r rune) rune {
				if strings.ContainsRune("0123456789.-e+", r) {
					return r
				}
				return -1
			}, shown), 64)
			if err != nil {
				t.Errorf("%s: Value(%v) = %q has no number", name, v, shown)
				continue
			}
			if got < prev {
				t.Errorf("%s: Value(%v) = %q is below the value shown for a smaller input", name, v, shown)
			}
			prev = got
		}
	}
}

// A value that rounds to zero has no sign.
func TestFormatNumberZero(t *testing.T) {
	for v, want := range map[float64]string{-0.001: "0", 0.004: "0", -0.005: "-0.01", math.Copysign(0, -1): "0", -0.5: "-0.5"} {
		if got := features.FormatNumber(v); got != want {
			t.Errorf("features.FormatNumber(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestNumber(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 7: "7", 0.5: "0.5", 12.345: "12.35", 99.999: "100", 1234.4: "1,234",
		-1234567: "-1,234,567", 1e16: "1e+16", 100: "100", 999999: "999,999"} {
		if got := features.FormatNumber(v); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", v, got, want)
		}
	}
}
