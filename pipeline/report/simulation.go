package report

import (
	"fmt"
	"time"

	"risklane/pipeline/simulate"
)

// SimulationLast is the number of last periods the simulation section
// summarises apart (the "last 20 weeks"), when the replay is longer.
const SimulationLast = 20

// SimulationSection is the table of `risklane simulate`: each strategy's
// revenue recall and precision period by period, drawn as one line per
// strategy, and the summaries over all periods and the last ones.
type SimulationSection struct {
	Path string
	// Strategies in the order of the table; Periods the first day of each
	// period.
	Strategies []string
	Periods    []string
	// Rows holds each strategy's periods, in the order of Strategies.
	Rows [][]simulate.Row
	// All sums every period; Last the last LastN (nil when the replay has
	// no more than SimulationLast periods).
	All, Last []simulate.Summary
	LastN     int
}

// NewSimulationSection arranges the rows read by simulate.ReadTable. Every
// strategy must have replayed the same periods.
func NewSimulationSection(path string, rows []simulate.Row) (*SimulationSection, error) {
	s := &SimulationSection{Path: path}
	at := map[string]int{}
	for _, r := range rows {
		i, ok := at[r.Strategy]
		if !ok {
			i = len(s.Strategies)
			at[r.Strategy] = i
			s.Strategies = append(s.Strategies, r.Strategy)
			s.Rows = append(s.Rows, nil)
		}
		s.Rows[i] = append(s.Rows[i], r)
	}
	if len(s.Rows) == 0 {
		return nil, fmt.Errorf("report: simulation table %s has no period", path)
	}
	for i, rs := range s.Rows {
		if len(rs) != len(s.Rows[0]) {
			return nil, fmt.Errorf("report: simulation table %s: strategy %q has %d periods, %q %d: not one replay", path, s.Strategies[i], len(rs), s.Strategies[0], len(s.Rows[0]))
		}
		for p, r := range rs {
			if !r.From.Equal(s.Rows[0][p].From) {
				return nil, fmt.Errorf("report: simulation table %s: period %d of %q starts %s, of %q %s: not one replay", path, p+1,
					s.Strategies[i], r.From.Format(time.DateOnly), s.Strategies[0], s.Rows[0][p].From.Format(time.DateOnly))
			}
		}
	}
	for _, r := range s.Rows[0] {
		s.Periods = append(s.Periods, r.From.Format(time.DateOnly))
	}
	s.All = simulate.Summarize(rows, 1)
	if n := len(s.Periods); n > SimulationLast {
		s.LastN = SimulationLast
		s.Last = simulate.Summarize(rows, n-SimulationLast+1)
	}
	return s, nil
}

// SimulationTable is one summary table of the section.
type SimulationTable struct {
	Title string
	Rows  []simulate.Summary
}

// Tables returns the summaries to print: all periods, then the last ones.
func (s *SimulationSection) Tables() []SimulationTable {
	t := []SimulationTable{{Title: fmt.Sprintf("All %d periods", len(s.Periods)), Rows: s.All}}
	if s.Last != nil {
		t = append(t, SimulationTable{Title: fmt.Sprintf("Last %d periods", s.LastN), Rows: s.Last})
	}
	return t
}

// strategyColours tell the strategies apart; the first is the pure model.
var strategyColours = []string{colClean, colIllicit, colRecall, colRevenue, "#7b5ea7", colMuted, "#17becf", "#8c564b", "#e377c2", "#2b2b2b"}

// simulationChart draws one metric of every strategy over the periods.
func simulationChart(s *SimulationSection, id, title string, metric func(simulate.Row) float64) chart {
	var series []any
	for i, rs := range s.Rows {
		data := make([]any, len(rs))
		for p, r := range rs {
			data[p] = jnum(metric(r), 4)
		}
		series = append(series, obj{"name": s.Strategies[i], "type": "line", "data": data, "showSymbol": false,
			"itemStyle": obj{"color": strategyColours[i%len(strategyColours)]}, "lineStyle": obj{"width": 2}})
	}
	o := baseOption()
	o["title"] = obj{"text": title, "left": "center", "top": 0, "textStyle": obj{"fontSize": 13}}
	o["legend"] = obj{"bottom": 0, "data": s.Strategies}
	o["grid"] = obj{"left": 60, "right": 20, "top": 40, "bottom": 30 + 25*((len(s.Strategies)+2)/3)}
	o["xAxis"] = obj{"type": "category", "data": s.Periods, "boundaryGap": false}
	o["yAxis"] = obj{"type": "value", "min": 0, "max": 1}
	o["series"] = series
	return chart{ID: id, Height: 320 + 25*((len(s.Strategies)+2)/3), Option: o}
}

// simulationCharts draws the revenue recall and the precision per period.
func simulationCharts(s *SimulationSection) []chart {
	return []chart{
		simulationChart(s, "chart-simulation-revenue", "revenue recall per period (share of the period's fraud revenue collected)",
			func(r simulate.Row) float64 { return r.RevenueRecall }),
		simulationChart(s, "chart-simulation-precision", "precision per period (share of inspections that found fraud)",
			func(r simulate.Row) float64 { return r.Precision }),
	}
}
