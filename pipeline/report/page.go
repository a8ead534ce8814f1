package report

import (
	_ "embed"
	"html/template"
	"io"
)

// pageJS and pageCSS are what every risklane page shares (the report and
// choropleth's map): the error box and its counter (risklanePage.errors),
// HTML escaping (risklanePage.esc), the colours as CSS variables, body,
// header, main, the error box and the footer; frameTemplate the page's
// head and its closing scripts. Each page inlines them, so it stays one file that
// opens offline.
var (
	//go:embed page.js
	pageJS string
	//go:embed page.css
	pageCSS string
	//go:embed frame.html.tmpl
	frameTemplate string
)

// Frame is what every risklane page (the report, choropleth's map) inlines
// around its own content, so that it is one file that opens offline: the
// page's data as JSON, the chart library, the shared style and script, and
// the page's own boot script. A page embeds it in the value it renders.
type Frame struct {
	// DataID is the id of the JSON script element Payload is written to,
	// which Boot reads.
	DataID  string
	Payload any
	ECharts template.JS
	Style   template.CSS
	Script  template.JS
	Boot    template.JS
	// EChartsVersion is for the page's footer.
	EChartsVersion string
}

// NewFrame returns the frame of a page whose own script is boot and whose
// data travels in the element dataID.
func NewFrame(dataID, boot string) Frame {
	return Frame{DataID: dataID, ECharts: template.JS(echartsJS), Style: template.CSS(pageCSS), Script: template.JS(pageJS),
		Boot: template.JS(boot), EChartsVersion: EChartsVersion}
}

// Render writes a risklane page: tmpl, parsed with funcs, executed on
// page, a value that embeds a Frame and has a Title. tmpl starts with
// {{template "head" .}} (doctype, meta, title), then its <style> from
// {{.Style}}, and ends with {{template "scripts" .}} before </body>.
func Render(w io.Writer, tmpl string, funcs template.FuncMap, page any) error {
	t, err := template.New("frame").Parse(frameTemplate)
	if err != nil {
		return err
	}
	if t, err = t.New("page").Funcs(funcs).Parse(tmpl); err != nil {
		return err
	}
	return t.Execute(w, page)
}
