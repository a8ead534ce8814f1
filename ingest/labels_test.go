package ingest

import (
	"strings"
	"testing"

	"risklane/decl"
)

// Tonight's KCS declarations, without Fraud and Critical Fraud: read with
// null labels (and a null revenue, which the kcs formula derives from the
// label), unless RequireLabels asks for them (train, evaluate).
func TestUnlabelledKCS(t *testing.T) {
	const csv = "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price\n" +
		"56839011,2021-01-01,40,B,11,11,11,40,76NV527,SHHZGSL,249LO7A,,760711,CN,CN,7.2,FCN1,E,901.2,415092.72\n" +
		"56839012,2021-01-02,40,B,11,11,11,40,76NV527,SHHZGSL,249LO7A,,010129,CN,CN,8,FCN1,E,10,1000\n"
	path := writeFile(t, t.TempDir(), "tonight.csv", csv)
	p := mustProfile(t, "kcs")
	if _, err := OpenFiles([]string{path}, p, Options{RequireLabels: true}); err == nil ||
		!strings.Contains(err.Error(), `the label columns "Fraud" (mapped to illicit), "Critical Fraud" (extra attribute critical_fraud) are not in the header`) {
		t.Errorf("RequireLabels: %v", err)
	}
	batches, st, err := ReadAll([]string{path}, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Accepted != 2 || st.Rejected != 0 {
		t.Fatalf("stats %+v, want 2 accepted", st)
	}
	b := batches[0]
	for _, name := range []string{decl.Illicit, decl.Revenue} {
		col := b.Column(b.Schema().FieldIndices(name)[0])
		if col.NullN() != 2 {
			t.Errorf("%s: %d nulls of 2 rows; an unlabelled night has no %s", name, col.NullN(), name)
		}
	}
	if b.Schema().HasField("critical_fraud") {
		t.Error("the absent label extra critical_fraud is in the schema")
	}
	for _, bt := range batches {
		bt.Release()
	}
}
