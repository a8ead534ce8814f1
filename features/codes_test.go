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
