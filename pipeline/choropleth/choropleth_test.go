package choropleth

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/ingest"
	"risklane/pipeline/report/reporttest"
	"risklane/sink"
)

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		in      string
		num     int
		outline string
	}{
		{"KEN", 404, "Kenya"},
		{" ke ", 404, "Kenya"},
		{"404", 404, "Kenya"},
		{"0404", 404, "Kenya"},
		{"Kenya", 404, "Kenya"},
		{"KENYA", 404, "Kenya"},
		{"Côte d'Ivoire", 384, "Côte d'Ivoire"},
		{"cote d ivoire", 384, "Côte d'Ivoire"},
		{"United States of America", 840, "United States of America"},
		{"842", 840, "United States of America"}, // Comtrade's own number
		{"Dem. Rep. Congo", 180, "Dem. Rep. Congo"},
		{"Tanzania", 834, "Tanzania"},
		{"Singapore", 702, ""}, // known, but no 1:110m outline
		{"SGP", 702, ""},
	} {
		p, ok, err := Match(c.in)
		if err != nil || !ok || p.Numeric != c.num || p.Outline != c.outline {
			t.Errorf("Match(%q) = %+v, %v, %v; want numeric %d, outline %q", c.in, p, ok, err, c.num, c.outline)
		}
	}
	for _, in := range []string{"", "Atlantis", "XKX", "999", "K"} {
		if p, ok, err := Match(in); ok || err != nil {
			t.Errorf("Match(%q) = %+v, %v, %v; want no match", in, p, ok, err)
		}
	}
}

func buildSurvey(t *testing.T, path string) *Map {
	t.Helper()
	tab, err := ingest.ReadTable(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(tab, Options{Country: "country", Value: "seizures", Time: "year"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Every row of the survey is either drawn or listed, with its line.
func TestBuildSurvey(t *testing.T) {
	m := buildSurvey(t, "testdata/survey.csv")
	if !slices.Equal(m.Times, []string{"2022", "2023"}) {
		t.Errorf("times %v", m.Times)
	}
	listed := 0
	for _, l := range [][]Miss{m.Unmatched, m.Unplaced} {
		for _, x := range l {
			listed += len(x.Lines)
		}
	}
	if m.Rows != 17 || m.Placed+listed != m.Rows {
		t.Errorf("rows %d, placed %d, listed %d: a row went missing", m.Rows, m.Placed, listed)
	}
	want := []Miss{{Text: "Atlantis", Lines: []int64{17}}, {Text: "XKX", Lines: []int64{18}}}
	if len(m.Unmatched) != 2 || m.Unmatched[0].Text != want[0].Text || m.Unmatched[0].Lines[0] != 17 || m.Unmatched[1].Lines[0] != 18 {
		t.Errorf("unmatched %+v, want %+v", m.Unmatched, want)
	}
	if len(m.Unplaced) != 1 || !strings.HasPrefix(m.Unplaced[0].Text, "Singapore") || m.Unplaced[0].Lines[0] != 16 {
		t.Errorf("unplaced %+v", m.Unplaced)
	}
	if len(m.NoValue) != 1 || m.NoValue[0].Lines[0] != 9 {
		t.Errorf("no value %+v, want Rwanda 2023 on line 9", m.NoValue)
	}
	if m.Min != 88 || m.Max != 9800 {
		t.Errorf("range %v..%v, want 88..9800", m.Min, m.Max)
	}
	if n := len(m.Frames[0]) + len(m.Frames[1]); n != m.Placed || len(m.Frames[0]) != 6 {
		t.Errorf("frames hold %d and %d areas", len(m.Frames[0]), len(m.Frames[1]))
	}
	for _, a := range m.Frames[1] {
		if a.Place.Numeric == 646 && !math.IsNaN(a.Value) {
			t.Errorf("Rwanda 2023 has value %v, want none", a.Value)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	tab := &ingest.Table{Path: "t.csv", Header: []string{"c", "v"},
		Rows: [][]string{{"KEN", "1"}, {"Kenya", "2"}}, Lines: []int64{2, 3}}
	_, err := Build(tab, Options{Country: "c", Value: "v"})
	if err == nil || !strings.Contains(err.Error(), "lines 2 and 3") {
		t.Errorf("duplicate country: %v", err)
	}
	_, err = Build(tab, Options{Country: "c", Value: "value"})
	if err == nil || !strings.Contains(err.Error(), `no column "value"`) {
		t.Errorf("missing column: %v", err)
	}
}

// The page carries the table as JSON: every column in every tooltip, a
// frame per year.
func TestWritePayload(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, buildSurvey(t, "testdata/survey.csv")); err != nil {
		t.Fatal(err)
	}
	page := b.Bytes()
	if regexp.MustCompile(`(?i)(src|href)=["']?https?:`).Match(page) {
		t.Error("the page links to the network")
	}
	mm := regexp.MustCompile(`(?s)<script type="application/json" id="map-data">(.*?)</script>`).FindSubmatch(page)
	if mm == nil {
		t.Fatal("no map-data element")
	}
	var p struct {
		Columns []string
		Times   []string
		Frames  [][]struct {
			Name  string
			Value *float64
			Cells []string
		}
	}
	if err := json.Unmarshal(mm[1], &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Columns) != 6 || len(p.Frames) != 2 || len(p.Frames[1]) != 8 {
		t.Fatalf("payload: %d columns, %d frames", len(p.Columns), len(p.Frames))
	}
	for _, a := range p.Frames[1] {
		if a.Name == "Rwanda" && a.Value != nil {
			t.Errorf("Rwanda 2023 carries a value")
		}
		if len(a.Cells) != 6 {
			t.Errorf("%s: %d cells", a.Name, len(a.Cells))
		}
	}
	for _, s := range []string{"Atlantis", "XKX", "Singapore", "Rows without a number in seizures"} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("the page does not list %q", s)
		}
	}
}

// The survey map opens in headless Chromium, offline, without errors, and
// paints its canvas.
func TestMapInBrowser(t *testing.T) {
	if reporttest.Browser() == "" {
		t.Skip("no Chromium: install Debian's chromium package (apt-get install chromium) to run the browser test")
	}
	path := filepath.Join(t.TempDir(), "map.html")
	if err := WriteFile(path, buildSurvey(t, "testdata/survey.csv")); err != nil {
		t.Fatal(err)
	}
	res := reporttest.Check(t, path, "survey-map", []string{"map"})
	for _, c := range res.Charts {
		t.Logf("%s: %d canvas %.0fx%.0f, %d painted samples", c.ID, c.Canvases, c.Width, c.Height, c.Painted)
	}
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"KEN", "ke", "404", "Côte d'Ivoire", "Dem. Rep. Congo", "", "0", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok, err := Match(s)
		if err != nil {
			t.Fatal(err)
		}
		if ok && p.Numeric <= 0 {
			t.Errorf("Match(%q) = %+v: matched without a code", s, p)
		}
	})
}

// A Parquet table (typed columns: the year and the numbers as integers and
// floats) gives the same map as the CSV it was made from.
func TestParquetInput(t *testing.T) {
	csvMap := buildSurvey(t, "testdata/survey.csv")
	tab, err := ingest.ReadTable("testdata/survey.csv")
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	fields := []arrow.Field{{Name: "country", Type: arrow.BinaryTypes.String}, {Name: "year", Type: arrow.PrimitiveTypes.Int64},
		{Name: "seizures", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}
	b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	for _, r := range tab.Rows {
		b.Field(0).(*array.StringBuilder).Append(r[0])
		y, _ := strconv.ParseInt(r[1], 10, 64)
		b.Field(1).(*array.Int64Builder).Append(y)
		if v, err := strconv.ParseFloat(r[2], 64); err == nil {
			b.Field(2).(*array.Float64Builder).Append(v)
		} else {
			b.Field(2).AppendNull()
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "survey.parquet")
	if err := sink.WriteTable(path, rec); err != nil {
		t.Fatal(err)
	}
	pq, err := ingest.ReadTable(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(pq, Options{Country: "country", Value: "seizures", Time: "year"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Times, csvMap.Times) || m.Placed != csvMap.Placed || len(m.Unmatched) != 2 || len(m.NoValue) != 1 || m.Min != csvMap.Min || m.Max != csvMap.Max {
		t.Errorf("Parquet map: times %v, %d placed, %d unmatched, %d without value, range %v..%v", m.Times, m.Placed, len(m.Unmatched), len(m.NoValue), m.Min, m.Max)
	}
	if m.Unmatched[0].Lines[0] != 16 {
		t.Errorf("Parquet rows are numbered from 1: Atlantis is row 16, got %v", m.Unmatched[0].Lines)
	}
}
