package prices

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"risklane/ingest"
)

// FuzzImport gives the price-list importer arbitrary CSV or JSON. Every row
// it reads is a price or a reject (nothing dropped), a price is usable
// (six-digit HS6, a positive finite price, a three-letter currency, kg or
// u, a date), and the table Write makes of the prices, CSV and Parquet,
// imports back to the same prices (times to the second, as the table
// keeps them).
func FuzzImport(f *testing.F) {
	f.Add([]byte("hs6,product,price,currency,unit,source,fetched_at\n870323,car,12000,EUR,u,shop,2026-01-02T03:04:05Z\n"), false)
	f.Add([]byte("hs_code,name,price,date\n0901.21,coffee,\"1.234,56 €\",2026-01-02\n090121,tea,$3.5,2026-01-02 10:00:00\n090121,x,-1,\n"), false)
	f.Add([]byte("hs6,price,unit\n620342,0.000001,g\n620342,1e300,t\n"), false)
	f.Add([]byte(`[{"hs6":"870323","price":"7.99 EUR","unit":"kg"},{"hs6":"12","price":"x"}]`), true)
	opt := ImportOptions{Currency: "EUR", Unit: "kg", Date: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		in := filepath.Join(dir, "in.csv")
		if isJSON {
			in = filepath.Join(dir, "in.json")
		}
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ps, rejects, err := Import(in, opt)
		if err != nil {
			return
		}
		rows := 0
		if isJSON {
			list, err := ParseJSONList(data, in)
			if err != nil {
				t.Fatalf("Import read %s that ParseJSONList refuses: %v", in, err)
			}
			rows = len(list)
		} else {
			tab, err := ingest.ReadTable(in)
			if err != nil {
				t.Fatalf("Import read %s that ReadTable refuses: %v", in, err)
			}
			rows = len(tab.Rows) + len(tab.Bad)
		}
		if len(ps)+len(rejects) != rows {
			t.Fatalf("%d rows read, %d prices and %d rejects", rows, len(ps), len(rejects))
		}
		for _, p := range ps {
			if h, err := CheckHS6(p.HS6); err != nil || h != p.HS6 || !(p.Price > 0) || p.Price > 1e308 ||
				len(p.Currency) != 3 || (p.Unit != "kg" && p.Unit != "u") || p.FetchedAt.IsZero() {
				t.Fatalf("unusable price %+v", p)
			}
		}
		want := make([]Price, len(ps))
		for i, p := range ps {
			p.FetchedAt = p.FetchedAt.Truncate(time.Second)
			want[i] = p
		}
		Sort(want)
		for _, name := range []string{"out.csv", "out.parquet"} {
			out := filepath.Join(dir, name)
			if err := Write(out, ps); err != nil {
				t.Fatalf("Write %s: %v", name, err)
			}
			back, rej, err := Import(out, opt)
			if err != nil || len(rej) != 0 {
				t.Fatalf("%s written from %d prices: error %v, rejects %v", name, len(ps), err, rej)
			}
			Sort(back)
			if len(back) != len(want) || (len(want) > 0 && !reflect.DeepEqual(back, want)) {
				t.Fatalf("%s read back as\n%+v\nnot\n%+v", name, back, want)
			}
		}
	})
}
