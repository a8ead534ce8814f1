package choropleth

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"

	"risklane/pipeline/report"
	"risklane/sink"
)

//go:embed page.html.tmpl
var pageTemplate string

//go:embed boot.js
var bootJS string

// payload is the JSON the page's script reads.
type payload struct {
	Geo       *report.FeatureCollection `json:"geo"`
	Columns   []string                  `json:"columns"`
	Value     string                    `json:"value"`
	Time      string                    `json:"time"`
	Times     []string                  `json:"times"`
	Frames    [][]area                  `json:"frames"`
	Min       float64                   `json:"min"`
	Max       float64                   `json:"max"`
	Precision int                       `json:"precision"`
}

// area is one country of a frame as ECharts wants it: name is the outline's
// name, value null when the row has none.
type area struct {
	Name    string   `json:"name"`
	Value   *float64 `json:"value"`
	Country string   `json:"country"`
	Cells   []string `json:"cells"`
}

type page struct {
	*Map
	report.Frame
}

// Write renders the map as one self-contained HTML page: the chart library,
// the outlines and the table are inlined, so it opens offline.
func Write(w io.Writer, m *Map) error {
	geo, err := report.World()
	if err != nil {
		return err
	}
	lo, hi := m.Min, m.Max
	if math.IsNaN(lo) {
		lo, hi = 0, 1
	}
	if hi == lo {
		hi = lo + 1
	}
	data := payload{Geo: geo, Columns: m.Columns, Value: m.Value, Time: m.Time, Times: m.Times,
		Min: lo, Max: hi, Precision: precision(lo, hi)}
	for _, f := range m.Frames {
		fr := []area{}
		for _, a := range f {
			x := area{Name: a.Place.Outline, Country: a.Place.Name, Cells: a.Cells}
			if !math.IsNaN(a.Value) {
				v := a.Value
				x.Value = &v
			}
			fr = append(fr, x)
		}
		data.Frames = append(data.Frames, fr)
	}
	p := &page{Map: m, Frame: report.NewFrame("map-data", bootJS)}
	p.Payload = data
	return report.Render(w, pageTemplate, template.FuncMap{"lines": lineList}, p)
}

// WriteFile writes the map to path atomically.
func WriteFile(path string, m *Map) error {
	return sink.WriteAtomic(path, func(w io.Writer) error { return Write(w, m) })
}

// precision is the legend's number of decimals: enough to tell its ends
// apart.
func precision(lo, hi float64) int {
	span := hi - lo
	if span >= 10 {
		return 0
	}
	return min(6, int(math.Ceil(-math.Log10(span)))+2)
}

// lineList writes up to ten line numbers.
func lineList(lines []int64) string {
	var b strings.Builder
	for i, l := range lines {
		if i == 10 {
			fmt.Fprintf(&b, " and %d more", len(lines)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatInt(l, 10))
	}
	return b.String()
}
