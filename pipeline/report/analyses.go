package report

import (
	"fmt"
	"math"
	"slices"

	"risklane/analysis/forecast"
	"risklane/analysis/releasetime"
)

// The sections of the analyses that run on their own (risklane forecast,
// risklane release-time) and reach the report as the tables they wrote.

// ForecastGroups is the number of forecast groups the report draws.
const ForecastGroups = 4

// ForecastSection is the forecast table of `risklane forecast`: the groups
// with the largest recent values drawn, every group in the table.
type ForecastSection struct {
	Path string
	// Curves are the drawn groups, largest last-year total first.
	Curves []forecast.Curve
	// Groups is one line per group of the file, in the same order.
	Groups []ForecastGroup
	// Horizon is the number of forecast periods (the longest group's).
	Horizon int
	// TotalNext is the sum over groups of the point forecasts of the whole
	// horizon; TotalLast the sum of the same number of last observed
	// periods (NaN when a group's history is shorter).
	TotalNext, TotalLast float64
}

// ForecastGroup summarises one group's forecast.
type ForecastGroup struct {
	Group, Method string
	// Next is the first forecast period, with its point forecast and 95%
	// interval.
	Next                    string
	Value, Lower95, Upper95 float64
	// Sum is the point forecast summed over the horizon; LastSum the same
	// number of last observed periods.
	Sum, LastSum float64
}

// NewForecastSection summarises curves read by forecast.ReadTable.
func NewForecastSection(path string, curves []forecast.Curve, drawn int) (*ForecastSection, error) {
	if len(curves) == 0 {
		return nil, fmt.Errorf("report: forecast table %s has no group", path)
	}
	s := &ForecastSection{Path: path}
	for _, c := range curves {
		s.Horizon = max(s.Horizon, len(c.Forecast))
	}
	recent := make([]float64, len(curves))
	for i, c := range curves {
		g := ForecastGroup{Group: c.Group, Method: c.Method, Value: math.NaN(), Lower95: math.NaN(), Upper95: math.NaN()}
		if len(c.Forecast) > 0 {
			f := c.Forecast[0]
			g.Next, g.Value, g.Lower95, g.Upper95 = f.Period, f.Value, f.Lower95, f.Upper95
		}
		for _, f := range c.Forecast {
			g.Sum += f.Value
		}
		g.LastSum = math.NaN()
		if h := len(c.Forecast); h > 0 && len(c.History) >= h {
			g.LastSum = 0
			for _, p := range c.History[len(c.History)-h:] {
				g.LastSum += p.Value
			}
		}
		s.TotalNext += g.Sum
		s.TotalLast += g.LastSum
		// The drawing order: the last 12 observed periods' total.
		for _, p := range c.History[max(0, len(c.History)-12):] {
			recent[i] += p.Value
		}
		s.Groups = append(s.Groups, g)
	}
	order := make([]int, len(curves))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if recent[a] != recent[b] {
			if recent[a] > recent[b] {
				return -1
			}
			return 1
		}
		return 0
	})
	for _, i := range order[:min(drawn, len(order))] {
		s.Curves = append(s.Curves, curves[i])
	}
	return s, nil
}

// forecastChart draws one group: its history, the point forecast and the
// 80% and 95% intervals as bands.
func forecastChart(i int, c *forecast.Curve) chart {
	var periods []string
	hist := make([]any, 0, len(c.History)+len(c.Forecast))
	fc := make([]any, 0, len(c.History)+len(c.Forecast))
	var lo95, band95, lo80, band80 []any
	for _, p := range c.History {
		periods = append(periods, p.Period)
		hist = append(hist, jnum(p.Value, 2))
		fc = append(fc, nil)
		lo95, band95, lo80, band80 = append(lo95, nil), append(band95, nil), append(lo80, nil), append(band80, nil)
	}
	if n := len(c.History); n > 0 && len(c.Forecast) > 0 {
		// The forecast line starts at the last observation.
		fc[n-1] = hist[n-1]
	}
	for _, p := range c.Forecast {
		periods = append(periods, p.Period)
		hist = append(hist, nil)
		fc = append(fc, jnum(p.Value, 2))
		lo95 = append(lo95, jnum(p.Lower95, 2))
		band95 = append(band95, jnum(p.Upper95-p.Lower95, 2))
		lo80 = append(lo80, jnum(p.Lower80, 2))
		band80 = append(band80, jnum(p.Upper80-p.Lower80, 2))
	}
	// A band is a transparent lower line with the interval's width stacked
	// on it.
	band := func(name, stack string, lower, width []any, opacity float64) []any {
		return []any{
			obj{"name": name, "type": "line", "data": lower, "stack": stack, "showSymbol": false, "silent": true,
				"lineStyle": obj{"opacity": 0}, "tooltip": obj{"show": false}},
			obj{"name": name, "type": "line", "data": width, "stack": stack, "showSymbol": false, "silent": true,
				"lineStyle": obj{"opacity": 0}, "areaStyle": obj{"color": colRevenue, "opacity": opacity}, "tooltip": obj{"show": false}},
		}
	}
	o := baseOption()
	o["title"] = obj{"text": c.Group + ": " + c.Method, "left": "center", "textStyle": obj{"fontSize": 13}}
	o["legend"] = obj{"bottom": 0, "data": []string{"observed", "forecast", "95% interval", "80% interval"}}
	o["grid"] = obj{"left": 70, "right": 20, "top": 40, "bottom": 70}
	o["xAxis"] = obj{"type": "category", "data": periods, "boundaryGap": false}
	o["yAxis"] = obj{"type": "value", "scale": true}
	series := band("95% interval", "b95", lo95, band95, 0.18)
	series = append(series, band("80% interval", "b80", lo80, band80, 0.30)...)
	series = append(series,
		obj{"name": "observed", "type": "line", "data": hist, "showSymbol": false, "itemStyle": obj{"color": colClean}, "lineStyle": obj{"width": 2}},
		obj{"name": "forecast", "type": "line", "data": fc, "showSymbol": false, "itemStyle": obj{"color": colRevenue}, "lineStyle": obj{"width": 2, "type": "dashed"}})
	o["series"] = series
	return chart{ID: fmt.Sprintf("chart-forecast-%d", i), Height: 300, Option: o}
}

// ReleaseSection is the breakdown of `risklane release-time`: where the
// time from arrival to release goes, by lane and by control.
type ReleaseSection struct {
	Path    string
	Targets []float64
	// All is the row over every declaration; Rows the lane, inspected and
	// mode rows, then the ReleaseOffices slowest offices (by mean).
	All  releasetime.Row
	Rows []releasetime.Row
	// Bars are the rows drawn as stacked stages: all, then lanes.
	Bars []releasetime.Row
}

// ReleaseOffices is the number of offices the release section lists.
const ReleaseOffices = 10

// NewReleaseSection selects the rows the report shows from a table read by
// releasetime.ReadTable.
func NewReleaseSection(path string, rows []releasetime.Row, targets []float64) (*ReleaseSection, error) {
	s := &ReleaseSection{Path: path, Targets: targets}
	found := false
	var offices []releasetime.Row
	for _, r := range rows {
		switch r.Dimension {
		case releasetime.All:
			s.All, found = r, true
		case releasetime.ByLane, releasetime.ByControl, releasetime.ByMode:
			s.Rows = append(s.Rows, r)
		case releasetime.ByOffice:
			offices = append(offices, r)
		}
	}
	if !found {
		return nil, fmt.Errorf("report: release-time table %s has no %q row", path, releasetime.All)
	}
	slices.SortStableFunc(offices, func(a, b releasetime.Row) int {
		if a.Mean != b.Mean {
			if a.Mean > b.Mean {
				return -1
			}
			return 1
		}
		return 0
	})
	s.Rows = append(s.Rows, offices[:min(ReleaseOffices, len(offices))]...)
	s.Bars = append(s.Bars, s.All)
	for _, r := range s.Rows {
		if r.Dimension == releasetime.ByLane || r.Dimension == releasetime.ByControl {
			s.Bars = append(s.Bars, r)
		}
	}
	return s, nil
}

// releaseChart draws the mean hours of each stage, stacked, for every row of
// Bars: the stacks add up to the mean arrival-to-release time.
func releaseChart(s *ReleaseSection) chart {
	var cats []string
	for _, r := range s.Bars {
		cats = append(cats, rowLabel(r))
	}
	colours := []string{"#9aa5b1", "#4a7ab7", "#e39b1b", "#d1352b", "#7b5ea7", "#3f9c5a"}
	var series []any
	for st := releasetime.Stage(0); st < releasetime.NumStages; st++ {
		data := make([]any, len(s.Bars))
		for i, r := range s.Bars {
			data[i] = jnum(r.Stages[st], 2)
		}
		series = append(series, obj{"name": st.String(), "type": "bar", "stack": "stages", "data": data,
			"itemStyle": obj{"color": colours[int(st)%len(colours)]}})
	}
	o := baseOption()
	o["tooltip"] = obj{"trigger": "axis", "axisPointer": obj{"type": "shadow"}}
	o["legend"] = obj{"top": 0}
	o["grid"] = obj{"left": 110, "right": 30, "top": 60, "bottom": 50}
	o["yAxis"] = obj{"type": "category", "data": cats, "inverse": true}
	o["xAxis"] = obj{"type": "value", "name": "mean hours from arrival to release, by stage", "nameLocation": "middle", "nameGap": 30}
	o["series"] = series
	return chart{ID: "chart-release", Height: 120 + 40*len(s.Bars), Option: o}
}

// rowLabel names a breakdown row for people: "lane red", "inspected yes".
func rowLabel(r releasetime.Row) string {
	if r.Dimension == releasetime.All {
		return "all"
	}
	return string(r.Dimension) + " " + r.Group
}
