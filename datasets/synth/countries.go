package synth

// country is one trading partner. Code is the numeric code UN Comtrade uses
// for the country: the UN M49 code, except where Comtrade keeps its own
// (India 699, USA 842, France 251, Italy 381, Switzerland 757), so that the
// trade statistics look like a real Comtrade download.
type country struct {
	iso  string
	code int
	name string
	// weight is the country's relative share of the reporter's imports.
	weight float64
	// pref marks a preferential partner (a customs union or free-trade
	// area member): its goods enter duty free, which is what origin
	// misdeclaration exploits.
	pref bool
	// road marks a neighbour whose goods arrive by road.
	road bool
	// hub marks a transhipment hub, used as a country of departure.
	hub bool
}

// countries is the partner table. The preferential set models the East African
// Community and COMESA partners of the default reporter, Kenya; another
// reporter keeps the same preferential set, which is synthetic but harmless.
var countries = []country{
	{"CHN", 156, "China", 25, false, false, false},
	{"IND", 699, "India", 10, false, false, false},
	{"ARE", 784, "United Arab Emirates", 8, false, false, true},
	{"JPN", 392, "Japan", 5, false, false, false},
	{"USA", 842, "USA", 5, false, false, false},
	{"DEU", 276, "Germany", 4, false, false, false},
	{"ZAF", 710, "South Africa", 4, false, false, false},
	{"SAU", 682, "Saudi Arabia", 3, false, false, false},
	{"GBR", 826, "United Kingdom", 3, false, false, false},
	{"ITA", 381, "Italy", 2, false, false, false},
	{"FRA", 251, "France", 2, false, false, false},
	{"NLD", 528, "Netherlands", 2, false, false, true},
	{"TUR", 792, "Turkey", 2, false, false, false},
	{"IDN", 360, "Indonesia", 2, false, false, false},
	{"MYS", 458, "Malaysia", 2, false, false, false},
	{"VNM", 704, "Viet Nam", 1.5, false, false, false},
	{"THA", 764, "Thailand", 1.5, false, false, false},
	{"KOR", 410, "Rep. of Korea", 1.5, false, false, false},
	{"PAK", 586, "Pakistan", 1.5, false, false, false},
	{"BEL", 56, "Belgium", 1.5, false, false, true},
	{"SGP", 702, "Singapore", 1, false, false, true},
	{"ESP", 724, "Spain", 1, false, false, false},
	{"BRA", 76, "Brazil", 1, false, false, false},
	{"RUS", 643, "Russian Federation", 1, false, false, false},
	{"CHE", 757, "Switzerland", 0.8, false, false, false},
	{"BGD", 50, "Bangladesh", 0.8, false, false, false},
	{"SWE", 752, "Sweden", 0.6, false, false, false},
	{"AUS", 36, "Australia", 0.6, false, false, false},
	{"LKA", 144, "Sri Lanka", 0.5, false, false, false},
	{"CAN", 124, "Canada", 0.5, false, false, false},
	{"ETH", 231, "Ethiopia", 0.7, false, true, false},
	{"NGA", 566, "Nigeria", 0.3, false, false, false},
	{"MAR", 504, "Morocco", 0.3, false, false, false},
	{"MEX", 484, "Mexico", 0.3, false, false, false},
	{"ARG", 32, "Argentina", 0.3, false, false, false},
	{"EGY", 818, "Egypt", 1.5, true, false, false},
	{"UGA", 800, "Uganda", 3, true, true, false},
	{"TZA", 834, "United Rep. of Tanzania", 3, true, true, false},
	{"KEN", 404, "Kenya", 2, true, true, false},
	{"RWA", 646, "Rwanda", 0.8, true, true, false},
	{"ZMB", 894, "Zambia", 0.6, true, true, false},
	{"COD", 180, "Dem. Rep. of the Congo", 0.4, true, true, false},
	{"BDI", 108, "Burundi", 0.3, true, true, false},
	{"SSD", 728, "South Sudan", 0.3, true, true, false},
	{"MWI", 454, "Malawi", 0.3, true, true, false},
}

// lookupCountry returns the index of iso in countries.
func lookupCountry(iso string) (int, bool) {
	for i, c := range countries {
		if c.iso == iso {
			return i, true
		}
	}
	return 0, false
}

// Reporters lists the ISO3 codes accepted as Config.Reporter.
func Reporters() []string {
	out := make([]string, len(countries))
	for i, c := range countries {
		out[i] = c.iso
	}
	return out
}
