package rank

import "testing"

// FuzzParseShare: a share it accepts prints back to itself and takes
// between 0 and n of n rows.
func FuzzParseShare(f *testing.F) {
	for _, s := range []string{"5%", "0%", "100%", "2.5 %", "500", "0", "-1", "1e3%", "0x10", " 7 "} {
		f.Add(s, 1000)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		v, err := ParseShare(s)
		if err != nil {
			return
		}
		back, err := ParseShare(v.String())
		if err != nil || back != v {
			t.Fatalf("%q -> %+v prints as %q -> %+v, %v", s, v, v.String(), back, err)
		}
		n = max(0, n%10_000_000)
		if k := v.Of(n); k < 0 || k > n {
			t.Fatalf("%q of %d rows = %d", s, n, k)
		}
	})
}

// FuzzParseRate: a rate it accepts (run --max-rejects) is a fraction from
// 0 to 1, and ParseShare reads the same string as the same share in
// percent.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"2%", "0.02", "1", "0", "1.0", "100%", "5", "NaN", "-0", "1e-2", "0x1p-2", " 50 % "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseRate(s)
		if err != nil {
			return
		}
		if !(v >= 0 && v <= 1) {
			t.Fatalf("%q read as the rate %v", s, v)
		}
		if sh, err := ParseShare(s); err == nil && (sh.IsCount || sh.Percent/100 != v) && !(sh.IsCount && (v == 0 || v == 1)) {
			t.Fatalf("%q: rate %v but share %+v", s, v, sh)
		}
	})
}
