package releasetime

import (
	"fmt"
	"math"
)

// The release-time cost of an inspection budget: what inspecting the top of
// a ranked list would add to the traders' waiting time. docs/release-time.md
// ("What a budget costs") states the estimate and its limits.

// MinCell is the number of inspected and of uncontrolled declarations an
// office x mode cell needs for its own inspection delay; smaller cells use
// their mode's delay, then the overall one.
const MinCell = 30

// Cost collects, while an Analyzer measures, the release times of inspected
// and uncontrolled declarations per office and mode, and the cell of every
// declaration of a ranked list.
type Cost struct {
	index map[string]int32 // declaration id -> position in the ranked list
	cell  []int32          // position -> cell, -1 while not seen
	cells map[[2]string]int32
	keys  [][2]string
	sums  []cellSum // per cell
}

// cellSum holds count and total minutes of uncontrolled [0] and inspected
// [1] declarations.
type cellSum struct {
	n   [2]int64
	min [2]float64
}

func (c *cellSum) add(o cellSum) {
	for k := range 2 {
		c.n[k] += o.n[k]
		c.min[k] += o.min[k]
	}
}

// delay is the mean extra hours of an inspected declaration, and whether
// both sides have MinCell declarations.
func (c *cellSum) delay() (float64, bool) {
	if c.n[0] < MinCell || c.n[1] < MinCell {
		return math.NaN(), false
	}
	return (c.min[1]/float64(c.n[1]) - c.min[0]/float64(c.n[0])) / 60, true
}

// NewCost prepares a Cost for the declarations of a ranked list, ids in
// rank order. A repeated id keeps its first rank.
func NewCost(ranked []string) *Cost {
	c := &Cost{index: make(map[string]int32, len(ranked)), cell: make([]int32, len(ranked)), cells: map[[2]string]int32{}}
	for i, id := range ranked {
		if _, dup := c.index[id]; !dup {
			c.index[id] = int32(i)
		}
		c.cell[i] = -1
	}
	return c
}

// Ranked is the number of declarations in the ranked list.
func (c *Cost) Ranked() int { return len(c.cell) }

// observe records one measured declaration.
func (c *Cost) observe(id, office, mode string, inspected bool, total int64) {
	k := [2]string{office, mode}
	ci, ok := c.cells[k]
	if !ok {
		ci = int32(len(c.keys))
		c.cells[k] = ci
		c.keys = append(c.keys, k)
		c.sums = append(c.sums, cellSum{})
	}
	side := 0
	if inspected {
		side = 1
	}
	c.sums[ci].n[side]++
	c.sums[ci].min[side] += float64(total)
	if pos, ok := c.index[id]; ok && c.cell[pos] < 0 {
		c.cell[pos] = ci
	}
}

// CostRow is the estimate for one budget.
type CostRow struct {
	Budget string // as given: "5%" or a number of declarations
	// Inspected is the number of top-ranked declarations inspected.
	Inspected int
	// AddedHours is the trade hours that inspecting them adds, in total;
	// PerDeclaration the same spread over every ranked declaration (the
	// increase of the mean release time), PerInspection over the inspected.
	AddedHours, PerDeclaration, PerInspection float64
	// MarginalPerPercent is the hours added per extra percent of the list
	// inspected, from the previous budget (from 0 for the first).
	MarginalPerPercent float64
}

// CostSummary says what the estimate rests on.
type CostSummary struct {
	Ranked int // declarations in the ranked list
	// Matched counts ranked declarations measured in the data; the others
	// get the overall delay.
	Matched int
	// Overall is the overall inspection delay (hours): mean release time of
	// inspected minus uncontrolled declarations. Cells and Fallback count
	// the office x mode cells with their own delay and those using their
	// mode's or the overall one.
	Overall         float64
	Cells, Fallback int
	// ShareInspected is the share of measured declarations that were
	// inspected (yellow or red): today's practice.
	ShareInspected float64
}

// Curve estimates the added release time of inspecting the top of the
// ranked list at each budget (counts in the ranked list's rows, as
// rank.Share.Of gives them; budgets in increasing order). Each inspected
// declaration adds its cell's delay: the mean release time of inspected
// minus uncontrolled declarations of the same office and mode of transport.
func (c *Cost) Curve(budgets []string, counts []int) ([]CostRow, CostSummary, error) {
	var all cellSum
	byMode := map[string]*cellSum{}
	for i, k := range c.keys {
		all.add(c.sums[i])
		m := byMode[k[1]]
		if m == nil {
			m = &cellSum{}
			byMode[k[1]] = m
		}
		m.add(c.sums[i])
	}
	overall, ok := all.delay()
	if !ok {
		return nil, CostSummary{}, fmt.Errorf("releasetime: the data has %d inspected and %d uncontrolled declarations; the inspection delay needs at least %d of each", all.n[1], all.n[0], MinCell)
	}
	sum := CostSummary{Ranked: len(c.cell), Overall: overall}
	if n := all.n[0] + all.n[1]; n > 0 {
		sum.ShareInspected = float64(all.n[1]) / float64(n)
	}
	delays := make([]float64, len(c.keys))
	for i, k := range c.keys {
		d, ok := c.sums[i].delay()
		if ok {
			sum.Cells++
		} else {
			sum.Fallback++
			if d, ok = byMode[k[1]].delay(); !ok {
				d = overall
			}
		}
		delays[i] = d
	}
	rows := make([]CostRow, len(budgets))
	var added float64
	done, prevPct := 0, 0.0
	for _, ci := range c.cell {
		if ci >= 0 {
			sum.Matched++
		}
	}
	for b, k := range counts {
		if k < done {
			return nil, sum, fmt.Errorf("releasetime: budgets must increase (%s after %s)", budgets[b], budgets[b-1])
		}
		for ; done < k; done++ {
			if ci := c.cell[done]; ci >= 0 {
				added += delays[ci]
			} else {
				added += overall
			}
		}
		r := CostRow{Budget: budgets[b], Inspected: k, AddedHours: added}
		if n := len(c.cell); n > 0 {
			r.PerDeclaration = added / float64(n)
			pct := 100 * float64(k) / float64(n)
			prevAdded := 0.0
			if b > 0 {
				prevAdded = rows[b-1].AddedHours
			}
			if pct > prevPct {
				r.MarginalPerPercent = (added - prevAdded) / (pct - prevPct)
			} else {
				r.MarginalPerPercent = math.NaN()
			}
			prevPct = pct
		}
		r.PerInspection = math.NaN()
		if k > 0 {
			r.PerInspection = added / float64(k)
		}
		rows[b] = r
	}
	return rows, sum, nil
}
