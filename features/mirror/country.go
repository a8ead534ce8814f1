package mirror

import (
	_ "embed"
	"encoding/csv"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// countriesCSV maps ISO 3166 alpha-3 and alpha-2 codes to UN M49 numeric
// codes for the economies that trade statistics and declarations name most
// often. Comtrade keeps its own numbers for six of them (France 251, India
// 699, Italy 381, Norway 579, Switzerland 757, USA 842: each including
// dependent territories) and files Taiwan as 490 "Other Asia, nes"; the
// comtrade column holds those. Both numbers map to the country.
//
//go:embed countries.csv
var countriesCSV string

var (
	countryByCode = map[string]string{} // ISO2 or numeric code -> ISO3
	countryISO3   = map[string]bool{}
	countryInfo   = map[string]countryEntry{} // ISO3 -> ISO numeric and name
)

type countryEntry struct {
	numeric int
	name    string
}

func init() {
	rows, err := csv.NewReader(strings.NewReader(countriesCSV)).ReadAll()
	if err != nil {
		panic("mirror: embedded countries.csv: " + err.Error())
	}
	for _, r := range rows[1:] {
		iso3, iso2, m49, ct := r[0], r[1], r[2], r[3]
		countryISO3[iso3] = true
		n, err := strconv.Atoi(m49)
		if err != nil {
			panic("mirror: embedded countries.csv: " + iso3 + ": M49 code " + m49 + " is not a number")
		}
		countryInfo[iso3] = countryEntry{numeric: n, name: r[4]}
		countryByCode[iso2] = iso3
		countryByCode[m49] = iso3
		if ct != "" {
			countryByCode[ct] = iso3
		}
	}
}

// Country normalises a country as trade statistics and declarations write
// it (ISO3 "CHN", ISO2 "CN", M49 or Comtrade numeric "156", "842", with or
// without leading zeros) to the key the gap table uses: the ISO3 code when
// the built-in table knows the country, otherwise the code as given, upper
// case (numbers without leading zeros). Files that name countries
// consistently pair up whatever the table covers.
func Country(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if isDigits(s) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return s
		}
		s = strconv.Itoa(n)
		if iso3, ok := countryByCode[s]; ok {
			return iso3
		}
		return s
	}
	u := strings.ToUpper(s)
	if countryISO3[u] {
		return u
	}
	if iso3, ok := countryByCode[u]; ok {
		return iso3
	}
	return u
}

// CountryNumeric returns the ISO 3166-1 numeric code (the UN M49 number) and
// the English name of a country written in any form Country accepts, and
// false when the built-in table does not know it. Comtrade's own numbers
// give the ISO number (842 gives 840): maps and other ISO-keyed data
// (Natural Earth, world-atlas) use those.
func CountryNumeric(s string) (numeric int, name string, ok bool) {
	e, ok := countryInfo[Country(s)]
	return e.numeric, e.name, ok
}

// isWorldPartner reports whether a partner is the World aggregate: code 0,
// "WLD" in the legacy bulk files, "W00" in the current API.
func isWorldPartner(key string) bool {
	return key == "0" || key == "WLD" || key == "W00"
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// CountryByName returns the ISO3 code of a country written by its English
// name as the built-in table has it ("Kenya", "cote d'ivoire": case, accents,
// punctuation and spacing do not matter), and false for a name it does not
// know.
func CountryByName(name string) (string, bool) {
	iso3, ok := countryByName()[NameKey(name)]
	return iso3, ok
}

var countryByName = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for iso3, e := range countryInfo {
		m[NameKey(e.name)] = iso3
	}
	return m
})

// NameKey is the form in which country names are compared: lower case,
// without accents, with every run of characters other than letters and
// digits one space ("Côte d'Ivoire" and "cote d ivoire" give "cote d
// ivoire").
func NameKey(name string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		default:
			space = true
		}
	}
	return b.String()
}
