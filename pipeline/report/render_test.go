package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"risklane/pipeline/report/reporttest"
)

func renderSample(t *testing.T) (*Data, []byte) {
	t.Helper()
	d, err := Build(sampleInputs(t))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, d); err != nil {
		t.Fatal(err)
	}
	return d, b.Bytes()
}

// payloadOf extracts and parses the page's JSON payload.
func payloadOf(t *testing.T, page []byte) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script type="application/json" id="report-data">(.*?)</script>`).FindSubmatch(page)
	if m == nil {
		t.Fatal("no report-data element")
	}
	var p map[string]any
	if err := json.Unmarshal(m[1], &p); err != nil {
		t.Fatalf("report data is not JSON: %v", err)
	}
	return p
}

func TestWriteSelfContained(t *testing.T) {
	d, page := renderSample(t)
	s := string(page)
	if strings.Count(s, echartsJS) != 1 {
		t.Fatal("the ECharts script is not inlined whole, once")
	}
	// Nothing is loaded from elsewhere: no external scripts, styles, images
	// or fonts in the page around the library (whose own code builds tags
	// from strings).
	rest := strings.Replace(s, echartsJS, "", 1)
	for _, re := range []string{`<script[^>]+src=`, `<link[^>]+href=`, `<img[^>]+src=`, `@import`, `url\(\s*['"]?https?:`, `<iframe`} {
		if loc := regexp.MustCompile(re).FindStringIndex(rest); loc != nil {
			t.Errorf("the page loads an external resource: %q", rest[loc[0]:min(loc[1]+60, len(rest))])
		}
	}
	// Every section is there, filled.
	for _, id := range []string{SectionMetrics, SectionScores, SectionPrices, SectionMirror, SectionMap, SectionRules, SectionRanked} {
		if !strings.Contains(s, `<section id="`+id+`">`) {
			t.Errorf("section %s is missing", id)
		}
	}
	if m := d.Missing(); len(m) != 0 {
		t.Errorf("sections missing: %v", m)
	}
	if strings.Contains(s, "Not available yet") {
		t.Error("a section says it is not available although every input was given")
	}
	// Text from the data is escaped, in the page and in the JSON.
	if strings.Contains(s, "<script>alert(") {
		t.Error("a reason's markup reached the page unescaped")
	}
	if !strings.Contains(s, "&lt;script&gt;alert(") {
		t.Error("the reasons are not in the page")
	}
	p := payloadOf(t, page)
	charts := p["charts"].([]any)
	if len(charts) != len(d.ChartIDs()) {
		t.Errorf("%d charts in the payload, %d ids", len(charts), len(d.ChartIDs()))
	}
	for i, c := range charts {
		id := c.(map[string]any)["id"].(string)
		if id != d.ChartIDs()[i] || !strings.Contains(s, `id="`+id+`"`) {
			t.Errorf("chart %d: id %q has no element", i, id)
		}
	}
	if geo, ok := p["geo"].(map[string]any); !ok || len(geo["features"].([]any)) != 176 {
		t.Error("the world outlines are not in the payload")
	}
	// The metrics table shows the numbers of package metrics.
	for _, a := range d.Metrics.Report.AtRates {
		want := pctString(100*a.Precision, 1)
		if !strings.Contains(s, ">"+want+"<") {
			t.Errorf("precision at %v%% (%s) is not in the page", a.Rate, want)
		}
	}
	if len(d.ChartIDs()) != 2+len(d.Prices.Groups)+2 || len(d.Prices.Groups) != PriceGroups {
		t.Errorf("charts %v", d.ChartIDs())
	}
}

func TestWriteUnavailable(t *testing.T) {
	in := sampleInputs(t)
	in.Scores, in.Gaps, in.Ranked, in.Rules = nil, nil, nil, nil
	in.Missing = map[string]string{SectionRules: "risklane rules is not built yet."}
	d, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, d); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{"Not available yet: risklane rules is not built yet.", "Not available yet: no trade statistics were given (--trade).",
		"Not available yet: no model was given, so nothing was scored."} {
		if !strings.Contains(s, want) {
			t.Errorf("missing note %q", want)
		}
	}
	if m := d.Missing(); !slices.Equal(m, []string{SectionMetrics, SectionScores, SectionMirror, SectionMap, SectionRules, SectionRanked}) {
		t.Errorf("missing sections %v", m)
	}
	if ids := d.ChartIDs(); len(ids) != len(d.Prices.Groups) {
		t.Errorf("charts without a model or trade data: %v", ids)
	}
	payloadOf(t, b.Bytes())
}

// The sample report opens in headless Chromium, offline, without errors,
// and draws every chart.
func TestReportInBrowser(t *testing.T) {
	if reporttest.Browser() == "" {
		t.Skip("no Chromium: install Debian's chromium package (apt-get install chromium) to run the browser test")
	}
	d, page := renderSample(t)
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	res := reporttest.Check(t, path, "sample-report", d.ChartIDs())
	for _, c := range res.Charts {
		t.Logf("%s: %d canvas %.0fx%.0f, %d painted samples", c.ID, c.Canvases, c.Width, c.Height, c.Painted)
	}
}

// The embedded assets are the files assets/VERSIONS describes, and the page
// names the ECharts version it embeds.
func TestAssetVersions(t *testing.T) {
	versions, err := os.ReadFile("assets/VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		pkg, file string
		data      []byte
	}{
		{"echarts@" + EChartsVersion, "echarts.min.js", []byte(echartsJS)},
		{"world-atlas@2.0.2", "countries-110m.json", worldAtlas},
	} {
		sum := sha256.Sum256(a.data)
		want := a.pkg + " " + a.file + " " + hex.EncodeToString(sum[:])
		if !strings.Contains(string(versions), want) {
			t.Errorf("assets/VERSIONS lacks %q: the embedded file changed without update.sh, or EChartsVersion is stale", want)
		}
	}
}
