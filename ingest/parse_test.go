package ingest

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"risklane/decl"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in        string
		dec, thou byte
		want      float64
		reason    string
	}{
		{"108.0", '.', 0, 108, ""},
		{"78.19999999999997", '.', 0, 78.19999999999997, ""},
		{"-3", '.', 0, -3, ""},
		{"+3", '.', 0, 3, ""},
		{"1e+06", '.', 0, 1e6, ""},
		{".5", '.', 0, 0.5, ""},
		{"5.", '.', 0, 5, ""},
		{"12.5kg", '.', 0, 0, reasonNotNumber},
		{"NaN", '.', 0, 0, reasonNotNumber},
		{"Inf", '.', 0, 0, reasonNotNumber},
		{"0x10", '.', 0, 0, reasonNotNumber},
		{"1_000", '.', 0, 0, reasonNotNumber},
		{"1e999", '.', 0, 0, reasonNotFinite},
		{"1,5", '.', 0, 0, reasonNotNumber},
		{"--1", '.', 0, 0, reasonNotNumber},
		{"1,5", ',', 0, 1.5, ""},
		{"1.5", ',', 0, 0, reasonNotNumber},
		{"1.234,5", ',', '.', 1234.5, ""},
		{"12.345.678,9", ',', '.', 12345678.9, ""},
		{"1234,5", ',', '.', 1234.5, ""},
		{"1.23,5", ',', '.', 0, reasonGrouping},
		{"1.2345", ',', '.', 0, reasonGrouping},
		{".123", ',', '.', 0, reasonGrouping},
		{"1234.567", ',', '.', 0, reasonGrouping},
		{"1,234.5", '.', ',', 1234.5, ""},
		{"1 234 567", '.', ' ', 1234567, ""},
		{"1'234.5", '.', '\'', 1234.5, ""},
		{"-1,234", '.', ',', -1234, ""},
		{"1,234e3", '.', ',', 1234e3, ""},
		{"1,2-3", ',', 0, 0, reasonNotNumber},
	}
	for _, tt := range tests {
		p := numberParser{dec: tt.dec, thou: tt.thou}
		got, reason := p.parse([]byte(tt.in))
		if reason != tt.reason || (reason == "" && got != tt.want) {
			t.Errorf("parse(%q, dec %q, thou %q) = %v, %q; want %v, %q", tt.in, tt.dec, tt.thou, got, reason, tt.want, tt.reason)
		}
	}
}

func TestDateParser(t *testing.T) {
	day := func(s string) int32 {
		d, _ := time.Parse("2006-01-02", s)
		return int32(d.Unix() / 86400)
	}
	tests := []struct {
		layouts []string
		in      string
		want    string // "" = rejected
	}{
		{[]string{"2006-01-02"}, "2020-01-01", "2020-01-01"},
		{[]string{"2006-01-02"}, "2020-02-29", "2020-02-29"},
		{[]string{"2006-01-02"}, "2021-02-29", ""},
		{[]string{"2006-01-02"}, "2020-13-01", ""},
		{[]string{"2006-01-02"}, "2020-1-01", ""},
		{[]string{"2006-01-02"}, "0202-01-01", ""},
		{[]string{"2006-01-02"}, "2200-01-01", ""},
		{[]string{"06-01-02"}, "13-01-02", "2013-01-02"},
		{[]string{"06-01-02"}, "69-12-31", "1969-12-31"},
		{[]string{"06-01-02"}, "68-12-31", "2068-12-31"},
		{[]string{"06-01-02", "2006-01-02"}, "2013-01-02", "2013-01-02"},
		{[]string{"02/01/2006"}, "31/12/2020", "2020-12-31"},
		{[]string{"01/02/2006"}, "12/31/2020", "2020-12-31"},
		{[]string{"20060102"}, "20201231", "2020-12-31"},
		{[]string{"02.01.2006"}, "31.12.2020", "2020-12-31"},
		{[]string{"2/1/2006"}, "5/3/2020", "2020-03-05"},
		{[]string{"2006-01-02T15:04:05Z07:00"}, "2020-04-18T00:00:00Z", "2020-04-18"},
		{[]string{"2006-01-02T15:04:05Z07:00"}, "2020-04-18T23:30:00-05:00", "2020-04-18"},
		{[]string{"02-Jan-06"}, "14-Aug-14", "2014-08-14"},
		{[]string{"02-Jan-06"}, "14-Foo-14", ""},
		// Order matters: the first layout that fits wins.
		{[]string{"01/02/2006", "02/01/2006"}, "03/04/2020", "2020-03-04"},
		{[]string{"02/01/2006", "01/02/2006"}, "03/04/2020", "2020-04-03"},
		{[]string{"02/01/2006", "01/02/2006"}, "13/04/2020", "2020-04-13"},
	}
	for _, tt := range tests {
		p := newDateParser(tt.layouts)
		for range 2 { // twice: the second answer comes from the cache
			got, reason := p.parse([]byte(tt.in))
			switch {
			case tt.want == "" && reason == "":
				t.Errorf("%v %q: accepted as %d, want rejected", tt.layouts, tt.in, got)
			case tt.want != "" && (reason != "" || got != day(tt.want)):
				t.Errorf("%v %q: %d %q, want %s (%d)", tt.layouts, tt.in, got, reason, tt.want, day(tt.want))
			}
		}
	}
}

func TestCompileLayoutFast(t *testing.T) {
	for l, fast := range map[string]bool{
		"2006-01-02": true, "06-01-02": true, "02/01/2006": true, "20060102": true,
		"2/1/2006": false, "02-Jan-06": false, "2006-01-02T15:04:05Z07:00": false, "2006-01": false,
	} {
		if got := compileLayout(l).fast != nil; got != fast {
			t.Errorf("%q: fast path %v, want %v", l, got, fast)
		}
	}
}

// numberRef is the reference grammar for FuzzParseNumber: a regular
// expression per separator pair, then strconv on the normalised text.
func numberRef(s string, dec, thou byte) (float64, bool) {
	intPart := `\d+`
	if thou != 0 {
		intPart = `(\d+|\d{1,3}(` + regexp.QuoteMeta(string(thou)) + `\d{3})+)`
	}
	re := `^[+-]?(` + intPart + `(` + regexp.QuoteMeta(string(dec)) + `\d*)?|` + regexp.QuoteMeta(string(dec)) + `\d+)([eE][+-]?\d+)?$`
	if !regexp.MustCompile(re).MatchString(s) {
		return 0, false
	}
	if thou != 0 {
		s = strings.ReplaceAll(s, string(thou), "")
	}
	s = strings.ReplaceAll(s, string(dec), ".")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"108.0", "-3", "1e+06", "1.234,5", "1,234.5", "1 234", ".5", "5.", "1e999", "NaN", "0x10", "+.e5"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(3))
	}
	seps := [][2]byte{{'.', 0}, {',', 0}, {'.', ','}, {',', '.'}, {'.', ' '}, {'.', '\''}}
	f.Fuzz(func(t *testing.T, s string, mode uint8) {
		sep := seps[int(mode)%len(seps)]
		p := numberParser{dec: sep[0], thou: sep[1]}
		got, reason := p.parse([]byte(s))
		want, ok := numberRef(s, sep[0], sep[1])
		if ok != (reason == "") || (ok && got != want) {
			t.Fatalf("parse(%q, %q, %q) = %v %q; reference %v %v", s, sep[0], sep[1], got, reason, want, ok)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	layouts := []string{"2006-01-02", "06-01-02", "02/01/2006", "20060102", "2/1/2006", "02-Jan-06", "2006-01-02T15:04:05Z07:00"}
	for _, s := range []string{"2020-01-01", "13-01-02", "31/12/2020", "20201231", "5/3/2020", "14-Aug-14", "2020-02-30", "+020-01-01", "2020-04-18T00:00:00Z"} {
		for i := range layouts {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, s string, li uint8) {
		layout := layouts[int(li)%len(layouts)]
		p := newDateParser([]string{layout})
		got, reason := p.parse([]byte(s))
		// The reference: time.Parse, limited to the same year window.
		tm, err := time.Parse(layout, s)
		ok := err == nil && tm.Year() >= minYear && tm.Year() <= maxYear
		if reason == "" {
			if !ok {
				t.Fatalf("%q with %q: accepted as %d, time.Parse says %v", s, layout, got, err)
			}
			if want := decl.Days(tm.Year(), int(tm.Month()), tm.Day()); got != want {
				t.Fatalf("%q with %q: %d, time.Parse gives %d", s, layout, got, want)
			}
			return
		}
		// time.Parse is laxer only in reading a sign as part of a number
		// ("+1-01-02" with 06); the fast path wants digits there.
		if ok && (compileLayout(layout).fast == nil || digitsWhereLayoutHas(s, layout)) {
			t.Fatalf("%q with %q: rejected, time.Parse gives %s", s, layout, tm)
		}
	})
}

// digitsWhereLayoutHas reports whether s has a digit wherever a fixed-width
// numeric layout has one.
func digitsWhereLayoutHas(s, layout string) bool {
	if len(s) != len(layout) {
		return false
	}
	for i := range layout {
		if layout[i] >= '0' && layout[i] <= '9' && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}
