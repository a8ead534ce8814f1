package pricecluster_test

import (
	"fmt"

	"risklane/features/pricecluster"
)

// Fit on training declarations, then Apply to new ones batch by batch. The
// threshold is the midpoint of the two centres, ln 300 and about ln 1003; an
// unseen HS6 code (870399) falls back to its HS4 heading.
func Example() {
	var codes []string
	var value, mass []float64
	for i := range 60 {
		codes = append(codes, "8703.21.90")
		price := 1000.0 + float64(i%7) // most cars at about 1,000 per kg
		if i%10 == 0 {
			price = 300 // every tenth declared at 30%
		}
		value = append(value, price*1200)
		mass = append(mass, 1200)
	}
	hs6 := pricecluster.HS6Codes(codes, nil)
	m, err := pricecluster.Fit(hs6, value, mass, nil, pricecluster.Config{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	g := &m.Groups[0]
	thr, _ := g.LowThreshold()
	fmt.Printf("group %s: k %d, %d low cluster(s) below log price %.2f\n", g.Name(), g.K, g.NumLow, thr)

	var a pricecluster.Assignment
	newHS6 := pricecluster.HS6Codes([]string{"870321", "870321", "870399"}, nil)
	if err := m.Apply(newHS6, []float64{1_200_000, 400_000, 500_000}, []float64{1200, 1200, 1000}, nil, &a); err != nil {
		fmt.Println(err)
		return
	}
	for i := range a.Group {
		fmt.Printf("row %d: %s, rank %d, low %d, %.0f%%\n", i, m.Groups[a.Group[i]].Name(), a.Rank[i], a.Low[i], a.Pctl[i])
	}
	// Output:
	// group 870321: k 2, 1 low cluster(s) below log price 6.31
	// row 0: 870321, rank 1, low 0, 18%
	// row 1: 870321, rank 0, low 1, 5%
	// row 2: 8703, rank 0, low 1, 7%
}
