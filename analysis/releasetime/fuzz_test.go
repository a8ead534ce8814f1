package releasetime

import (
	"testing"
	"time"
)

// FuzzParseStamp checks the hand-written milestone parser against
// time.Parse: both accept the same strings and agree on the minute. The
// milestone format is strict (YYYY-MM-DDTHH:MM[:SS], two digits each), while
// time.Parse also takes a one-digit hour after a run of spaces
// ("2000-10-01  0:00", found by this target): a string counts as accepted only
// when it is its own time.Parse result formatted back.
func FuzzParseStamp(f *testing.F) {
	for _, s := range []string{"2024-01-05T16:00", "2024-01-05 16:00:59", "2024-02-29T23:59", "2023-02-29T00:00", "2024-13-01T00:00", "2024-01-05T16:60", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseStamp(s)
		var want time.Time
		var err error = errNoLayout
		for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
			if len(layout) != len(s) {
				continue
			}
			if want, err = time.Parse(layout, s); err == nil && want.Format(layout) != s {
				err = errNoLayout
			}
			if err == nil {
				break
			}
		}
		// time.Parse takes years from 0000; the parser wants 1900 on.
		if err == nil && want.Year() < 1900 {
			err = errNoLayout
		}
		if ok != (err == nil) {
			t.Fatalf("%q: parseStamp ok=%v, time.Parse error %v", s, ok, err)
		}
		if ok && got != floorDiv(want.Unix(), 60) {
			t.Fatalf("%q: %d minutes, time.Parse says %d", s, got, floorDiv(want.Unix(), 60))
		}
	})
}

type parseErr string

func (e parseErr) Error() string { return string(e) }

const errNoLayout = parseErr("no layout")
