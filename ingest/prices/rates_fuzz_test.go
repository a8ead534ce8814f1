package prices

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzReadRates gives the rates reader (prices import --rates) arbitrary
// CSV. A table it accepts has the target at 1 and for every currency a
// three-letter code and a positive finite rate, and Convert turns a usable
// price in any currency of the table into a usable price in the target (a
// positive finite number) or an error: never a price of 0 or +Inf.
func FuzzReadRates(f *testing.F) {
	b, err := os.ReadFile("testdata/lists/rates.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, 12000.0)
	f.Add([]byte("currency,rate\nkes , 0.0077\nEUR,1e300\n"), 1e10)
	f.Add([]byte("rate,currency,extra\n1e-300,JPY,x\n"), 1e-9)
	f.Add([]byte("currency,rate\nEUR,1.08\nEUR,1.1\n"), 1.0)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, price float64) {
		in := filepath.Join(dir, "rates.csv")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := ReadRates(in, "usd")
		if err != nil {
			return
		}
		if r.To != "USD" || r.Per["USD"] != 1 {
			t.Fatalf("target %q at %v", r.To, r.Per["USD"])
		}
		if !(price > 0) || math.IsInf(price, 0) {
			price = 1
		}
		for c, v := range r.Per {
			if len(c) != 3 || c != strings.ToUpper(c) || !(v > 0) || math.IsInf(v, 0) {
				t.Fatalf("rate %q = %v", c, v)
			}
			p, err := r.Convert(Price{HS6: "870323", Price: price, Currency: c, Unit: "u"})
			if err != nil {
				continue
			}
			if !(p.Price > 0) || math.IsInf(p.Price, 0) || p.Currency != "USD" {
				t.Fatalf("%v %s at %v per USD converted to %v %s", price, c, v, p.Price, p.Currency)
			}
		}
	})
}

// TestConvertOutOfRange: a price whose conversion leaves the float range is
// a reject naming its line, not a price of +Inf or 0 in the table.
func TestConvertOutOfRange(t *testing.T) {
	dir := t.TempDir()
	rates := filepath.Join(dir, "rates.csv")
	list := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(rates, []byte("currency,rate\nEUR,1e300\nJPY,1e-300\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(list, []byte("hs6,price,currency,unit,fetched_at\n870323,1e10,EUR,u,2026-01-02\n"+
		"870323,1e-30,JPY,u,2026-01-02\n870323,2,EUR,u,2026-01-02\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ReadRates(rates, "USD")
	if err != nil {
		t.Fatal(err)
	}
	ps, rejects, err := Import(list, ImportOptions{Rates: r})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Price != 2e300 || len(rejects) != 2 {
		t.Fatalf("prices %+v, rejects %+v: want the 2 EUR one and two rejects", ps, rejects)
	}
	for i, rj := range rejects {
		if s := rj.Error(); !strings.Contains(s, "list.csv:"+strconv.Itoa(i+2)+" ") || !strings.Contains(s, "out of range") {
			t.Errorf("reject %q: want list.csv:%d and out of range", s, i+2)
		}
	}
}
