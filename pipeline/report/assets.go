package report

import _ "embed"

// echartsJS is Apache ECharts (assets/VERSIONS gives the version and
// checksum), inlined into every report so that it works offline.
//
//go:embed assets/echarts.min.js
var echartsJS string

// worldAtlas is world-atlas's Natural Earth 1:110m country outlines
// (TopoJSON; ids are ISO 3166 numeric codes).
//
//go:embed assets/countries-110m.json
var worldAtlas []byte
