package releasetime

import (
	"math"
	"strings"
	"testing"
)

// TestCostHandWorked works the budget cost by hand: a cell with enough
// declarations uses its own delay, a small cell the overall one, and a
// ranked declaration that was not measured the overall one too.
func TestCostHandWorked(t *testing.T) {
	c := NewCost([]string{"R1", "R2", "R3", "R4", "R1"})
	for i := range 30 {
		id := ""
		if i == 0 {
			id = "R1"
		}
		if i == 1 {
			id = "R4"
		}
		c.observe(id, "O1", "sea", false, 600) // 10 h
		c.observe("", "O1", "sea", true, 1200) // 20 h: delay 10 h
	}
	for i := range 40 {
		id := ""
		if i == 0 {
			id = "R2"
		}
		c.observe(id, "O2", "air", false, 120)
	}
	for range 5 {
		c.observe("", "O2", "air", true, 600) // too few inspected for a delay of its own
	}
	// Overall: uncontrolled (30*600+40*120)/70 min, inspected (30*1200+5*600)/35.
	overall := ((30*1200.0+5*600)/35 - (30*600.0+40*120)/70) / 60
	rows, sum, err := c.Curve([]string{"20%", "40%", "4"}, []int{1, 2, 4})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ranked != 5 || sum.Matched != 3 || sum.Cells != 1 || sum.Fallback != 1 || math.Abs(sum.Overall-overall) > 1e-12 ||
		math.Abs(sum.ShareInspected-35.0/105) > 1e-12 {
		t.Fatalf("summary %+v (overall want %g)", sum, overall)
	}
	want := []float64{10, 10 + overall, 10 + overall + overall + 10}
	for i, r := range rows {
		if math.Abs(r.AddedHours-want[i]) > 1e-9 {
			t.Errorf("budget %s: added %g h, want %g", r.Budget, r.AddedHours, want[i])
		}
	}
	if r := rows[0]; math.Abs(r.MarginalPerPercent-10.0/20) > 1e-12 || r.PerInspection != 10 || math.Abs(r.PerDeclaration-10.0/5) > 1e-12 {
		t.Errorf("first row %+v", r)
	}
	if r := rows[2]; math.Abs(r.MarginalPerPercent-(overall+10)/40) > 1e-12 {
		t.Errorf("last row %+v: marginal want %g", r, (overall+10)/40)
	}
	if _, _, err := c.Curve([]string{"40%", "20%"}, []int{2, 1}); err == nil {
		t.Error("decreasing budgets were accepted")
	}
	empty := NewCost(nil)
	empty.observe("", "O", "sea", false, 10)
	if _, _, err := empty.Curve([]string{"5%"}, []int{0}); err == nil || !strings.Contains(err.Error(), "at least 30") {
		t.Errorf("no inspected declarations: %v", err)
	}
}
