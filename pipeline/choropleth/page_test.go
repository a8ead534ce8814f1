package choropleth

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"risklane/pipeline/report"
	"risklane/pipeline/report/reporttest"
)

// TestOneFrame: the map and the report are assembled by the one
// report.Render: their heads up to the page's own style, and their closing
// scripts from the data to the page's own boot script (ECharts, page.js),
// are the same bytes. A page that copied the frame
// into its own template and changed it fails here.
func TestOneFrame(t *testing.T) {
	var mapPage, reportPage bytes.Buffer
	if err := Write(&mapPage, buildSurvey(t, "testdata/survey.csv")); err != nil {
		t.Fatal(err)
	}
	if err := report.Write(&reportPage, &report.Data{Title: "empty"}); err != nil {
		t.Fatal(err)
	}
	frame := func(page []byte) (head, tail string) {
		s := string(page)
		_, rest, ok1 := strings.Cut(s, "</title>")
		head, _, ok2 := strings.Cut(s, "<title>")
		_, tail, ok3 := strings.Cut(rest, "</script>\n<script>")
		style, _, ok4 := strings.Cut(rest, "header {")
		if !ok1 || !ok2 || !ok3 || !ok4 {
			t.Fatalf("page has no title, style or closing scripts:\n%.300s", s)
		}
		return head + style, tail[:strings.LastIndex(tail, "<script>")] // the boot script is the page's own
	}
	mh, mt := frame(mapPage.Bytes())
	rh, rt := frame(reportPage.Bytes())
	if mh != rh {
		t.Errorf("the map's head differs from the report's:\n%s\n---\n%s", mh, rh)
	}
	if mt != rt {
		t.Errorf("the map's closing scripts differ from the report's (%d and %d bytes)", len(mt), len(rt))
	}
	if !strings.Contains(mt, "var risklanePage") || !strings.HasPrefix(mh, "<!DOCTYPE html>") {
		t.Errorf("the frame lost the doctype or page.js")
	}
}

// TestErrorBoxInBrowser: both risklane pages run the one error box of the
// report's page.js. With their data damaged, each shows one error in
// #report-errors, counted in body[data-report-errors], instead of a silent
// blank page.
func TestErrorBoxInBrowser(t *testing.T) {
	browser := reporttest.Browser()
	if browser == "" {
		t.Skip("no Chromium: install Debian's chromium package (apt-get install chromium) to run the browser test")
	}
	var mapPage, reportPage bytes.Buffer
	if err := Write(&mapPage, buildSurvey(t, "testdata/survey.csv")); err != nil {
		t.Fatal(err)
	}
	if err := report.Write(&reportPage, &report.Data{Title: "empty"}); err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		name string
		page []byte
		data string
	}{{"map", mapPage.Bytes(), `id="map-data">`}, {"report", reportPage.Bytes(), `id="report-data">`}}
	for _, c := range pages {
		if bytes.Count(c.page, []byte(c.data)) != 1 || bytes.Count(c.page, []byte("var risklanePage")) != 1 ||
			bytes.Count(c.page, []byte("#report-errors { display:none;")) != 1 || bytes.Contains(c.page, []byte("ZgotmplZ")) {
			t.Fatalf("%s: want one %s, one page.js and one page.css", c.name, c.data)
		}
		path := filepath.Join(t.TempDir(), c.name+".html")
		if err := os.WriteFile(path, bytes.Replace(c.page, []byte(c.data), []byte(c.data+"!"), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		res, err := reporttest.Open(ctx, browser, path, []string{})
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if res.PageErrors != 1 {
			t.Errorf("%s with damaged data: %d errors in the error box, want 1 (browser saw %q)", c.name, res.PageErrors, res.Errors)
		}
	}
}
