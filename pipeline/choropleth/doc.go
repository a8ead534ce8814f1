// Package choropleth draws any country-level table (a WCO survey, trade by
// partner, seizures by origin) on a world map: one self-contained HTML file
// with a colour legend, a tooltip that shows every column of a country's
// row, and a time slider when the table has a time column. It is what
// `risklane map` writes (docs/maps.md).
//
// Countries are matched by ISO3, ISO2 or M49 code, or by English name,
// through the country table of package mirror and the outline names of the
// report's world map; the outlines and the chart library are the report's
// own (report.World; report.Frame and report.Render
// assemble the page as they do the report's). A row whose country cannot be
// placed is listed on the page and returned in Map.Unmatched, never dropped
// silently.
package choropleth
