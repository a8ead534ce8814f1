package mirror

import (
	"fmt"
	"strings"
	"testing"
)

// analyzeRows runs the analysis for KEN on bulk-layout rows
// "flow,reporter,partner,hs,value,netkg".
func analyzeRows(t *testing.T, cfg Config, rows ...string) *Gaps {
	t.Helper()
	var b strings.Builder
	b.WriteString("Year,Aggregate Level,Trade Flow Code,Reporter ISO,Partner ISO,Commodity Code,Trade Value (US$),Netweight (kg)\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "2021,6,%s\n", r)
	}
	bl, err := NewBuilder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := bl.Read(strings.NewReader(b.String()), "rules.csv"); err != nil {
		t.Fatal(err)
	}
	g, err := bl.Gaps()
	if err != nil {
		t.Fatal(err)
	}
	if g.Summary.Rejected != 0 {
		t.Fatalf("rejects: %v", g.Rejects)
	}
	return g
}

func TestMisclassificationRule(t *testing.T) {
	rates, _ := NewTariffs(map[string]float64{"8703": 25, "8701": 0, "8704": 40, "9401": 0}, "test")
	cfg := DefaultConfig("KEN")
	cfg.Tariffs = rates
	for _, c := range []struct {
		name string
		rows []string
		want int
	}{
		{"cars shipped, tractors declared", []string{"2,CHN,KEN,870323,80000,", "1,KEN,CHN,870190,88000,"}, 1},
		// 88,000 / 1.1 = 80,000 against 90,000: 11% apart.
		{"values 11% apart", []string{"2,CHN,KEN,870323,90000,", "1,KEN,CHN,870190,88000,"}, 0},
		{"declared code dearer", []string{"2,CHN,KEN,870323,80000,", "1,KEN,CHN,870421,88000,"}, 0},
		{"different chapters", []string{"2,CHN,KEN,870323,80000,", "1,KEN,CHN,940161,88000,"}, 0},
		{"different partners", []string{"2,CHN,KEN,870323,80000,", "1,KEN,IND,870190,88000,"}, 0},
		// The reporter recorded 60% of what was shipped under 870323.
		{"export surplus not most of the flow", []string{"2,CHN,KEN,870323,200000,", "1,KEN,CHN,870323,132000,", "1,KEN,CHN,870190,88000,"}, 0},
		{"unknown rates do not block", []string{"2,CHN,KEN,850110,80000,", "1,KEN,CHN,850120,88000,"}, 1},
	} {
		g := analyzeRows(t, cfg, c.rows...)
		if len(g.Misclassifications) != c.want {
			t.Errorf("%s: %d pairs %+v, want %d", c.name, len(g.Misclassifications), g.Misclassifications, c.want)
		}
	}
}

func TestUndervaluationRule(t *testing.T) {
	for _, c := range []struct {
		name string
		rows []string
		want bool
	}{
		// Import FOB 100,000; exports 125,000 (> +20%) with equal weights.
		{"equal weights, values 25% apart", []string{"1,KEN,CHN,851712,110000,1000", "2,CHN,KEN,851712,125000,1000"}, true},
		{"equal weights, values 15% apart", []string{"1,KEN,CHN,851712,110000,1000", "2,CHN,KEN,851712,115000,1000"}, false},
		{"weights 20% apart", []string{"1,KEN,CHN,851712,110000,1000", "2,CHN,KEN,851712,150000,1200"}, false},
		{"weights 9% apart", []string{"1,KEN,CHN,851712,110000,1000", "2,CHN,KEN,851712,150000,1090"}, true},
		{"no weights", []string{"1,KEN,CHN,851712,110000,", "2,CHN,KEN,851712,150000,"}, false},
	} {
		g := analyzeRows(t, DefaultConfig("KEN"), c.rows...)
		if len(g.Flows) != 1 || g.Flows[0].Undervalued != c.want {
			t.Errorf("%s: %+v, want undervalued %v", c.name, g.Flows, c.want)
		}
	}
}

// TestOutliersFirst checks the ranking rule: a robust outlier with a
// smaller gap outranks ordinary flows with larger gaps.
func TestOutliersFirst(t *testing.T) {
	var rows []string
	// Ten ordinary flows: exports 1-3% above imports FOB, large values.
	for i := range 10 {
		v := 1_000_000 * (i + 1)
		rows = append(rows, fmt.Sprintf("1,KEN,CHN,8517%02d,%d,", i, v*11/10), fmt.Sprintf("2,CHN,KEN,8517%02d,%d,", i, v*(101+i%3)/100))
	}
	// One small flow with exports double the imports.
	rows = append(rows, "1,KEN,IND,100630,55000,", "2,IND,KEN,100630,100000,")
	g := analyzeRows(t, DefaultConfig("KEN"), rows...)
	if g.Flows[0].HS != "100630" || g.Flows[0].Rank != 1 || g.Flows[0].Z < 3.5 {
		t.Errorf("first flow %s (z %.1f), want the outlier 100630", g.Flows[0].HS, g.Flows[0].Z)
	}
	for i := 2; i < 11; i++ {
		if g.Flows[i].ValueGap > g.Flows[i-1].ValueGap {
			t.Errorf("ranks %d and %d out of value-gap order", i, i+1)
		}
	}
}
