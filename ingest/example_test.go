package ingest_test

import (
	"fmt"
	"os"
	"path/filepath"

	"risklane/ingest"
	"risklane/ingest/profile"
)

type printRejects struct{}

func (printRejects) Reject(r ingest.Reject) error {
	fmt.Printf("line %d, column %q: %q %s\n", r.Line, r.Column, r.Value, r.Reason)
	return nil
}

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "declarations.csv")
	os.WriteFile(path, []byte(
		"sgd.id,sgd.date,importer.id,declarant.id,country,office.id,tariff.code,quantity,gross.weight,fob.value,cif.value,total.taxes,illicit,revenue\n"+
			"SGD1,13-01-02,IMP56598,DEC575763,CNTRY376,OFFICE76,8703232926,1,96.305598,1530.677349,1943.388289,468.218151,0,0\n"+
			"SGD2,13-01-02,IMP109304,DEC741690,CNTRY653,OFFICE51,2710193100,16784,-343358.4,31334.58,39097.78,94337.47,0,0\n"+
			"SGD3,13-01-32,IMP383355,DEC965340,CNTRY680,OFFICE92,6214300000,656,40675.08,76655.50,93224.77,10825.92,1,980\n"+
			"SGD4,13-01-03,IMP512685,DEC244789,CNTRY759,OFFICE59,101210000,1,24965.12,4526.58,5160.50,758.08,1,1302\n"),
		0o644)

	p, _ := profile.Resolve("date")
	r, err := ingest.Open(path, p, ingest.Options{Rejects: printRejects{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	for r.Next() {
		rec := r.RecordBatch()
		fmt.Println(rec.NumRows(), "rows; hs_code", rec.Column(6), "date", rec.Column(1))
	}
	fmt.Printf("%+v\n", r.Stats())
	// Output:
	// line 3, column "gross.weight": "-343358.4" negative value
	// line 4, column "sgd.date": "13-01-32" not a date in the profile's layout (06-01-02 or 2006-01-02)
	// 2 rows; hs_code ["8703232926" "0101210000"] date [2013-01-02 2013-01-03]
	// {Read:4 Accepted:2 Rejected:2}
}
