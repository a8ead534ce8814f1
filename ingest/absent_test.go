package ingest

import (
	"slices"
	"testing"

	"risklane/ingest/profile"
)

// TestAbsentColumnsDecodesHeader: the header is read as Open reads it,
// decoded from the profile's character set. pipeline/run once read it
// raw: a latin-1 header then fitted no profile, and the check that a model's
// columns are present was skipped although ingest bound the file and gave
// origin_country as null in every row.
func TestAbsentColumnsDecodesHeader(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "l1.csv", "id;date;hs;value;mass;importer\xe9;pays\nA1;2021-01-01;010129;10,5;2;X;FR\n")
	p := &profile.Profile{Name: "l1", Delimiter: ";", Decimal: ",", Encoding: "latin-1", DateLayouts: []string{"2006-01-02"}, Columns: map[string]string{
		"declaration_id": "id", "date": "date", "hs_code": "hs", "cif_value": "value", "net_mass_kg": "mass", "importer_id": "importeré"}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	absent, err := AbsentColumns(path, p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(absent, "origin_country") || slices.Contains(absent, "importer_id") {
		t.Errorf("absent %v: want origin_country among them, not importer_id", absent)
	}
	// What Open binds agrees: origin_country is null in every row.
	batches, _, err := ReadAll([]string{path}, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer batches[0].Release()
	col := batches[0].Column(batches[0].Schema().FieldIndices("origin_country")[0])
	if col.NullN() != col.Len() {
		t.Errorf("origin_country has %d values", col.Len()-col.NullN())
	}
	// A file the profile does not fit: no answer, Open says why.
	p.Encoding = ""
	if absent, err := AbsentColumns(path, p); absent != nil || err != nil {
		t.Errorf("without the encoding: %v, %v; want nil, nil", absent, err)
	}
}
