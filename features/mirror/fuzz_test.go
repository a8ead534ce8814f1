package mirror

import (
	"bytes"
	"compress/gzip"
	"os"
	"strings"
	"testing"
)

func addFileSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzReader feeds arbitrary bytes to the trade-statistics reader and the
// analysis. Whatever the input: no panic, every row read is either used or
// rejected, accepted records are well-formed, and the roll-up across
// partners equals the sum of the HS6 gaps to the cent.
func FuzzReader(f *testing.F) {
	addFileSeeds(f, "testdata/handworked_bulk.csv", "testdata/handworked_api.csv", "testdata/malformed.csv")
	raw, _ := os.ReadFile("testdata/handworked_bulk.csv")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	f.Add(gz.Bytes())
	f.Add([]byte(strings.Replace(string(raw), "Trade Value (US$)", "Value", 1)))
	f.Add([]byte("period,flowCode,reporterISO,partnerCode,cmdCode,aggrLevel,primaryValue,netWgt\n202101,M,KEN,156,10121,6,5,1\n2021,X,CHN,404,TOTAL,0,NA,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := NewReader(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			return
		}
		accepted := 0
		for rd.Next() {
			accepted++
			r := rd.Record()
			if r.Reporter == "" || r.Partner == "" || r.Year < 1950 || r.Year > 2100 || r.Month < 0 || r.Month > 12 ||
				r.Value < 0 || r.Value > maxCents || r.CIF < 0 || r.FOB < 0 || r.NetKg < 0 || r.Qty < 0 {
				t.Fatalf("bad record %+v", r)
			}
			if (r.Level == 0) != (r.HS == codeTotal) || (r.Level != 0 && (len(r.HS) != r.Level || !isDigits(r.HS))) {
				t.Fatalf("bad HS %q at level %d", r.HS, r.Level)
			}
		}
		if rd.Err() == nil && rd.Read() != accepted+len(rd.Rejects()) {
			t.Fatalf("read %d != accepted %d + rejected %d", rd.Read(), accepted, len(rd.Rejects()))
		}
		for _, rj := range rd.Rejects() {
			if rj.Line < 1 || rj.Reason == "" {
				t.Fatalf("reject without a line or reason: %+v", rj)
			}
		}

		b, _ := NewBuilder(DefaultConfig("KEN"))
		if err := b.Read(bytes.NewReader(data), "fuzz.csv"); err != nil {
			return
		}
		g, err := b.Gaps()
		if err != nil {
			return
		}
		s := g.Summary
		if s.Read != s.Used+s.Rejected || s.Used != s.HS6Rows+s.CheckRows+s.OutsideRows {
			t.Fatalf("summary does not reconcile: %+v", s)
		}
		var gap, rev Cents
		for _, fl := range g.Flows {
			gap += fl.ValueGap
			rev += fl.RevenueGap
		}
		for _, r := range g.Rollups {
			if r.Partner == AllPartners && r.HS == codeTotal {
				gap -= r.ValueGap
				rev -= r.RevenueGap
			}
		}
		if gap != 0 || rev != 0 {
			t.Fatalf("roll-ups do not reconcile: gap off by %d, revenue by %d", gap, rev)
		}
		var buf bytes.Buffer
		g.Report(&buf, 5, 5)
		if _, err := ReadSignals(signalsBytes(t, g.Signals())); err != nil {
			t.Fatal(err)
		}
	})
}

func signalsBytes(t *testing.T, s *Signals) *bytes.Reader {
	var buf bytes.Buffer
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

// FuzzParseCents checks parseCents against exact rational arithmetic.
func FuzzParseCents(f *testing.F) {
	for _, s := range []string{"0", "12.345", "1.2345E+07", "-1", "abc", "0.005", "1e400", "123456789012.345678901234", ".5", "9999999999999.995"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseCents(s)
		if !scanDecimal(s) {
			if err != errNotNumber {
				t.Fatalf("%q: %v, want not a number", s, err)
			}
			return
		}
		neg := strings.HasPrefix(s, "-")
		abs := strings.TrimLeft(s, "+-")
		mant, exp, _ := strings.Cut(strings.ToLower(abs), "e")
		want, ok := int64(0), true
		expNeg := strings.HasPrefix(exp, "-")
		expDigits := strings.TrimLeft(strings.TrimLeft(exp, "+-"), "0")
		huge := len(expDigits) > 3
		if huge && len(mant) > 900 {
			// Not decidable from the exponent alone, and too slow for
			// exact rationals: the unit tests and the other inputs cover it.
			return
		}
		switch {
		case strings.Trim(mant, "0.") == "":
		case huge && expNeg:
			// Far below a cent; exact rationals would take forever.
		case huge:
			ok = false
		default:
			want, ok = centsByRat(abs)
		}
		switch {
		case !ok || want > int64(maxCents):
			if err != errTooLarge {
				t.Fatalf("%q: %d, %v; want too large", s, got, err)
			}
		case neg && want != 0:
			if err != errNegative {
				t.Fatalf("%q: %d, %v; want negative", s, got, err)
			}
		default:
			if err != nil || int64(got) != want {
				t.Fatalf("%q: %d, %v; want %d", s, got, err, want)
			}
		}
	})
}

// FuzzTariffs feeds arbitrary bytes to the tariff-table reader.
func FuzzTariffs(f *testing.F) {
	addFileSeeds(f, "testdata/tariffs.csv")
	f.Add([]byte("HS_Code,Duty_Rate,desc\n0101,5%,horses\n101,x,\n10,1001,\n\"85\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, rej, err := ReadTariffs(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			return
		}
		for _, code := range tf.Codes() {
			// The most specific code wins: a padded code finds its own
			// rate or a longer code's.
			r, lvl, ok := tf.Rate(code + "000000"[:6-len(code)])
			if !ok || lvl < len(code) || r < 0 || r > maxRatePct || tf.rates[code] < 0 || tf.rates[code] > maxRatePct {
				t.Fatalf("code %q: rate %v level %d ok %v", code, r, lvl, ok)
			}
		}
		for _, rj := range rej {
			if rj.Reason == "" {
				t.Fatalf("reject without a reason: %+v", rj)
			}
		}
	})
}

// FuzzReadSignals feeds arbitrary bytes to the signal-dictionary loader; a
// dictionary it accepts must survive a save and reload.
func FuzzReadSignals(f *testing.F) {
	f.Add([]byte(`{"format":"risklane.mirror.signals/1","reporter":"KEN","cif_fob":1.1,"entries":[{"origin":"CHN","hs":"8517","year":2021,"rel_gap":0.5,"log_ratio":null,"uv_ratio":1,"revenue_share":0}]}`))
	f.Add([]byte(`{"format":"other"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadSignals(bytes.NewReader(data))
		if err != nil {
			return
		}
		s2, err := ReadSignals(signalsBytes(t, s))
		if err != nil || s2.Len() != s.Len() {
			t.Fatalf("reload: %v, %d entries, want %d", err, s2.Len(), s.Len())
		}
		for k, sg := range s.table {
			if got := s2.table[k]; !sameSignal(got, sg) {
				t.Fatalf("%v: %+v after reload, want %+v", k, got, sg)
			}
		}
	})
}

func sameSignal(a, b Signal) bool {
	return a.Level == b.Level && near(a.RelGap, b.RelGap, 0) && near(a.LogRatio, b.LogRatio, 0) &&
		near(a.UVRatio, b.UVRatio, 0) && near(a.RevenueShare, b.RevenueShare, 0)
}
