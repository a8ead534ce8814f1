package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"

	"risklane/models/metrics"
	"risklane/sink"
)

//go:embed page.html.tmpl
var pageTemplate string

//go:embed boot.js
var bootJS string

// EChartsVersion is the version of the embedded chart library.
const EChartsVersion = "5.6.0"

// RulesSection lists the model's strongest decision paths as readable rules.
type RulesSection struct {
	// Rows is the number of labelled declarations the rules were measured
	// on.
	Rows  int
	Rules []Rule
}

// Rule is one decision path: its conditions in words, how many labelled
// declarations follow it and how many of those are frauds, and its lift
// (its fraud rate over the overall fraud rate). Tree and Leaf locate the
// path in the model: tree index and XGBoost leaf node id.
type Rule struct {
	Text          string
	Rows, Illicit int
	Lift          float64
	Tree, Leaf    int
}

// DefaultTopFlows is the number of mirror flows drawn in the chart (the table
// lists every flow of the section).
const DefaultTopFlows = 12

// payload is the JSON the page's script reads: the chart options and the
// world outlines.
type payload struct {
	Charts []chart            `json:"charts"`
	Geo    *FeatureCollection `json:"geo,omitempty"`
	Budget any                `json:"budget,omitempty"`
}

type page struct {
	*Data
	Frame
	heights map[string]int
}

// charts builds the option of every chart the data has.
func (d *Data) charts() []chart {
	var cs []chart
	if d.Metrics != nil {
		cs = append(cs, curveChart(d.Metrics))
	}
	if d.Scores != nil {
		cs = append(cs, scoreChart(d.Scores))
	}
	if d.Prices != nil {
		for i := range d.Prices.Groups {
			cs = append(cs, priceChart(i, &d.Prices.Groups[i]))
		}
	}
	if d.Mirror != nil && len(d.Mirror.Flows) > 0 {
		cs = append(cs, mirrorChart(d.Mirror, DefaultTopFlows))
	}
	if d.Map != nil {
		cs = append(cs, mapChart(d.Map))
	}
	if d.Forecast != nil {
		for i := range d.Forecast.Curves {
			cs = append(cs, forecastChart(i, &d.Forecast.Curves[i]))
		}
	}
	if d.Release != nil {
		cs = append(cs, releaseChart(d.Release))
	}
	if d.Simulation != nil {
		cs = append(cs, simulationCharts(d.Simulation)...)
	}
	return cs
}

// ChartIDs returns the element ids of the charts the report of d draws, for
// tests that check every one rendered.
func (d *Data) ChartIDs() []string {
	cs := d.charts()
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// Write renders the report as one self-contained HTML page.
func Write(w io.Writer, d *Data) error {
	cs := d.charts()
	p := &page{Data: d, Frame: NewFrame("report-data", bootJS), heights: map[string]int{}}
	data := payload{Charts: cs}
	for _, c := range cs {
		p.heights[c.ID] = c.Height
	}
	if d.Map != nil {
		geo, err := worldMap()
		if err != nil {
			return err
		}
		data.Geo = geo
		data.Budget = jnum(d.Map.BudgetPct, 2)
	}
	p.Payload = data
	return Render(w, pageTemplate, funcs(p), p)
}

// WriteFile writes the report to path atomically.
func WriteFile(path string, d *Data) error {
	return sink.WriteAtomic(path, func(w io.Writer) error { return Write(w, d) })
}

func funcs(p *page) template.FuncMap {
	return template.FuncMap{
		"chartHeight":    func(id string) int { return p.heights[id] },
		"minMapLabelled": func() int { return MinMapLabelled },
		"na": func(section string) template.HTML {
			why := p.Unavailable[section]
			if why == "" {
				why = "this report was made without the data this section needs."
			}
			return template.HTML(`<p class="na">Not available yet: ` + template.HTMLEscapeString(why) + `</p>`)
		},
		"headline":  headline,
		"pct":       func(v float64) string { return pctString(100*v, 1) },
		"pctPoints": func(v float64) string { return pctString(v, 1) },
		"pctOf": func(a, b int) string {
			if b == 0 {
				return "-"
			}
			return pctString(100*float64(a)/float64(b), 1)
		},
		"lift": func(prec, base float64) string {
			if !(base > 0) || math.IsNaN(prec) {
				return "-"
			}
			return strconv.FormatFloat(prec/base, 'f', 1, 64) + "×"
		},
		"num":         func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) },
		"int":         thousands,
		"dec1":        func(v float64) string { return fixed(v, 1) },
		"dec2":        func(v float64) string { return fixed(v, 2) },
		"dec3":        func(v float32) string { return fixed(float64(v), 3) },
		"dec4":        func(v float64) string { return fixed(v, 4) },
		"dec3f":       func(v float64) string { return fixed(v, 3) },
		"sig3":        sig3,
		"money":       money,
		"add":         func(a, b int) int { return a + b },
		"join":        strings.Join,
		"rowLabel":    rowLabel,
		"isNaN":       math.IsNaN,
		"count":       func(n int64) string { return thousands(int(n)) },
		"firstGroups": func(n int, gs []ForecastGroup) []ForecastGroup { return gs[:min(n, len(gs))] },
		"hours":       func(v float64) string { return fixed(v, 1) },
		"first":       func(n int, cs []CountryStat) []CountryStat { return cs[:min(n, len(cs))] },
		"outcome": func(l int8) template.HTML {
			switch l {
			case metrics.Illicit:
				return `<span class="tag fraud">fraud</span>`
			case metrics.Clean:
				return `<span class="tag clean">clean</span>`
			}
			return `<span class="tag unknown">not inspected</span>`
		},
	}
}

// headline says in one sentence what inspecting the top 5% achieves.
func headline(m *MetricsSection) string {
	a, ok := m.At(5)
	if !ok || !(m.FraudRate > 0) {
		return ""
	}
	s := fmt.Sprintf("Inspecting the 5%% highest-scored declarations (%s of %s) finds %s frauds: %s of those inspections hit, against %s when inspecting at random (%s times better).",
		thousands(a.K), thousands(m.Report.N), thousands(a.Hits), pctString(100*a.Precision, 1), pctString(100*m.FraudRate, 1),
		strconv.FormatFloat(a.Precision/m.FraudRate, 'f', 1, 64))
	if !math.IsNaN(a.Revenue) {
		s += fmt.Sprintf(" They recover %s of the fraud revenue.", pctString(100*a.Revenue, 1))
	}
	return s
}

func pctString(v float64, digits int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', digits, 64) + "%"
}

func fixed(v float64, digits int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', digits, 64)
}

// money writes whole currency units with thousands separators.
func money(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return thousands(int(math.Round(v)))
}
