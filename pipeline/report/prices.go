package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"risklane/features/pricecluster"
	"risklane/models/metrics"
)

// PriceSection shows the unit-value distributions of the most suspicious HS6
// codes with their k-means clusters.
type PriceSection struct {
	// Groups are the HS6 groups with a low cluster, most low-cluster rows
	// first (the order `risklane cluster` prints), at most the number asked.
	Groups []PriceGroup
	// Fitted is the number of groups of the model; WithLow of them have a
	// low cluster. Rows is the number of rows assigned; LowRows of them fall
	// in a low cluster.
	Fitted, WithLow int
	Rows, LowRows   int
}

// PriceGroup is one HS6 code's unit values.
type PriceGroup struct {
	HS6   string
	Basis string // "kg" or "unit": what the unit value is per
	// Median and LowThreshold are unit values: the group's median, and the
	// price below which a declaration falls in a low cluster.
	Median, LowThreshold float64
	Silhouette           float64
	Clusters             []PriceCluster
	// Edges are the unit values at the bin edges of the histogram (equal
	// widths in log unit value); Counts[c][b] is the number of rows of
	// cluster rank c in bin b, Illicit[b] the known frauds in bin b.
	Edges   []float64
	Counts  [][]int
	Illicit []int
}

// PriceCluster is one cluster of a group, among the rows assigned.
type PriceCluster struct {
	Rank   int     // 0 = cheapest
	Centre float64 // unit value
	Low    bool
	// Rows of the data fall in the cluster; Labelled of them have a label,
	// Illicit of those are frauds.
	Rows, Labelled, Illicit int
}

// NewPriceSection summarises a fitted clustering m and its assignment a of
// the rows whose labels are given (metrics label values), drawing the unit
// values of up to top HS6 groups in bins histogram bins.
func NewPriceSection(m *pricecluster.Model, a *pricecluster.Assignment, labels []int8, top, bins int) (*PriceSection, error) {
	n := len(a.Group)
	if len(a.LogUV) != n || len(a.Rank) != n || len(a.Low) != n {
		return nil, fmt.Errorf("report: the cluster assignment's columns differ in length")
	}
	if len(labels) != n {
		return nil, fmt.Errorf("report: %d cluster assignments but %d labels", n, len(labels))
	}
	if bins < 1 {
		return nil, fmt.Errorf("report: %d unit-value bins; give at least 1", bins)
	}
	s := &PriceSection{Fitted: len(m.Groups)}
	var sus []int
	for i := range m.Groups {
		g := &m.Groups[i]
		if g.NumLow > 0 {
			s.WithLow++
			if g.Level == pricecluster.LevelHS6 {
				sus = append(sus, i)
			}
		}
	}
	rows := make([][]int, len(m.Groups))
	for i, g := range a.Group {
		if g < 0 {
			continue
		}
		if int(g) >= len(m.Groups) {
			return nil, fmt.Errorf("report: row %d is assigned to group %d, but the model has %d", i, g, len(m.Groups))
		}
		s.Rows++
		if a.Low[i] == 1 {
			s.LowRows++
		}
		rows[g] = append(rows[g], i)
	}
	slices.SortStableFunc(sus, func(x, y int) int {
		gx, gy := &m.Groups[x], &m.Groups[y]
		if c := cmp.Compare(gy.LowRows(), gx.LowRows()); c != 0 {
			return c
		}
		return cmp.Compare(gx.Code, gy.Code)
	})
	for _, gi := range sus[:min(top, len(sus))] {
		s.Groups = append(s.Groups, priceGroup(&m.Groups[gi], rows[gi], a, labels, bins))
	}
	return s, nil
}

func priceGroup(g *pricecluster.Group, rows []int, a *pricecluster.Assignment, labels []int8, bins int) PriceGroup {
	pg := PriceGroup{
		HS6: g.Name(), Basis: g.Basis.String(), Median: math.Exp(g.Median()),
		LowThreshold: math.NaN(), Silhouette: g.Silhouette,
	}
	if thr, ok := g.LowThreshold(); ok {
		pg.LowThreshold = math.Exp(thr)
	}
	for c := range g.K {
		pg.Clusters = append(pg.Clusters, PriceCluster{Rank: c, Centre: math.Exp(g.Centres[c]), Low: c < g.NumLow})
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, i := range rows {
		lo, hi = min(lo, a.LogUV[i]), max(hi, a.LogUV[i])
	}
	if len(rows) == 0 {
		return pg
	}
	if hi == lo {
		bins = 1
	}
	width := (hi - lo) / float64(bins)
	pg.Edges = make([]float64, bins+1)
	for b := range pg.Edges {
		pg.Edges[b] = math.Exp(lo + float64(b)*width)
	}
	pg.Edges[bins] = math.Exp(hi)
	pg.Counts = make([][]int, g.K)
	for c := range pg.Counts {
		pg.Counts[c] = make([]int, bins)
	}
	pg.Illicit = make([]int, bins)
	for _, i := range rows {
		b := bins - 1
		if width > 0 {
			b = min(int((a.LogUV[i]-lo)/width), bins-1)
		}
		c := int(a.Rank[i])
		if c < 0 || c >= g.K {
			continue
		}
		pg.Counts[c][b]++
		cl := &pg.Clusters[c]
		cl.Rows++
		switch labels[i] {
		case metrics.Illicit:
			cl.Labelled++
			cl.Illicit++
			pg.Illicit[b]++
		case metrics.Clean:
			cl.Labelled++
		}
	}
	return pg
}
