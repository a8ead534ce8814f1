package report

import (
	_ "embed"
	"html/template"
)

// pageJS and pageCSS are what every risklane page shares (the report and
// choropleth's map): the error box and its counter, HTML escaping, the
// colours, the page frame. Each page inlines them, so it stays one file that
// opens offline.
var (
	//go:embed page.js
	pageJS string
	//go:embed page.css
	pageCSS string
)

// PageScript returns the script every risklane page runs before its own
// (risklanePage: the error box, esc).
func PageScript() template.JS { return template.JS(pageJS) }

// PageStyle returns the styles every risklane page starts from: colours
// (CSS variables), body, header, main, the error box, the footer.
func PageStyle() template.CSS { return template.CSS(pageCSS) }
