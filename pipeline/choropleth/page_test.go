package choropleth

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"risklane/pipeline/report"
	"risklane/pipeline/report/reporttest"
)

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
	for _, c := range []struct {
		name string
		page []byte
		data string
	}{{"map", mapPage.Bytes(), `id="map-data">`}, {"report", reportPage.Bytes(), `id="report-data">`}} {
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
