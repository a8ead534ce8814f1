package prices

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	for _, c := range []struct {
		in  string
		v   float64
		cur string
	}{
		{"12", 12, ""}, {"12.5", 12.5, ""}, {"12,5", 12.5, ""}, {"12,50", 12.5, ""},
		{"1,234", 1234, ""}, {"1.234", 1.234, ""}, {"1.234.567", 1234567, ""}, {"1,234,567.89", 1234567.89, ""},
		{"1.234,56 €", 1234.56, "EUR"}, {"$1,234.56", 1234.56, "USD"}, {"US$ 12", 12, "USD"},
		{"EUR 7.99", 7.99, "EUR"}, {"KSh 2,450.00", 2450, "KES"}, {"1 234,5", 1234.5, ""}, {"£0.99", 0.99, "GBP"},
		{"1'234.50 chf", 1234.5, "CHF"},
		// exponent form, as Write puts prices below 0.0001 (FuzzImport)
		{"1e-05", 1e-05, ""}, {"2.5E+21", 2.5e21, ""},
	} {
		v, cur, err := ParseAmount(c.in)
		if err != nil || math.Abs(v-c.v) > 1e-9 || cur != c.cur {
			t.Errorf("ParseAmount(%q) = %v, %q, %v; want %v, %q", c.in, v, cur, err, c.v, c.cur)
		}
	}
	for _, in := range []string{"", "abc", "-3", "12 per kg", "€ 3 $", "1..2", "free", "12%", "-1e-05", "1e999", "e5", "1e-5 €"} {
		if v, cur, err := ParseAmount(in); err == nil {
			t.Errorf("ParseAmount(%q) = %v, %q; want an error", in, v, cur)
		}
	}
}

func TestParsePath(t *testing.T) {
	doc := map[string]any{"data": map[string]any{"items": []any{map[string]any{"p": "1"}, map[string]any{"p": "2"}}}}
	for _, c := range []struct {
		path, want string
	}{
		{"data.items[1].p", "2"}, {"data.items[0].p", "1"},
	} {
		p, err := ParsePath(c.path)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := p.Get(doc)
		if s, _ := scalarText(v); !ok || s != c.want || p.String() != c.path {
			t.Errorf("%s: %v, %v (string %q)", c.path, v, ok, p.String())
		}
	}
	for _, bad := range []string{"a.", ".a", "a..b", "a[", "a[x]", "a[-1]", "a]b", "a[0]b"} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q): no error", bad)
		}
	}
	p, _ := ParsePath("data.items[5].p")
	if _, ok := p.Get(doc); ok {
		t.Error("an index past the end was found")
	}
}

func TestParseConfigErrors(t *testing.T) {
	base := "sources:\n  - name: a\n    url: http://127.0.0.1/p/{query}\n    fields: {price: span.price}\n    products:\n      - {hs6: \"850440\", query: x}\n"
	if _, err := ParseConfig([]byte(base), "s.yaml"); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	for _, c := range []struct {
		yaml, want string
	}{
		{strings.Replace(base, "span.price", `"span["`, 1), `s.yaml line 4: fields.price "span["`},
		{strings.Replace(base, "850440", "85", 1), "s.yaml line 6: HS code \"85\" has fewer than 6 digits"},
		{strings.Replace(base, "http://127.0.0.1", "ftp://x", 1), "line 3: url"},
		{base + "delay: soon\n", `s.yaml line 7: delay "soon" is not a duration`},
		{base + "colour: red\n", "unknown field"},
		{"x: &a 1\ny: *a\n", "anchors, aliases and tags are not allowed"},
		{strings.Replace(base, "    fields", "    format: xml\n    fields", 1), `format "xml"`},
	} {
		_, err := ParseConfig([]byte(c.yaml), "s.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

func TestImportAndConvert(t *testing.T) {
	rates, err := ReadRates("testdata/lists/rates.csv", "usd")
	if err != nil {
		t.Fatal(err)
	}
	ps, rejects, err := Import("testdata/lists/list.csv", ImportOptions{Rates: rates})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"850440 Laptop charger 65 W Nairobi market survey": 2450 * 0.0077,
		"850440 Laptop charger 90 W list.csv":              3100.5 * 0.0077,
		"100630 Basmati rice Brussels list":                0.19 * 1000 * 1.08, // per g to per kg, EUR to USD
		"610910 T-shirt list.csv":                          4.5,
	}
	if len(ps) != len(want) {
		t.Errorf("%d prices, want %d: %+v", len(ps), len(want), ps)
	}
	for _, p := range ps {
		w, ok := want[p.HS6+" "+p.Product+" "+p.Source]
		if !ok || math.Abs(p.Price-w) > 1e-9 || p.Currency != "USD" {
			t.Errorf("unexpected %+v (want %v)", p, w)
		}
	}
	reasons := []string{}
	for _, r := range rejects {
		reasons = append(reasons, r.Where+" "+r.Reason)
	}
	got := strings.Join(reasons, "\n")
	for _, w := range []string{
		`list.csv:6 HS code "61091" has fewer than 6 digits`,
		`list.csv:7 unit "dozen" is neither`,
		"list.csv:8 no date",
		"list.csv:9 no rate from JPY to USD",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("rejects lack %q:\n%s", w, got)
		}
	}

	ps, rejects, err = Import("testdata/lists/list.json", ImportOptions{Source: "analyst list"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[1].Price != 1.2 || ps[1].Currency != "EUR" || ps[1].Source != "Brussels list" || ps[0].Source != "analyst list" {
		t.Errorf("JSON list: %+v", ps)
	}
	if len(rejects) != 1 || !strings.Contains(rejects[0].Where, "item 3") {
		t.Errorf("JSON rejects: %+v", rejects)
	}

	out := filepath.Join(t.TempDir(), "prices.csv")
	if err := Write(out, ps); err != nil {
		t.Fatal(err)
	}
	back, bad, err := Import(out, ImportOptions{})
	if err != nil || len(bad) != 0 || len(back) != 2 {
		t.Fatalf("reading back the written table: %v, %v, %v", back, bad, err)
	}
	Sort(ps)
	for i := range ps {
		if back[i] != ps[i] {
			t.Errorf("round trip: %+v, want %+v", back[i], ps[i])
		}
	}
	if err := WriteRejects(filepath.Join(t.TempDir(), "r.csv"), rejects); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRates("testdata/lists/list.csv", "USD"); err == nil {
		t.Error("a table without currency and rate columns read as rates")
	}
}
