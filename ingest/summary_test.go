package ingest

import (
	"slices"
	"strings"
	"testing"

	"risklane/ingest/profile"
)

// The file: 2,102 of 3,000 rows like "372.254,40" under a profile
// with "." decimals, and Latin-1 text read as UTF-8. The summary counts by
// column and reason, and the hints name the profile keys that fix them.
func TestRejectSummaryHints(t *testing.T) {
	p := &profile.Profile{Name: "x", DateLayouts: []string{"2006-01-02"}}
	var s RejectSummary
	add := func(n int, col, reason, v string) {
		for range n {
			if err := s.Reject(Reject{Column: col, Reason: reason, Value: v}); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(2102, "Item Price", reasonNotNumber, "372.254,40")
	add(7, "Net Mass", reasonNotNumber, "1,234,567.5")
	add(5, "Tax Rate", reasonNotNumber, "12,5")
	add(3, "Importer ID", reasonInvalidUTF8, "Soci\xe9t\xe9")
	add(2, "Date", "not a date", "2021/13/45")
	add(1, "Quantity", reasonNotNumber, "abc")
	counts := s.Counts()
	if len(counts) != 6 || counts[0].Rows != 2102 || counts[0].Column != "Item Price" || counts[0].Example != "372.254,40" {
		t.Fatalf("counts %+v", counts)
	}
	want := []string{
		`2102 rows of column "Item Price" have numbers like "372.254,40": set decimal: "," and thousands: "." in the profile`,
		`7 rows of column "Net Mass" have numbers like "1,234,567.5": set thousands: "," in the profile`,
		`5 rows of column "Tax Rate" have numbers like "12,5": set decimal: "," in the profile`,
		`3 rows of column "Importer ID" are not UTF-8 text: if the file is Latin-1 or Windows-1252, set encoding: windows-1252 in the profile`,
	}
	if got := s.Hints(p); !slices.Equal(got, want) {
		t.Errorf("hints\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A profile that already says so gets no hint for it.
	p.Decimal, p.Thousands, p.Encoding = ",", ".", "latin-1"
	for _, h := range s.Hints(p) {
		if strings.Contains(h, `"372.254,40"`) || strings.Contains(h, "UTF-8") {
			t.Errorf("hint %q for what the profile already sets", h)
		}
	}
}

// encoding: latin-1 decodes the file to UTF-8 (the same bytes without the
// key are rejected as invalid UTF-8).
func TestEncodingLatin1(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "l1.csv", "id;date;hs;value;mass;importer\nA1;2021-01-01;010129;10,5;2;Soci\xe9t\xe9\n")
	p := &profile.Profile{Name: "l1", Delimiter: ";", Decimal: ",", DateLayouts: []string{"2006-01-02"}, Columns: map[string]string{
		"declaration_id": "id", "date": "date", "hs_code": "hs", "cif_value": "value", "net_mass_kg": "mass", "importer_id": "importer"}}
	var s RejectSummary
	if _, st, err := ReadAll([]string{path}, p, Options{Rejects: &s}); err != nil || st.Rejected != 1 {
		t.Fatalf("without encoding: %+v, %v; want the row rejected", st, err)
	}
	p.Encoding = "latin-1"
	batches, st, err := ReadAll([]string{path}, p, Options{})
	if err != nil || st.Accepted != 1 {
		t.Fatalf("latin-1: %+v, %v", st, err)
	}
	b := batches[0]
	defer b.Release()
	col := b.Column(b.Schema().FieldIndices("importer_id")[0])
	if got := col.ValueStr(0); got != "Société" {
		t.Errorf("importer_id = %q, want Société", got)
	}
	p.Encoding = "ebcdic"
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), `encoding "ebcdic": use utf-8, latin-1 or windows-1252`) {
		t.Errorf("unknown encoding: %v", err)
	}
}
