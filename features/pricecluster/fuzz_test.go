package pricecluster

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
)

func FuzzParseHS6(f *testing.F) {
	for _, s := range []string{"870321", "8703.21.90", "010121", "8703", "87032190001234", "87a321", "", " 8 7 0 3 2 1", "-87032"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		got := ParseHS6(code)
		digits := strings.Map(func(r rune) rune {
			if r == '.' || r == ' ' {
				return -1
			}
			return r
		}, code)
		allDigits := digits != "" && strings.Trim(digits, "0123456789") == ""
		if !allDigits || len(digits) < 6 {
			if got != NoHS6 {
				t.Fatalf("ParseHS6(%q) = %d, want NoHS6", code, got)
			}
			return
		}
		want, err := strconv.Atoi(digits[:6])
		if err != nil || int32(want) != got {
			t.Fatalf("ParseHS6(%q) = %d, want %d", code, got, want)
		}
	})
}

// FuzzReadModel feeds ReadModel arbitrary bytes: it must reject or accept
// without panicking, and whatever it accepts Apply must use without
// panicking or producing percentiles outside 0..100.
func FuzzReadModel(f *testing.F) {
	p := plant(4, 3, 40, 0.1)
	for _, cfg := range []Config{{}, {ValueMass: true}} {
		m, err := Fit(p.hs6, p.value, p.mass, p.qty, cfg)
		if err != nil {
			f.Fatal(err)
		}
		var b bytes.Buffer
		if err := m.WriteJSON(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Add([]byte(`{"version":1,"dims":1,"config":{},"groups":[{"level":"all","basis":"kg","code":0,"k":1,"centres":[0],"sizes":[1],"spreads":[0],"log_uv_quantiles":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}`))
	hs6 := append([]int32{NoHS6, 999999, 0}, p.hs6[:20]...)
	value := append([]float64{1, 1e300, 5e-324}, p.value[:20]...)
	mass := append([]float64{1, 1e-300, 0}, p.mass[:20]...)
	qty := append([]float64{1, 1, 1e300}, p.qty[:20]...)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadModel(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			return
		}
		var a Assignment
		if err := m.Apply(hs6, value, mass, qty, &a); err != nil {
			t.Fatal(err)
		}
		for i, pc := range a.Pctl {
			if a.Group[i] >= 0 && !(pc >= 0 && pc <= 100) && !math.IsNaN(a.LogUV[i]) {
				t.Fatalf("row %d: percentile %v", i, pc)
			}
		}
	})
}
