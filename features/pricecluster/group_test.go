package pricecluster

import (
	"bytes"
	"cmp"
	"math"
	"slices"
	"testing"
)

// TestFitGroupsEqualsFit gathers every group's rows as a distributed caller
// would (GroupsOf, then HS6 and input order), fits them one at a time and
// assembles them: the model must be Fit's, byte for byte, in one dimension
// and with ValueMass, with groups larger than MaxFitRows (sampled), rows
// without an HS6 code and rows per unit of quantity.
func TestFitGroupsEqualsFit(t *testing.T) {
	hs6, value, mass, qty, _ := synthColumns(t, 8000)
	for i := range hs6 {
		switch i % 11 {
		case 3:
			mass[i] = math.NaN() // per unit of quantity
		case 5:
			hs6[i] = NoHS6
		}
	}
	for _, cfg := range []Config{
		{Seed: 4, MaxFitRows: 300, MinGroupRows: 20},
		{Seed: 9, ValueMass: true, MaxFitRows: 250, KMax: 4},
	} {
		want, err := Fit(hs6, value, mass, qty, cfg)
		if err != nil {
			t.Fatal(err)
		}
		rows := map[GroupKey][]int{}
		for i := range hs6 {
			for _, k := range GroupsOf(hs6[i], value[i], mass[i], qty[i]) {
				rows[k] = append(rows[k], i)
			}
		}
		var groups []Group
		sampled := 0
		for k, rs := range rows {
			// The order Fit takes a group's rows in: HS6, then input order.
			slices.SortFunc(rs, func(a, b int) int { return cmp.Or(cmp.Compare(hs6[a], hs6[b]), cmp.Compare(a, b)) })
			var v, m, q []float64
			for _, r := range rs {
				v, m, q = append(v, value[r]), append(m, mass[r]), append(q, qty[r])
			}
			g, ok, err := FitGroup(k, v, m, q, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				groups = append(groups, g)
				if g.FitRows < g.N {
					sampled++
				}
			}
		}
		if sampled == 0 || len(groups) < 10 {
			t.Fatalf("%d groups, %d sampled: the test data does not test sampling", len(groups), sampled)
		}
		got, err := NewModel(cfg, groups)
		if err != nil {
			t.Fatal(err)
		}
		var a, b bytes.Buffer
		if err := want.WriteJSON(&a); err != nil {
			t.Fatal(err)
		}
		if err := got.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("value-mass %v: the model of FitGroup and NewModel differs from Fit's (%d and %d bytes)", cfg.ValueMass, b.Len(), a.Len())
		}
	}
}
