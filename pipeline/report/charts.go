package report

import (
	"fmt"
	"math"
	"strconv"
)

// ECharts options are deep, loosely typed trees; plain maps mirror their
// documentation (https://echarts.apache.org/en/option.html) one to one and
// encoding/json writes them for the page.
type obj = map[string]any

// chart is one chart of the page: the element it is drawn in, its height in
// pixels and its ECharts option.
type chart struct {
	ID     string `json:"id"`
	Height int    `json:"-"`
	Option obj    `json:"option"`
}

// Colours shared by the charts: clean is a muted blue, illicit a strong red,
// so that "fraud" reads the same in every chart.
const (
	colClean   = "#4a7ab7"
	colIllicit = "#d1352b"
	colRevenue = "#e39b1b"
	colRecall  = "#3f9c5a"
	colMuted   = "#9aa5b1"
)

// jnum makes a float JSON-safe: NaN and infinities (which JSON cannot
// write) become null, and values are rounded to digits decimals so that the
// page stays small and tooltips readable.
func jnum(v float64, digits int) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	p := math.Pow(10, float64(digits))
	r := math.Round(v*p) / p
	if r == 0 {
		return 0.0
	}
	return r
}

func baseOption() obj {
	return obj{
		"animation": false,
		"textStyle": obj{"fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
		"aria":      obj{"enabled": true},
		"toolbox":   obj{"feature": obj{"saveAsImage": obj{"title": "save as image"}}},
		"grid":      obj{"left": 70, "right": 30, "top": 50, "bottom": 60},
		"legend":    obj{"top": 0},
		"tooltip":   obj{"trigger": "axis"},
	}
}

// curveChart plots Precision, Recall and Revenue against the inspection
// rate, with random inspection's precision (the fraud rate) for comparison.
func curveChart(m *MetricsSection) chart {
	var prec, rec, rev, random []any
	fr := jnum(100*m.FraudRate, 1)
	for _, a := range m.Curve {
		prec = append(prec, []any{a.Rate, jnum(100*a.Precision, 1)})
		rec = append(rec, []any{a.Rate, jnum(100*a.Recall, 1)})
		rev = append(rev, []any{a.Rate, jnum(100*a.Revenue, 1)})
		random = append(random, []any{a.Rate, fr})
	}
	line := func(name, colour string, data []any) obj {
		return obj{"name": name, "type": "line", "data": data, "showSymbol": false, "smooth": false,
			"lineStyle": obj{"width": 2.5}, "itemStyle": obj{"color": colour}}
	}
	o := baseOption()
	o["xAxis"] = obj{"type": "value", "min": 0, "max": 50, "name": "inspection rate: share of declarations inspected, highest scores first",
		"nameLocation": "middle", "nameGap": 32, "axisLabel": obj{"formatter": "{value}%"}}
	o["yAxis"] = obj{"type": "value", "min": 0, "max": 100, "axisLabel": obj{"formatter": "{value}%"}}
	series := []any{
		line("Precision", colIllicit, prec),
		line("Recall", colRecall, rec),
		line("Revenue", colRevenue, rev),
		obj{"name": "Random inspection", "type": "line", "data": random,
			"showSymbol": false, "lineStyle": obj{"type": "dashed", "width": 1.5}, "itemStyle": obj{"color": colMuted}},
	}
	series[0].(obj)["markLine"] = obj{"symbol": "none", "silent": true, "label": obj{"formatter": "{b}"},
		"lineStyle": obj{"color": "#bbb", "type": "dotted"},
		"data":      []any{obj{"xAxis": 1, "name": "1%"}, obj{"xAxis": 2, "name": "2%"}, obj{"xAxis": 5, "name": "5%"}, obj{"xAxis": 10, "name": "10%"}}}
	o["series"] = series
	o["tooltip"] = obj{"trigger": "axis", "valueFormatter": "fn:percent"}
	o["legend"] = obj{"top": 0, "type": "scroll"}
	return chart{ID: "chart-curve", Height: 380, Option: o}
}

// scoreChart shows, for clean and illicit declarations separately, the share
// of each group in each score bin: a good model puts the frauds on the right.
func scoreChart(h *ScoreHistogram) chart {
	nc, ni, nu := float64(sum(h.Clean)), float64(sum(h.Illicit)), float64(sum(h.Unlabelled))
	var cats, clean, illicit, unlabelled []any
	for b := range h.Clean {
		cats = append(cats, fmt.Sprintf("%.2f–%.2f", h.Edges[b], h.Edges[b+1]))
		clean = append(clean, jnum(share(float64(h.Clean[b]), nc), 2))
		illicit = append(illicit, jnum(share(float64(h.Illicit[b]), ni), 2))
		unlabelled = append(unlabelled, jnum(share(float64(h.Unlabelled[b]), nu), 2))
	}
	o := baseOption()
	o["xAxis"] = obj{"type": "category", "data": cats, "name": "score (the model's probability that the declaration is fraudulent)",
		"nameLocation": "middle", "nameGap": 40, "axisLabel": obj{"rotate": 0, "interval": 3}}
	o["yAxis"] = obj{"type": "value", "name": "share of the group", "axisLabel": obj{"formatter": "{value}%"}}
	var series []any
	if nc > 0 {
		series = append(series, obj{"name": fmt.Sprintf("clean declarations (%s)", thousands(int(nc))), "type": "bar", "data": clean,
			"itemStyle": obj{"color": colClean}, "barGap": "0%"})
	}
	if ni > 0 {
		series = append(series, obj{"name": fmt.Sprintf("frauds (%s)", thousands(int(ni))), "type": "bar", "data": illicit,
			"itemStyle": obj{"color": colIllicit}, "barGap": "0%"})
	}
	if nu > 0 {
		series = append(series, obj{"name": fmt.Sprintf("not inspected (%s)", thousands(int(nu))), "type": "bar", "data": unlabelled,
			"itemStyle": obj{"color": colMuted}, "barGap": "0%"})
	}
	o["series"] = series
	o["tooltip"] = obj{"trigger": "axis", "valueFormatter": "fn:percent"}
	return chart{ID: "chart-scores", Height: 340, Option: o}
}

// clusterColours are for the clusters of a price group, cheapest first: low
// clusters take the warm colours, the others the cool ones.
var lowColours = []string{"#b2182b", "#d6604d", "#f4a582"}
var normalColours = []string{"#4393c3", "#2166ac", "#92c5de", "#5e8fb8", "#1b4f80"}

// priceChart draws one HS6 code's unit values as a histogram (log bins),
// bars stacked by k-means cluster, with the known frauds per bin.
func priceChart(i int, g *PriceGroup) chart {
	var cats []any
	for b := 0; b+1 < len(g.Edges); b++ {
		mid := math.Sqrt(g.Edges[b] * g.Edges[b+1])
		cats = append(cats, sig3(mid))
	}
	var series []any
	lowN, normN := 0, 0
	for c, cl := range g.Clusters {
		colour := ""
		label := "≈" + sig3(cl.Centre)
		if cl.Low {
			colour = lowColours[lowN%len(lowColours)]
			lowN++
			label += " (low)"
		} else {
			colour = normalColours[normN%len(normalColours)]
			normN++
		}
		var data []any
		if c < len(g.Counts) {
			for _, v := range g.Counts[c] {
				data = append(data, v)
			}
		}
		series = append(series, obj{"name": label, "type": "bar", "stack": "rows", "data": data,
			"itemStyle": obj{"color": colour}, "barCategoryGap": "5%"})
	}
	var fraud []any
	for _, v := range g.Illicit {
		fraud = append(fraud, v)
	}
	series = append(series, obj{"name": "known frauds", "type": "line", "data": fraud, "showSymbol": false,
		"itemStyle": obj{"color": "#222"}, "lineStyle": obj{"width": 1.5}, "z": 3})
	o := baseOption()
	o["title"] = obj{"text": "HS " + g.HS6, "left": "center", "top": 0, "textStyle": obj{"fontSize": 14}}
	o["legend"] = obj{"top": 24, "type": "scroll", "textStyle": obj{"fontSize": 11}}
	o["grid"] = obj{"left": 50, "right": 15, "top": 70, "bottom": 55}
	o["xAxis"] = obj{"type": "category", "data": cats, "name": "unit value per " + g.Basis + " (log scale)",
		"nameLocation": "middle", "nameGap": 32, "axisLabel": obj{"interval": 4, "fontSize": 10}}
	o["yAxis"] = obj{"type": "value", "name": "declarations", "minInterval": 1}
	o["series"] = series
	return chart{ID: "chart-price-" + strconv.Itoa(i), Height: 320, Option: o}
}

// mirrorChart compares, for the top flows, what the reporter declared
// importing with what the partner declared exporting (both FOB).
func mirrorChart(s *MirrorSection, top int) chart {
	flows := s.Flows[:min(top, len(s.Flows))]
	var cats, imp, exp []any
	// ECharts draws the first category at the bottom of a vertical axis;
	// reverse so that rank 1 is on top.
	for i := len(flows) - 1; i >= 0; i-- {
		f := flows[i]
		cats = append(cats, fmt.Sprintf("%s · HS %s", f.Partner, f.HS6))
		imp = append(imp, jnum(f.ImportFOB/1000, 1))
		exp = append(exp, jnum(f.ExportFOB/1000, 1))
	}
	o := baseOption()
	o["grid"] = obj{"left": 120, "right": 40, "top": 40, "bottom": 50}
	o["xAxis"] = obj{"type": "value", "name": "US$ thousand (FOB)", "nameLocation": "middle", "nameGap": 30}
	o["yAxis"] = obj{"type": "category", "data": cats}
	o["series"] = []any{
		obj{"name": s.Reporter + " imports, as declared", "type": "bar", "data": imp, "itemStyle": obj{"color": colClean}},
		obj{"name": "partner's exports to " + s.Reporter, "type": "bar", "data": exp, "itemStyle": obj{"color": colRevenue}},
	}
	o["tooltip"] = obj{"trigger": "axis", "axisPointer": obj{"type": "shadow"}}
	return chart{ID: "chart-mirror", Height: 60 + 34*len(flows), Option: o}
}

// MinMapLabelled is the fewest inspected declarations an origin needs to be
// coloured on the fraud map: a rate from a handful of inspections is noise
// that would set the colour scale.
const MinMapLabelled = 10

// mapChart colours the world by fraud rate of goods from each origin.
func mapChart(m *FraudMap) chart {
	var data []any
	maxRate := 0.0
	for _, c := range m.Countries {
		if c.MapName == "" || c.Labelled < MinMapLabelled {
			continue
		}
		maxRate = max(maxRate, c.FraudRate)
		data = append(data, obj{
			"name": c.MapName, "value": jnum(c.FraudRate, 1), "code": c.Code,
			"declarations": c.Declarations, "labelled": c.Labelled, "illicit": c.Illicit,
			"revenue": jnum(c.Revenue, 0), "caught": c.Caught, "caughtRevenue": jnum(c.CaughtRevenue, 0),
		})
	}
	o := obj{
		"animation": false,
		"textStyle": obj{"fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
		"toolbox":   obj{"feature": obj{"saveAsImage": obj{"title": "save as image"}}},
		"tooltip":   obj{"trigger": "item", "formatter": "fn:country"},
		"visualMap": obj{"type": "continuous", "min": 0, "max": math.Max(1, math.Ceil(maxRate)), "left": 10, "bottom": 10,
			"text": []any{"fraud rate", ""}, "calculable": true, "formatter": "{value}%",
			"inRange": obj{"color": []any{"#fee8c8", "#fdbb84", "#e34a33", "#7f0000"}}},
		"series": []any{obj{
			"name": "fraud rate by origin", "type": "map", "map": "world", "roam": false,
			"nameProperty": "name", "top": 10, "bottom": 10, "left": 10, "right": 10,
			"itemStyle": obj{"areaColor": "#eef0f2", "borderColor": "#b8bec6", "borderWidth": 0.5},
			"emphasis":  obj{"label": obj{"show": false}, "itemStyle": obj{"areaColor": "#ffd54f"}},
			"select":    obj{"disabled": true},
			"data":      data,
		}},
	}
	return chart{ID: "chart-map", Height: 480, Option: o}
}

// sig3 writes a price with three significant digits and thousands
// separators for large ones: 0.0123, 4.57, 1,230.
func sig3(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	if math.Abs(v) >= 1000 {
		return thousands(int(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// thousands writes an integer with comma separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return neg + s
}
