package mirror

import (
	"bytes"
	"compress/gzip"
	"math"
	"math/big"
	"os"
	"strings"
	"testing"
)

func TestMalformedRowsAreRejectedNotDropped(t *testing.T) {
	g, err := Analyze(DefaultConfig("KEN"), "testdata/malformed.csv")
	if err != nil {
		t.Fatal(err)
	}
	const file = "testdata/malformed.csv"
	want := []struct {
		line          int
		column, value string
		reason        string
	}{
		{3, "Trade Value (US$)", "12O0", "is not a number"},
		{4, "Netweight (kg)", "-5", "is negative"},
		{5, "", "", "repeats testdata/malformed.csv line 2"},
		{6, "Reporter ISO", "", "leaves the reporter missing"},
		{7, "Commodity Code", "85171", "has 5 digits but the row's aggregate level is 4"},
		{8, "Period", "2021-01", "is not a period"},
		{9, "Trade Flow Code", "9", "is not a known trade flow"},
		{10, "Classification", "S4", "is not an HS classification"},
		{11, "Trade Value (US$)", "", "the row has no trade value"},
		{12, "", "", "has 3 fields but the header has 35"},
		{13, "Trade Value (US$)", "Inf", "is not a number"},
		{14, "Partner ISO", "C-N", "is not a country code"},
		{15, "", "", "is not valid CSV"},
		{16, "Qty", "1,5", "is not a number"},
		{18, "Trade Value (US$)", "1e400", "is implausibly large"},
		{19, "Aggregate Level", "5", "is not an HS aggregate level"},
	}
	if len(g.Rejects) != len(want) {
		for _, r := range g.Rejects {
			t.Log(r.Error())
		}
		t.Fatalf("%d rejects, want %d", len(g.Rejects), len(want))
	}
	for i, w := range want {
		r := g.Rejects[i]
		if r.File != file || r.Line != w.line || r.Column != w.column || (w.column != "" && r.Value != w.value) || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("reject %d: %s; want line %d column %q value %q reason containing %q", i, r.Error(), w.line, w.column, w.value, w.reason)
		}
	}
	s := g.Summary
	if s.Read != 18 || s.Used != 2 || s.Rejected != 16 || s.Read != s.Used+s.Rejected {
		t.Errorf("read %d used %d rejected %d; want 18 = 2 + 16", s.Read, s.Used, s.Rejected)
	}
	if s.Ranked != 1 || g.Flows[0].ValueGap != 150000-90909 {
		t.Errorf("ranked %d gap %s; want 1 flow, 1,500.00 - 1,000/1.1 = 590.91", s.Ranked, g.Flows[0].ValueGap)
	}
	dir := t.TempDir()
	if err := g.WriteRejects(dir + "/rejects.csv"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(dir + "/rejects.csv")
	if n := strings.Count(string(b), "\n"); n != 17 {
		t.Errorf("rejects file has %d lines, want header + 16", n)
	}
}

func TestMissingReporter(t *testing.T) {
	_, err := Analyze(DefaultConfig("UGA"), "testdata/handworked_bulk.csv")
	if err == nil || !strings.Contains(err.Error(), "no import rows reported by UGA") || !strings.Contains(err.Error(), "KEN (9)") {
		t.Errorf("err = %v; want it to name the missing reporter and the reporters present", err)
	}
	// A numeric or ISO2 code finds the same reporter.
	for _, r := range []string{"404", "KE", "ken"} {
		g, err := Analyze(DefaultConfig(r), "testdata/handworked_bulk.csv")
		if err != nil || g.Summary.Reporter != "KEN" {
			t.Errorf("reporter %q: %v", r, err)
		}
	}
}

func TestSilentPartner(t *testing.T) {
	// Without the API file India reports no exports at all.
	g, err := Analyze(DefaultConfig("KEN"), "testdata/handworked_bulk.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Summary.SilentPartners) != 1 || g.Summary.SilentPartners[0] != "IND" {
		t.Errorf("silent partners %v, want [IND]", g.Summary.SilentPartners)
	}
}

func TestDuplicatesAcrossFiles(t *testing.T) {
	g, err := Analyze(DefaultConfig("KEN"), "testdata/handworked_bulk.csv", "testdata/handworked_bulk.csv")
	if err != nil {
		t.Fatal(err)
	}
	// The second copy's 13 mirror rows repeat the first's; its 3 rows
	// outside the mirror are not checked for duplicates.
	s := g.Summary
	if s.Read != 32 || s.Rejected != 13 || s.Used != 19 || s.Files[1].Rejected != 13 {
		t.Errorf("read %d used %d rejected %d (second file %d); want 32 = 19 + 13", s.Read, s.Used, s.Rejected, s.Files[1].Rejected)
	}
	if g.Summary.RevenueGap != handWorkedNoEffective(t).Summary.RevenueGap {
		t.Error("duplicates changed the estimate")
	}
}

func handWorkedNoEffective(t *testing.T) *Gaps {
	g, err := Analyze(DefaultConfig("KEN"), "testdata/handworked_bulk.csv")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGzipAndHeaderVariants(t *testing.T) {
	raw, err := os.ReadFile("testdata/handworked_bulk.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := handWorkedNoEffective(t)
	mangled := strings.Replace(string(raw), "Trade Flow Code", "TradeFlow Code", 1)
	mangled = strings.Replace(mangled, "Netweight (kg)", "Netweightkg", 1)
	mangled = "\ufeff" + strings.Replace(mangled, "Trade Value (US$)", "TradeValueUS", 1)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	compact := strings.Replace(string(raw), "Trade Value (US$)", "Value", 1) // the legacy compact layout
	for name, data := range map[string][]byte{"gzip": gz.Bytes(), "mangled header with BOM": []byte(mangled), "legacy compact Value column": []byte(compact)} {
		b, err := NewBuilder(DefaultConfig("KEN"))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Read(bytes.NewReader(data), name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		g, err := b.Gaps()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g.Summary.Read != want.Summary.Read || g.Summary.Rejected != 0 || len(g.Flows) != len(want.Flows) ||
			findFlow(g.Rollups, AllPartners, codeTotal).ValueGap != findFlow(want.Rollups, AllPartners, codeTotal).ValueGap {
			t.Errorf("%s: read %d rejected %d flows %d; want the plain file's result", name, g.Summary.Read, g.Summary.Rejected, len(g.Flows))
		}
	}
}

func TestNotTradeStatistics(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"declarations":   "Declaration ID,Date,HS6 Code\n1,2020-01-01,851712\n",
		"no value":       "Year,Trade Flow Code,Reporter ISO,Partner ISO,Commodity Code\n2021,1,KEN,CHN,851712\n",
		"no reporter":    "period,flowCode,partnerCode,cmdCode,primaryValue\n2021,M,156,851712,10\n",
		"broken gzip":    "\x1f\x8b\x08\x00garbage",
		"unclosed quote": "\"Year,Commodity Code\n",
	} {
		if _, err := NewReader(strings.NewReader(in), name); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestAPIMonthly pairs monthly flows in the API layout, where India's rows
// name countries by Comtrade code only.
func TestAPIMonthly(t *testing.T) {
	const in = `freqCode,period,refYear,refMonth,reporterCode,reporterISO,flowCode,partnerCode,partnerISO,partner2Code,cmdCode,customsCode,motCode,qtyUnitCode,qty,netWgt,cifvalue,fobvalue,primaryValue
M,202103,2021,3,404,KEN,M,699,IND,0,100630,C00,0,8,1000,1000,1100,,1100
M,202104,2021,4,404,KEN,M,699,IND,0,100630,C00,0,8,1000,1000,2200,,2200
M,202103,2021,3,699,,X,404,,0,100630,C00,0,8,1000,1000,,1500,1500
M,202104,2021,4,699,,X,404,,0,100630,C00,0,8,1000,1000,,2000,2000
M,,2021,5,699,,X,404,,0,100630,C00,0,8,1000,1000,,900,900
M,202105,2021,5,404,KEN,M,0,W00,0,TOTAL,C00,0,-1,,,990,,990
`
	b, _ := NewBuilder(DefaultConfig("KEN"))
	if err := b.Read(strings.NewReader(in), "api.csv"); err != nil {
		t.Fatal(err)
	}
	g, err := b.Gaps()
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]Cents{}
	for _, f := range g.Flows {
		if f.Partner != "IND" || f.HS != "100630" || f.Year != 2021 {
			t.Errorf("unexpected flow %+v", f)
		}
		got[f.Month] = f.ValueGap
	}
	// March: 1,500 - 1,100/1.1; April: 2,000 - 2,200/1.1; May (period
	// empty, refMonth 5): export only.
	if len(got) != 3 || got[3] != 50000 || got[4] != 0 || got[5] != 90000 {
		t.Errorf("monthly gaps %v; want 3: 500.00, 4: 0, 5: 900.00", got)
	}
	if len(g.Checks) != 1 || g.Checks[0].Month != 5 || g.Checks[0].FromHS6 != 0 {
		t.Errorf("checks %+v", g.Checks)
	}
	sg := g.Signals().Lookup("IN", "100630", 2021)
	// The year sums every month, one-sided May included (a shipment
	// recorded in different months on the two sides evens out over the
	// year): exports 1,500 + 2,000 + 900, imports 1,000 + 2,000 FOB.
	if sg.Level != 6 || !near(sg.RelGap, 1400.0/4400, 1e-12) {
		t.Errorf("signal %+v", sg)
	}
}

func TestParseCents(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Cents
		err  error
	}{
		{"0", 0, nil}, {"12", 1200, nil}, {"12.3", 1230, nil}, {"12.345", 1235, nil}, {"12.344", 1234, nil},
		{"0.005", 1, nil}, {"0.0049", 0, nil}, {".5", 50, nil}, {"5.", 500, nil}, {"+7", 700, nil},
		{"1.2345E+07", 1234500000, nil}, {"1e-3", 0, nil}, {"-0", 0, nil}, {"-0.00", 0, nil},
		{"0001398835890", 139883589000, nil}, {"123456789012.345678901234", 12345678901235, nil},
		{"9999999999999.99", 999999999999999, nil}, {"10000000000000.01", 0, errTooLarge},
		{"-1", 0, errNegative}, {"abc", 0, errNotNumber}, {"NaN", 0, errNotNumber}, {"Inf", 0, errNotNumber},
		{"0x10", 0, errNotNumber}, {"1_000", 0, errNotNumber}, {"1e", 0, errNotNumber}, {"", 0, errNotNumber},
		{".", 0, errNotNumber}, {"1e400", 0, errTooLarge}, {"1e-400", 0, nil}, {" 5", 0, errNotNumber},
	} {
		got, err := parseCents(c.in)
		if got != c.want || err != c.err {
			t.Errorf("parseCents(%q) = %d, %v; want %d, %v", c.in, got, err, c.want, c.err)
		}
	}
}

// centsByRat is an independent reference for parseCents: exact rational
// arithmetic, rounding half up.
func centsByRat(s string) (int64, bool) {
	var r big.Rat
	if _, ok := r.SetString(s); !ok || r.Sign() < 0 {
		return 0, false
	}
	r.Mul(&r, big.NewRat(100, 1))
	r.Add(&r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

func TestNormHS(t *testing.T) {
	for _, c := range []struct {
		code  string
		level int
		want  string
		lvl   int
		ok    bool
	}{
		{"10121", 6, "010121", 6, true}, {"010121", 6, "010121", 6, true}, {"101", 4, "0101", 4, true},
		{"1", 2, "01", 2, true}, {"10121", -1, "010121", 6, true}, {"8517", -1, "8517", 4, true},
		{"TOTAL", 0, "TOTAL", 0, true}, {"Total", -1, "TOTAL", 0, true}, {"TOTAL", 6, "", 0, false},
		{"1012", 6, "", 0, false}, {"8517120", 6, "", 0, false}, {"85.17", 4, "", 0, false},
		{"851712", 0, "", 0, false}, {"85171200", -1, "", 0, false}, {"", -1, "", 0, false},
	} {
		got, lvl, err := normHS(c.code, c.level)
		if got != c.want || lvl != c.lvl || (err == nil) != c.ok {
			t.Errorf("normHS(%q, %d) = %q, %d, %v", c.code, c.level, got, lvl, err)
		}
	}
}

func TestCountry(t *testing.T) {
	for in, want := range map[string]string{
		"KEN": "KEN", "ken": "KEN", "KE": "KEN", "404": "KEN", "0404": "KEN", "842": "USA", "840": "USA",
		"US": "USA", "699": "IND", "251": "FRA", "381": "ITA", "757": "CHE", "490": "TWN", "0": "0",
		"W00": "W00", "999": "999", "XK": "XK", " CHN ": "CHN",
	} {
		if got := Country(in); got != want {
			t.Errorf("Country(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCentsString(t *testing.T) {
	for c, want := range map[Cents]string{0: "0.00", 5: "0.05", -5: "-0.05", 123456789: "1,234,567.89", -100000: "-1,000.00", 99999: "999.99"} {
		if got := c.String(); got != want {
			t.Errorf("%d: %q, want %q", int64(c), got, want)
		}
	}
	if roundCents(math.Nextafter(0.5, 1)) != 1 || roundCents(-2.5) != -3 {
		t.Error("roundCents does not round half away from zero")
	}
}
