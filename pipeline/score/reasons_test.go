package score

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/decl"
)

// oneRow is a batch of one declaration: HS 870323 from Japan at office
// ZA01, and an extra attribute mode_of_transport = sea.
func oneRow(t *testing.T) *rowView {
	t.Helper()
	schema := decl.Schema("mode_of_transport")
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for c, f := range schema.Fields() {
		fb := b.Field(c)
		switch f.Name {
		case decl.HSCode:
			fb.(*array.StringBuilder).Append("8703231900")
		case decl.OriginCountry:
			fb.(*array.StringBuilder).Append("JPN")
		case decl.OfficeID:
			fb.(*array.StringBuilder).Append("ZA01")
		case "mode_of_transport":
			fb.(*array.StringBuilder).Append("sea")
		default:
			fb.AppendNull()
		}
	}
	rec := b.NewRecordBatch()
	t.Cleanup(rec.Release)
	v := &rowView{}
	v.bind(rec)
	return v
}

// Sentences written out by hand for each kind of feature.
func TestSentences(t *testing.T) {
	row := oneRow(t)
	tests := []struct {
		name string
		v    float64
		want string
	}{
		{"uv_kg_ratio_hs6", 0.22, "value per kg 78% below the HS 870323 median"},
		{"uv_unit_ratio_hs6", 1.5, "value per unit 50% above the HS 870323 median"},
		{"uv_kg_ratio_hs6", 1.001, "value per kg at the HS 870323 median"},
		{"uv_kg_z_hs6", -3.24, "value per kg 3.2 robust deviations below the HS 870323 median"},
		{"uv_unit_z_hs6_origin", -2.05, "value per unit 2.0 robust deviations below the HS 870323 median for goods from JPN"},
		{"uv_kg_pct_hs6", 2.6, "value per kg at the 3rd percentile of HS 870323"},
		{"uv_kg_pct_hs6", 11, "value per kg at the 11th percentile of HS 870323"},
		{"uv_kg_pct_hs6", 21, "value per kg at the 21st percentile of HS 870323"},
		{"log_uv_kg", math.Log(12.5), "value per kg 12.5"},
		{"pricecluster_uv_low_cluster", 1, "unit value in the lowest price cluster of HS 870323"},
		{"uv_cluster_rank", 0, "unit value in price cluster 0 of HS 870323 (0 is the cheapest)"},
		{"pricecluster_uv_log_dist_median", math.Log(0.6), "unit value 40% below the HS 870323 median"},
		{"mirror_rel_gap", 0.4, "partners report 40% more HS 870323 trade from JPN than is declared"},
		{"risk_importer", 0.34, "importer's past fraud rate 34%"},
		{"risk_importer", 0.034, "importer's past fraud rate 3.4%"},
		{"risk_importer", 0.0999, "importer's past fraud rate 10%"},
		{"risk_importer_hs6", 0.5, "importer's past fraud rate on HS 870323 50%"},
		{"risk_hs6_origin", 0.12, "past fraud rate on HS 870323 from JPN 12%"},
		{"risk_hs4", 0.2, "past fraud rate on HS 8703 20%"},
		{"risk_office", 0.07, "past fraud rate at office ZA01 7%"},
		{"risk_origin", 0.25, "past fraud rate on goods from JPN 25%"},
		{"risk_extra_mode_of_transport", 0.3, "past fraud rate for mode_of_transport sea 30%"},
		{"freq_importer", 1, "importer never seen before"},
		{"freq_importer", 2, "importer seen once before"},
		{"freq_declarant", 1235, "declarant seen 1,234 times before"},
		{"log_value", math.Log1p(1234567), "declared value 1,234,567"},
		{"log_net_mass", math.Log1p(12.25), "net mass 12.25 kg"},
		{"tax_rate", 25, "duty rate 25%"},
		{"tax_to_value", 0.031, "taxes declared at 3.1% of the value"},
		{"hs2", 87, "goods declared under HS 87"},
		{"weekday", 0, "declared on a Sunday"},
		{"month", 12, "declared in December"},
		{"day_of_month", 31, "day_of_month = 31 raises the risk"},
		{"some_new_feature", -0.5, "some_new_feature = -0.5 raises the risk"},
		{"risk_importer", math.NaN(), "risk_importer missing raises the risk"},
	}
	names := make([]string, len(tests))
	for i, tc := range tests {
		names[i] = tc.name
	}
	r := NewReasoner(names)
	for i, tc := range tests {
		if got := r.sentence(row, 0, i, tc.v); got != tc.want {
			t.Errorf("%s = %v: %q, want %q", tc.name, tc.v, got, tc.want)
		}
	}
}

// Features on one topic add up and speak once, through the topic's first
// feature in the table that has a value.
func TestReasonsByTopic(t *testing.T) {
	row := oneRow(t)
	r := NewReasoner([]string{"uv_kg_z_hs6", "risk_importer", "uv_kg_ratio_hs6", "freq_importer", "tax_rate"})
	x := []float64{-3.2, 0.34, 0.22, 5, 25}
	var sc reasonScratch
	tests := []struct {
		contrib []float64
		x       []float64
		want    string
	}{
		// uv: 0.3 + 0.3 beats the importer's 0.5.
		{[]float64{0.3, 0.5, 0.3, -0.2, 0.1}, x,
			"value per kg 78% below the HS 870323 median; importer's past fraud rate 34%; duty rate 25%"},
		// Without the ratio, or when the ratio itself pulled the score down,
		// the z-score speaks for the topic.
		{[]float64{0.3, 0.5, 0.3, -0.2, 0}, []float64{-3.2, 0.34, math.NaN(), 5, 25},
			"value per kg 3.2 robust deviations below the HS 870323 median; importer's past fraud rate 34%"},
		{[]float64{0.9, 0.5, -0.1, -0.2, 0}, x,
			"value per kg 3.2 robust deviations below the HS 870323 median; importer's past fraud rate 34%"},
		// Topics pulling the score down give no reason.
		{[]float64{-0.3, 0.1, 0.1, -0.2, 0}, x, "importer's past fraud rate 34%"},
		{[]float64{0, -1, 0, 0, 0}, x, NoReason},
	}
	for _, tc := range tests {
		if got := string(r.appendReasons(nil, &sc, row, 0, tc.x, tc.contrib)); got != tc.want {
			t.Errorf("contributions %v: %q, want %q", tc.contrib, got, tc.want)
		}
	}
}
