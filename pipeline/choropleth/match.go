package choropleth

import (
	"strconv"
	"strings"
	"sync"

	"risklane/features/mirror"
	"risklane/pipeline/report"
)

// Place is a country a table row was matched to.
type Place struct {
	// Numeric is the ISO 3166 numeric code (UN M49); ISO3 the alpha-3 code
	// when the country table knows it.
	Numeric int
	ISO3    string
	// Name is the country's English name; Outline the name of its outline
	// on the map, "" for a country too small for the 1:110m outlines.
	Name, Outline string
}

// outlines holds the map's outline names by ISO numeric code and by
// mirror.NameKey of the name.
var outlines = sync.OnceValues(func() (struct {
	byNum  map[int]string
	byName map[string]int
}, error) {
	var o struct {
		byNum  map[int]string
		byName map[string]int
	}
	names, err := report.OutlineNames()
	if err != nil {
		return o, err
	}
	o.byNum, o.byName = names, map[string]int{}
	for n, name := range names {
		o.byName[mirror.NameKey(name)] = n
	}
	return o, nil
})

// Match places a country written as an ISO3 or ISO2 code, an M49 (or
// Comtrade) number, or an English name (the country table's or the map's:
// "Côte d'Ivoire", "United States of America", "Dem. Rep. Congo"). It
// reports false for text it cannot place.
func Match(s string) (Place, bool, error) {
	o, err := outlines()
	if err != nil {
		return Place{}, false, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return Place{}, false, nil
	}
	place := func(num int, name string) Place {
		p := Place{Numeric: num, Name: name, Outline: o.byNum[num]}
		if iso3 := mirror.Country(strconv.Itoa(num)); len(iso3) == 3 && !isDigits(iso3) {
			p.ISO3 = iso3
		}
		if p.Name == "" {
			p.Name = p.Outline
		}
		return p
	}
	if num, name, ok := mirror.CountryNumeric(s); ok {
		return place(num, name), true, nil
	}
	if isDigits(s) {
		if n, err := strconv.Atoi(s); err == nil {
			if _, ok := o.byNum[n]; ok {
				return place(n, ""), true, nil
			}
		}
		return Place{}, false, nil
	}
	if iso3, ok := mirror.CountryByName(s); ok {
		num, name, _ := mirror.CountryNumeric(iso3)
		return place(num, name), true, nil
	}
	if n, ok := o.byName[mirror.NameKey(s)]; ok {
		return place(n, ""), true, nil
	}
	return Place{}, false, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
