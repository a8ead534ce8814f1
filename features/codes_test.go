package features

import (
	"math"
	"slices"
	"testing"
)

// The hand-worked history has channel G or R (and one blank): codes are
// given in the sorted order of the values, and the training column holds
// them.
func TestLabels(t *testing.T) {
	st, m, err := Fit([]arrowBatch{makeBatch(t, handRows())}, Config{Folds: 2, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	names := st.Names()
	code := slices.Index(names, "code_extra_channel")
	if code < 0 {
		t.Fatalf("no code_extra_channel in %v", names)
	}
	labels := st.Labels(code)
	if want := []string{"", "G", "R"}; !slices.Equal(labels, want) {
		t.Fatalf("Labels(code_extra_channel) = %q, want %q", labels, want)
	}
	for i, r := range handRows() {
		v := m.Cols[code][i]
		if math.IsNaN(v) || v < 0 || int(v) >= len(labels) || labels[int(v)] != r.Extra {
			t.Errorf("row %d: code %v; the row says %q", i, v, r.Extra)
		}
	}
	for _, f := range []int{-1, slices.Index(names, "hs4"), slices.Index(names, "risk_extra_channel"), len(names)} {
		if got := st.Labels(f); got != nil {
			t.Errorf("Labels(%d) = %q, want nil", f, got)
		}
	}
}

// Fitting again with a state's Config on the same history gives the same
// state, byte for byte, and the same training features.
func TestConfigRefits(t *testing.T) {
	hist := []arrowBatch{makeBatch(t, handRows())}
	st, m, err := Fit(hist, Config{Folds: 3, Smoothing: 4, MinReference: 2, Seed: 9, Groups: []string{GroupHS, GroupRisk, GroupUnitValue}})
	if err != nil {
		t.Fatal(err)
	}
	again, m2, err := Fit(hist, st.Config())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := st.MarshalJSON()
	b, _ := again.MarshalJSON()
	if string(a) != string(b) {
		t.Fatalf("refitted state differs:\n%s\n%s", a, b)
	}
	for j := range m.Cols {
		if !slices.EqualFunc(m.Cols[j], m2.Cols[j], func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }) {
			t.Errorf("feature %s differs: %v, %v", m.Names[j], m.Cols[j], m2.Cols[j])
		}
	}
	if c := st.Config(); c.Folds != 3 || c.Smoothing != 4 || c.MinReference != 2 || c.Seed != 9 || !slices.Equal(c.Groups, []string{GroupHS, GroupRisk, GroupUnitValue}) {
		t.Errorf("Config() = %+v", c)
	}
}
