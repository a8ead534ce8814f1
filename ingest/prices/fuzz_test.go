package prices

import (
	"os"
	"strings"
	"testing"
)

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(strings.ReplaceAll(sourcesYAML, "BASE", "http://127.0.0.1:1")))
	f.Add([]byte("sources: []\n"))
	f.Add([]byte("x: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data, "fuzz.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		for _, s := range c.Sources {
			if s.Fields.Price == "" || len(s.Products) == 0 {
				t.Errorf("accepted a source without price rule or products: %+v", s)
			}
			for _, p := range s.Products {
				if len(p.HS6) != 6 {
					t.Errorf("accepted HS6 %q", p.HS6)
				}
			}
		}
	})
}

func FuzzExtract(f *testing.F) {
	for _, name := range []string{"shop.html", "broken.html", "relaid.html", "api.json"} {
		b, err := os.ReadFile("testdata/pages/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(name, ".json"))
	}
	html := &Source{Format: "html", Items: "li.product", Fields: Fields{Product: "h2.name", Price: "span.price", Currency: "span.price@data-currency", Unit: "@data-unit"}, Unit: "u"}
	js := &Source{Format: "json", Items: "data.items", Fields: Fields{Product: "title", Price: "offer.amount", Currency: "offer.currency", Unit: "offer.per"}, Unit: "u"}
	f.Fuzz(func(t *testing.T, page []byte, isJSON bool) {
		s := html
		if isJSON {
			s = js
		}
		items, err := extract(s, page)
		if err != nil {
			return
		}
		if len(items) > MaxItems {
			t.Errorf("%d items", len(items))
		}
		for _, it := range items {
			if it.problem != "" {
				continue
			}
			p, why := s.price(Product{HS6: "850440", Query: "q"}, it, &Page{})
			if why == "" && !(p.Price > 0 && len(p.Currency) == 3 && (p.Unit == PerKg || p.Unit == PerUnit)) {
				t.Errorf("accepted %+v from %+v", p, it)
			}
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"data.items[0].price", "[2]", "a.b.c", "a[", "a]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		q, err := ParsePath(p.String())
		if err != nil || q.String() != p.String() {
			t.Errorf("%q: written back as %q, which reads as %v, %v", s, p.String(), q, err)
		}
	})
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1.234,56 €", "$1,234.56", "KSh 2,450.00", "12,5", "1..2", "-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, cur, err := ParseAmount(s)
		if err == nil && (v < 0 || v != v || (cur != "" && len(cur) != 3)) {
			t.Errorf("ParseAmount(%q) = %v, %q", s, v, cur)
		}
	})
}

func FuzzParseJSONList(f *testing.F) {
	b, err := os.ReadFile("testdata/lists/list.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`[{"hs6": 850440, "price": null}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ParseJSONList(data, "l.json")
		if err != nil {
			return
		}
		ps, rejects := fromRows(rows, make([]string, len(rows)), "l.json", ImportOptions{})
		if len(ps)+len(rejects) != len(rows) {
			t.Errorf("%d rows gave %d prices and %d rejects", len(rows), len(ps), len(rejects))
		}
	})
}
