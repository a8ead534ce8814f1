package mirror

import "testing"

func TestCountryNumeric(t *testing.T) {
	for _, c := range []struct {
		in   string
		num  int
		name string
		ok   bool
	}{
		{"KEN", 404, "Kenya", true},
		{"ke", 404, "Kenya", true},
		{"842", 840, "United States", true}, // Comtrade's number gives ISO's
		{"USA", 840, "United States", true},
		{"251", 250, "France", true},
		{"4", 4, "Afghanistan", true},
		{"004", 4, "Afghanistan", true},
		{"SSD", 728, "South Sudan", true}, // a partner of the synthetic data
		{"XXX", 0, "", false},
		{"", 0, "", false},
	} {
		num, name, ok := CountryNumeric(c.in)
		if num != c.num || name != c.name || ok != c.ok {
			t.Errorf("CountryNumeric(%q) = %d, %q, %v; want %d, %q, %v", c.in, num, name, ok, c.num, c.name, c.ok)
		}
	}
}
