package market

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"risklane/features/pricecluster"
	"risklane/ingest/prices"
)

// FuzzReadTable gives the market-price table reader (risklane cluster
// --market-prices) arbitrary CSV. It accepts exactly the tables prices.Import
// reads whole (no rejected row, at least one price) in one currency; a
// table it accepts counts every price once, finds each of its references
// by code and unit, and its saved state (the model's features.json) loads
// back to the same references.
func FuzzReadTable(f *testing.F) {
	for _, name := range []string{"../../ingest/prices/testdata/lists/list.csv"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("hs6,product,price,currency,unit,source,fetched_at\n850440,p,25,USD,u,Shop B,2026-11-02T00:00:00Z\n" +
		"850440,p,20,USD,u,Duka,2026-11-02T00:00:00Z\n850440,p,9,USD,kg,List,2026-11-02T00:00:00Z\n100630,rice,1.2,USD,kg,B,2026-11-02\n"))
	f.Add([]byte("hs6,price,currency,unit,fetched_at\n850440,25,USD,u,2026-11-02\n850440,3,EUR,u,2026-11-02\n"))
	f.Add([]byte("hs6,price,currency,unit,fetched_at\n0850.44,1e-05,USD,kg,2026-11-02\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		in := filepath.Join(dir, "prices.csv")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ps, rejects, ierr := prices.Import(in, prices.ImportOptions{})
		oneCurrency := len(ps) > 0
		for _, p := range ps {
			oneCurrency = oneCurrency && p.Currency == ps[0].Currency
		}
		tab, err := ReadTable(in)
		if wantOK := ierr == nil && len(rejects) == 0 && oneCurrency; (err == nil) != wantOK {
			t.Fatalf("ReadTable: %v; Import: %d prices, %d rejects, %v", err, len(ps), len(rejects), ierr)
		}
		if err != nil {
			return
		}
		n := 0
		for _, r := range tab.Refs {
			n += r.N
			got, ok := tab.Lookup(pricecluster.ParseHS6(r.HS6), r.Unit)
			if !ok || got != r {
				t.Fatalf("Lookup of %+v gives %+v, %v", r, got, ok)
			}
		}
		if n != len(ps) {
			t.Fatalf("references count %d prices of %d", n, len(ps))
		}
		b, err := FeatureOf(tab).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back Feature
		if err := back.UnmarshalJSON(b); err != nil {
			t.Fatalf("the saved state of an accepted table does not load: %v", err)
		}
		if !reflect.DeepEqual(back.table.Refs, tab.Refs) || back.table.Currency != tab.Currency {
			t.Fatalf("loaded back as %+v, not %+v", back.table.Refs, tab.Refs)
		}
	})
}
