package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"risklane/ingest/profile"
)

const dateHeader = "sgd.id,sgd.date,importer.id,declarant.id,country,office.id,tariff.code,quantity,gross.weight,fob.value,cif.value,total.taxes,illicit,revenue\n"

// FuzzCSVReader runs the whole reader (scanner, profile binding, row
// validation, batching) on arbitrary input: it must never panic, and the
// counts must reconcile with the batches and the rejects.
func FuzzCSVReader(f *testing.F) {
	f.Add(dateHeader+"SGD1,13-01-02,IMP56598,DEC575763,CNTRY376,OFFICE76,8703232926,1,96.305598,1530.677349,1943.388289,468.218151,0,0\n", false)
	f.Add(dateHeader+"SGD2,13-01-02,IMP1,DEC1,C,O,101210000,1,2,3,4,5,1,1302\nSGD3,bad,,,,,x,-1,,,,,,\n", false)
	f.Add(dateHeader+"\"SGD4\",\"13-01-02\",I,D,C,O,\"8703.23.29\",1,2,3,4,5,,\n", false)
	f.Add("id;d;hs;kg;cif;fraud\nA;02/01/2020;870323;1.234,5;10;Y\nB;x;y;z;w;N\n", true)
	f.Add("id;d;hs;kg;cif;fraud\nA;02/01/2020;870323;1.234,5;\"10\n\";Y\n", true)
	euro := &profile.Profile{
		Name:      "euro",
		Columns:   map[string]string{"declaration_id": "id", "date": "d", "hs_code": "hs", "net_mass_kg": "kg", "cif_value": "cif", "illicit": "fraud"},
		Delimiter: ";", Decimal: ",", Thousands: ".",
		DateLayouts:    []string{"02/01/2006"},
		UniqueIDs:      true,
		Illicit:        profile.IllicitValues{Positive: []string{"Y"}, Negative: []string{"N"}},
		RevenueFormula: "illicit * cif_value / 10",
	}
	date := mustProfile(f, "date")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in string, useEuro bool) {
		p := date
		if useEuro {
			p = euro
		}
		path := filepath.Join(dir, "in.csv")
		if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
		var rej collect
		r, err := Open(path, p, Options{BatchSize: 3, MaxFieldBytes: 64, Rejects: &rej})
		if err != nil {
			return // structural: no header, missing columns
		}
		defer r.Close()
		var rows int64
		for r.Next() {
			rec := r.RecordBatch()
			if rec.NumRows() == 0 || rec.NumRows() > 3 {
				t.Fatalf("batch of %d rows", rec.NumRows())
			}
			rows += rec.NumRows()
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		st := r.Stats()
		if st.Read != st.Accepted+st.Rejected || st.Accepted != rows || st.Rejected != int64(len(rej.got)) {
			t.Fatalf("stats %+v, %d rows in batches, %d rejects", st, rows, len(rej.got))
		}
		for _, rj := range rej.got {
			if rj.Line < 2 || rj.Reason == "" || len(rj.Value) > maxRejectValue+32 {
				t.Fatalf("bad reject %+v", rj)
			}
		}
		if strings.Count(in, "\n") < int(st.Read)-1 {
			t.Fatalf("%d rows read from %d lines", st.Read, strings.Count(in, "\n"))
		}
	})
}
