package features

import (
	"math"
	"testing"
)

// handRows is the training history of the hand-worked example. Unit values
// are e^0 .. e^5 per kg so that their logs are whole numbers.
func handRows() []row {
	e := math.Exp
	return []row{
		{ID: "1", Date: "2020-01-01", Office: "O1", Importer: "A", Declarant: "D1", HS: "010121", Origin: "CN", Mass: 1, Value: e(0), Rate: 8, Illicit: 1, Extra: "G"},
		{ID: "2", Date: "2020-01-02", Office: "O1", Importer: "A", Declarant: "D1", HS: "010121", Origin: "CN", Mass: 1, Value: e(1), Rate: 8, Illicit: 1, Extra: "R"},
		{ID: "3", Date: "2020-01-03", Office: "O1", Importer: "A", Declarant: "D2", HS: "010129", Origin: "KR", Mass: 1, Value: e(3), Rate: 8, Illicit: 0, Extra: "G"},
		{ID: "4", Date: "2020-01-04", Office: "O2", Importer: "B", Declarant: "D2", HS: "010129", Origin: "CN", Mass: 1, Value: e(4), Rate: 0, Illicit: 0},
		{ID: "5", Date: "2020-01-05", Office: "O2", Importer: "B", Declarant: "D2", HS: "020110", Origin: "CN", Mass: 1, Value: e(5), Rate: 0, Illicit: 0, Extra: "G"},
		{ID: "6", Date: "2020-01-06", Office: "O2", Importer: "C", Declarant: "D1", HS: "010121", Origin: "KR", Mass: 1, Value: e(2), Rate: 8, Illicit: -1, Extra: "G"},
	}
}

// TestHandWorked checks the scoring-time features of three new declarations
// against values worked out by hand (smoothing m = 2, references need 3
// values).
//
// Labelled rows 1-5 have 2 frauds: prior 2/5. With rate = (frauds + m *
// parent) / (labelled + m):
//
//	importer A: (2 + 2*0.4) / (3 + 2) = 0.56; B: 0.8/4 = 0.2
//	HS2 01 (rows 1-4): 2.8/6 = 7/15; HS2 02: 0.8/3 = 4/15
//	HS4 0101: (2 + 2*7/15)/6 = 22/45; HS4 0201: (2*4/15)/3 = 8/45
//	HS6 010121 (rows 1, 2; row 6 unlabelled): (2 + 2*22/45)/4 = 67/90
//	importer A x HS6 010121: (2 + 0.8)/4 = 0.7, as HS6 010121 x CN
//
// Log unit values of HS6 010121 are rows 1, 2, 6: {0, 1, 2}: median 1, MAD
// 1, quantiles 0..2 linear, so x = 1.5 sits at the 75th percentile. HS6
// 010129 has 2 values, so HS4 0101 = {0, 1, 2, 3, 4} (median 2, MAD 1) is
// used. HS2 99 is unknown: the global reference {0..5} has median 2.5 and MAD
// 1.5. HS6 010121 x CN has only 2 values: the HS6 reference is used.
func TestHandWorked(t *testing.T) {
	train := makeBatch(t, handRows())
	st, m, err := Fit([]arrowBatch{train}, Config{Groups: BuiltinGroups, Folds: 2, Smoothing: 2, MinReference: 3, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	score := makeBatch(t, []row{
		{ID: "a", Date: "2021-02-03", Office: "O1", Importer: "A", Declarant: "D1", HS: "010121", Origin: "CN", Mass: 2, Value: 2 * math.Exp(1.5), Rate: 8, Illicit: 0, Extra: "R"},
		{ID: "b", Date: "2021-02-04", Office: "O9", Importer: "D", Declarant: "D1", HS: "010199", Origin: "CN", Mass: 1, Value: math.Exp(2), Rate: 5, Illicit: 0, Extra: "Z"},
		{ID: "c", Date: "", Office: "O1", Importer: "A", Declarant: "D1", HS: "990000", Origin: "FR", Mass: 1, Value: math.Exp(2.5), Rate: nan, Illicit: 0},
	})
	cols, err := st.Transform(score, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := st.Names()
	z := func(x, med, mad float64) float64 { return (x - med) / (1.4826*mad + 0.05) }
	want := map[string][3]float64{
		"hs2":                  {1, 1, 99},
		"hs4":                  {101, 101, 9900},
		"hs6":                  {10121, 10199, 990000},
		"log_value":            {math.Log1p(2 * math.Exp(1.5)), math.Log1p(math.Exp(2)), math.Log1p(math.Exp(2.5))},
		"log_net_mass":         {math.Log1p(2), math.Log1p(1), math.Log1p(1)},
		"log_uv_kg":            {1.5, 2, 2.5},
		"uv_kg_z_hs6":          {z(1.5, 1, 1), z(2, 2, 1), z(2.5, 2.5, 1.5)},
		"uv_kg_pct_hs6":        {75, 50, 50},
		"uv_kg_ratio_hs6":      {math.Exp(0.5), 1, 1},
		"uv_kg_z_hs6_origin":   {z(1.5, 1, 1), z(2, 2, 1), z(2.5, 2.5, 1.5)},
		"tax_rate":             {8, 5, nan},
		"log_duty":             {math.Log1p(2 * math.Exp(1.5) * 0.08), math.Log1p(math.Exp(2) * 0.05), nan},
		"risk_importer":        {0.56, 0.4, 0.56},
		"risk_hs2":             {7.0 / 15, 7.0 / 15, 0.4},
		"risk_hs4":             {22.0 / 45, 22.0 / 45, 0.4},
		"risk_hs6":             {67.0 / 90, 22.0 / 45, 0.4},
		"risk_importer_hs6":    {0.7, 0.4, 0.4},
		"risk_hs6_origin":      {0.7, 0.4, 0.4},
		"freq_importer":        {4, 1, 4},
		"freq_hs6":             {4, 1, 1},
		"freq_hs6_origin":      {3, 1, 1},
		"freq_office":          {4, 1, 4},
		"weekday":              {3, 4, nan},
		"month":                {2, 2, nan},
		"day_of_month":         {3, 4, nan},
		"code_extra_channel":   {2, nan, 0},
		"freq_extra_channel":   {2, 1, 2},
		"risk_extra_channel":   {(1 + 0.8) / 3, 0.4, (0 + 0.8) / 3},
		"freq_declarant":       {4, 4, 4},
		"risk_office_importer": {(2 + 0.8) / 5, 0.4, (2 + 0.8) / 5},
	}
	for name, w := range want {
		got := col(t, names, cols, name)
		for i := range w {
			if !close(got[i], w[i]) {
				t.Errorf("%s row %c = %v, want %v", name, 'a'+i, got[i], w[i])
			}
		}
	}
	for _, n := range []string{"log_quantity", "severity", "risk_seller", "code_extra_severity"} {
		for _, have := range names {
			if have == n {
				t.Errorf("feature %s exists; its column is empty or a label", n)
			}
		}
	}

	// Training rows: label-free features are as at scoring time, except
	// that a row is already in its own counts.
	if got := col(t, names, m.Cols, "freq_importer")[0]; got != 3 {
		t.Errorf("training freq_importer of row 1 = %v, want 3", got)
	}
	if got := col(t, names, m.Cols, "uv_kg_z_hs6")[0]; !close(got, z(0, 1, 1)) {
		t.Errorf("training uv_kg_z_hs6 of row 1 = %v, want %v", got, z(0, 1, 1))
	}
	if got := col(t, names, m.Cols, "uv_kg_pct_hs6")[1]; !close(got, 50) {
		t.Errorf("training uv_kg_pct_hs6 of row 2 = %v, want 50", got)
	}
}

func close(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b))
}

// TestOutOfFoldHandWorked checks the training rows' fraud rates against the
// rates computed from the other fold's rows alone, by a second, direct
// implementation: fit on the other fold and transform this one.
func TestOutOfFoldHandWorked(t *testing.T) {
	rows := handRows()
	train := makeBatch(t, rows)
	cfg := Config{Folds: 2, Smoothing: 2, MinReference: 3, Seed: 7, Groups: []string{GroupRisk}}
	st, m, err := Fit([]arrowBatch{train}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for f := uint8(0); f < 2; f++ {
		var other, this []row
		for i, r := range rows {
			if m.Fold[i] == f {
				this = append(this, r)
			} else {
				other = append(other, r)
			}
		}
		if len(this) == 0 || len(other) == 0 {
			t.Fatalf("seed 7 leaves fold %d or its complement empty: %v", f, m.Fold)
		}
		ref, _, err := Fit([]arrowBatch{makeBatch(t, other)}, cfg)
		if err != nil {
			t.Fatalf("fold %d: %v", f, err)
		}
		want, err := ref.Transform(makeBatch(t, this), nil)
		if err != nil {
			t.Fatal(err)
		}
		j := 0
		for i := range rows {
			if m.Fold[i] != f {
				continue
			}
			for c, name := range st.Names() {
				w := col(t, ref.Names(), want, name)[j]
				if !close(m.Cols[c][i], w) {
					t.Errorf("row %d (fold %d) %s = %v, want %v from the other fold", i+1, f, name, m.Cols[c][i], w)
				}
			}
			j++
		}
	}
}
