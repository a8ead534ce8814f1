package decl

import (
	"testing"
	"time"
)

// TestDays checks Days against the standard library on every day from 1600
// to 2400 and from 1000 BC (year -999) to AD 100: the years before 1 are
// where a days_from_civil without floor division goes wrong (the copy
// analysis/releasetime once had put 0000-01-01 a day late).
func TestDays(t *testing.T) {
	for _, span := range [][2]int{{1600, 2400}, {-999, 100}} {
		for d := time.Date(span[0], 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < span[1]; d = d.AddDate(0, 0, 1) {
			want := d.Unix() / 86400
			if d.Unix() < 0 && d.Unix()%86400 != 0 {
				want--
			}
			if got := Days(d.Year(), int(d.Month()), d.Day()); int64(got) != want {
				t.Fatalf("%s: %d, want %d", d.Format("2006-01-02"), got, want)
			}
		}
	}
}
