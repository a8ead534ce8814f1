package mirror

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
)

// TestJoinRatesEqualsEffectiveRates splits declarations by HS2 chapter (each
// chapter's rows in input order, as the Beam fit stage brings them
// together), computes EffectiveRates per chapter and joins them: every rate
// must equal EffectiveRates over all rows bit for bit. The rows include the
// ones EffectiveRates skips (short or non-digit codes, missing or negative
// amounts).
func TestJoinRatesEqualsEffectiveRates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var d Duties
	for range 5000 {
		code := fmt.Sprintf("%02d%02d%02d", rng.IntN(4)+1, rng.IntN(5), rng.IntN(7))
		switch rng.IntN(40) {
		case 0:
			code = code[:4]
		case 1:
			code = "9x" + code[2:]
		}
		tax, val := rng.Float64()*1e4/3, rng.Float64()*1e5/7
		switch rng.IntN(50) {
		case 0:
			val = -val
		case 1:
			tax = -tax
		}
		d.HS, d.Taxes, d.Value = append(d.HS, code), append(d.Taxes, tax), append(d.Value, val)
	}
	want := EffectiveRates(d.HS, d.Taxes, d.Value)
	byChapter := map[string]*Duties{}
	var order []string
	for i, code := range d.HS {
		ch := code[:2]
		c := byChapter[ch]
		if c == nil {
			c = &Duties{}
			byChapter[ch] = c
			order = append(order, ch)
		}
		c.HS, c.Taxes, c.Value = append(c.HS, code), append(c.Taxes, d.Taxes[i]), append(c.Value, d.Value[i])
	}
	var parts []map[string]float64
	for _, ch := range order {
		c := byChapter[ch]
		parts = append(parts, EffectiveRates(c.HS, c.Taxes, c.Value).RatesPct())
	}
	got, err := JoinRates(DeclaredSource, parts...)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != want.Source || !maps.Equal(got.RatesPct(), want.RatesPct()) || want.Len() < 50 {
		t.Errorf("joined rates (%d codes, %s) differ from EffectiveRates' (%d codes, %s)", got.Len(), got.Source, want.Len(), want.Source)
	}
	// A sum split across parts is refused.
	if _, err := JoinRates(DeclaredSource, parts[0], parts[0]); err == nil {
		t.Error("JoinRates took a code in two parts")
	}
	// Hand-worked: 10 of duty on 100 and 30 on 200 under 010203 is 40/300.
	h := EffectiveRates([]string{"010203", "010299"}, []float64{10, 30}, []float64{100, 200})
	if r, lvl, ok := h.Rate("010203"); !ok || lvl != 6 || r != 10 {
		t.Errorf("HS6 rate %v at %d (%v), want 10 at 6", r, lvl, ok)
	}
	if r, lvl, _ := h.Rate("010211"); lvl != 4 || r != 100*40.0/300 {
		t.Errorf("HS4 rate %v at %d, want %v at 4", r, lvl, 100*40.0/300)
	}
}
