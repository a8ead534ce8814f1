// Package report writes risklane's evaluation report: one self-contained HTML
// file that works offline, for a trainer's projector or an analyst's laptop
// on a closed network.
//
// Data gathers what the report shows, each section computed by its own
// function from the other packages' outputs: the metrics table and the
// precision-by-inspection-rate curve (package metrics), the score
// distribution by label, the unit-value distributions of the most suspicious
// HS codes with their k-means clusters (package pricecluster), the biggest
// mirror gaps (package mirror), a world map of fraud by origin, the top rules
// and the top of the ranked list with reasons. A section whose input is
// missing is shown with a "not available" note rather than left out.
//
// Write renders Data with html/template. Charts are drawn by Apache ECharts,
// whose minified script is embedded in the binary (assets/, refreshed from
// npm by assets/update.sh) and inlined into the page together with every
// style, so the file needs no network. The chart options are built in Go and
// travel as JSON in a <script type="application/json"> element that a small
// inline script hands to ECharts. The world map comes from world-atlas's
// TopoJSON outlines, converted to GeoJSON in Go (DecodeTopoJSON).
package report
