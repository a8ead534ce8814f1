package simulate

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseStrategy gives the --strategy reader arbitrary specs. A spec it
// accepts has parts with names, weights in (0, 1] that sum to 1, and reads
// back to the same parts when written out again as name:weight+... .
func FuzzParseStrategy(f *testing.F) {
	for _, s := range []string{"gbdt", "gbdt:0.9+random:0.1", "gbdt:0.8+diversity:0.2", "apt", "adapt",
		"date:0.5+gatekeeper:0.25+iforest:0.25", " risky : 1", "gbdt:1e-1+random:9e-1", "apt+random:1",
		"gbdt:0.9+novelty:0.1", "gbdt:0.9+gatekeeper:0.1:hidden", "random:1:hidden", "gbdt:0.9:hidden+random:0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseStrategy(spec)
		if err != nil {
			return
		}
		total := 0.0
		var back []string
		for _, p := range s.parts {
			if p.name == "" || strings.ContainsAny(p.name, "+:") || !(p.weight > 0 && p.weight <= 1) {
				t.Fatalf("accepted part %+v", p)
			}
			if p.explore && p.kind != "" {
				t.Fatalf("part %+v both explores and exploits a kind", p)
			}
			total += p.weight
			if p.hidden && !p.explore {
				t.Fatalf("part %+v hides the labels of exploiting picks", p)
			}
			w := p.name + ":" + strconv.FormatFloat(p.weight, 'g', -1, 64)
			if p.hidden {
				w += ":hidden"
			}
			back = append(back, w)
		}
		if math.Abs(total-1) > 1e-9 {
			t.Fatalf("weights sum to %v", total)
		}
		again, err := ParseStrategy(strings.Join(back, "+"))
		if len(s.parts) == 1 && err != nil {
			again, err = ParseStrategy(s.parts[0].name)
		}
		if err != nil {
			t.Fatalf("%q written back as %q: %v", spec, strings.Join(back, "+"), err)
		}
		if !reflect.DeepEqual(again.parts, s.parts) {
			t.Fatalf("%q read back as %+v, first %+v", spec, again.parts, s.parts)
		}
	})
}
