package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// chapter is an HS2 chapter with the typical economics of its goods.
type chapter struct {
	code int
	name string
	// uv is the median FOB unit value in US$ per kg.
	uv float64
	// duty is the chapter's base duty band: the rate is 5% times the band
	// (0 to 6, so 0% to 30%) before heading and subheading offsets.
	duty int
	// unitKg is the typical weight of one unit; 0 means bulk goods whose
	// quantity is declared in kg.
	unitKg float64
	// weight is the chapter's share of the HS6 catalogue.
	weight float64
}

var chapters = []chapter{
	{2, "Meat and edible meat offal", 4.0, 3, 0, 2},
	{3, "Fish and crustaceans", 4.5, 4, 0, 1.5},
	{4, "Dairy produce; eggs; honey", 3.5, 4, 0, 2},
	{7, "Edible vegetables", 0.9, 4, 0, 1.5},
	{8, "Edible fruit and nuts", 1.4, 4, 0, 1.5},
	{9, "Coffee, tea, mate and spices", 4.0, 4, 0, 1},
	{10, "Cereals", 0.33, 2, 0, 4},
	{11, "Products of the milling industry", 0.5, 3, 0, 1.5},
	{15, "Animal or vegetable fats and oils", 1.1, 2, 0, 3},
	{17, "Sugars and sugar confectionery", 0.6, 5, 0, 2.5},
	{19, "Preparations of cereals, flour or starch", 2.2, 4, 0.5, 1.5},
	{20, "Preparations of vegetables, fruit or nuts", 1.8, 5, 0.8, 1},
	{21, "Miscellaneous edible preparations", 3.5, 4, 0.5, 1.5},
	{22, "Beverages, spirits and vinegar", 1.3, 6, 1.0, 1.5},
	{24, "Tobacco and manufactured substitutes", 9.0, 6, 0.2, 0.5},
	{25, "Salt; sulphur; earths and stone; cement", 0.09, 1, 0, 2},
	{27, "Mineral fuels, mineral oils", 0.75, 2, 0, 6},
	{28, "Inorganic chemicals", 0.8, 0, 0, 1.5},
	{29, "Organic chemicals", 2.6, 0, 0, 2},
	{30, "Pharmaceutical products", 35, 0, 0.1, 3},
	{31, "Fertilisers", 0.45, 0, 0, 2},
	{32, "Tanning or dyeing extracts; paints", 3.2, 2, 0, 1.5},
	{33, "Essential oils; perfumery and cosmetics", 7.5, 5, 0.2, 1.5},
	{34, "Soap, washing and lubricating preparations", 1.9, 4, 1, 1.5},
	{38, "Miscellaneous chemical products", 2.8, 1, 0, 1.5},
	{39, "Plastics and articles thereof", 2.1, 2, 0, 5},
	{40, "Rubber and articles thereof", 3.0, 3, 8, 2.5},
	{42, "Articles of leather; handbags", 18, 5, 0.5, 0.8},
	{44, "Wood and articles of wood", 0.6, 3, 0, 1},
	{48, "Paper and paperboard", 1.2, 3, 0, 2.5},
	{52, "Cotton", 3.0, 3, 0, 1},
	{54, "Man-made filaments", 3.5, 3, 0, 1},
	{55, "Man-made staple fibres", 2.9, 3, 0, 1},
	{61, "Apparel, knitted or crocheted", 14, 6, 0.25, 2},
	{62, "Apparel, not knitted or crocheted", 17, 6, 0.35, 2},
	{63, "Other made up textile articles; worn clothing", 1.8, 6, 0, 1.5},
	{64, "Footwear", 11, 6, 0.8, 1.5},
	{69, "Ceramic products", 0.8, 5, 15, 1.5},
	{70, "Glass and glassware", 1.4, 4, 2, 1},
	{71, "Precious stones and metals; jewellery", 450, 4, 0.05, 0.4},
	{72, "Iron and steel", 0.7, 2, 0, 5},
	{73, "Articles of iron or steel", 2.4, 4, 5, 3},
	{76, "Aluminium and articles thereof", 3.2, 3, 0, 1.5},
	{82, "Tools, cutlery of base metal", 9, 4, 0.5, 1},
	{84, "Machinery and mechanical appliances", 14, 1, 25, 8},
	{85, "Electrical machinery and equipment", 22, 2, 1.5, 8},
	{87, "Vehicles other than railway", 7.5, 5, 1200, 6},
	{90, "Optical, medical and measuring instruments", 55, 1, 2, 2},
	{94, "Furniture; bedding; lighting", 3.8, 5, 20, 2},
	{95, "Toys, games and sports equipment", 6, 5, 0.5, 1},
	{96, "Miscellaneous manufactured articles", 5, 5, 0.1, 1},
}

// subheadings are the HS6 suffixes given to the codes of one heading, in the
// order real headings tend to use them.
var subheadings = []int{10, 20, 90, 30, 40, 11, 19, 21, 29, 50, 60, 80, 12, 13, 22, 23, 31, 32, 39, 41,
	49, 51, 59, 61, 69, 70, 71, 79, 81, 89, 91, 99}

// nationalSuffixes extend an HS6 code to a 10-digit national tariff line.
var nationalSuffixes = []string{"0000", "0000", "0000", "1000", "9000", "9900"}

// Parameters of the catalogue (see the package comment).
const (
	hs4PriceSD   = 0.5 // log-price spread between headings of a chapter
	hs6PriceSD   = 0.3 // log-price spread between subheadings of a heading
	minPriceSD   = 0.20
	maxPriceSD   = 0.40
	shipValueLog = 9.6 // ln(US$ 14,765): median shipment FOB value
	shipValueSD  = 0.6 // spread of the median shipment value between HS6 codes
	unitKgSD     = 0.5
	hsZipf       = 0.75
	minOrigins   = 2
	maxOrigins   = 8
	originSD     = 0.8 // spread of an origin's share within an HS6 code
	maxAltHS2    = 64  // other-heading alternatives kept per code
)

// catalogue holds the HS6 codes as parallel arrays indexed by an int code.
type catalogue struct {
	hs6      []int32  // e.g. 870323
	hs6Str   []string // "870323"
	tariff   []string // 10-digit national line, "8703230000"
	desc     []string // commodity description for trade statistics
	hs4      []int32
	chapter  []int32 // index into chapters
	mu       []float64
	sigma    []float64
	lnValue  []float64
	ratePct  []float64 // ad-valorem MFN duty in percent (0, 5, ..., 30)
	unitKg   []float64 // 0 for bulk goods
	pAir     []float64
	pop      []float64 // Zipf popularity
	origins  [][]int16 // origin country indices (into the active table)
	originW  [][]float64
	altHS4   [][]int32 // lower-duty codes in the same heading
	altHS2   [][]int32 // lower-duty codes in the same chapter, other headings
	prefCum  [][]float64
	numCodes int
}

// MaxHS is the largest catalogue Config.NumHS may ask for.
const MaxHS = 20000

func buildCatalogue(r *rand.Rand, n int, ctab []country) *catalogue {
	c := &catalogue{numCodes: n}
	counts := apportion(n, chapters)
	for ci, ch := range chapters {
		k := counts[ci]
		if k == 0 {
			continue
		}
		nh4 := (k + 3) / 4
		if nh4 > 99 {
			nh4 = 99
		}
		headings := pickDistinct(r, nh4, min(99, max(2*nh4, 20)))
		sizes := make([]int, nh4)
		for i := range sizes {
			sizes[i] = 1
		}
		for rest := k - nh4; rest > 0; {
			i := r.IntN(nh4)
			if sizes[i] < len(subheadings) {
				sizes[i]++
				rest--
			}
		}
		for hi, h := range headings {
			hs4 := int32(ch.code*100 + h)
			hs4Price := r.NormFloat64() * hs4PriceSD
			hs4Duty := r.IntN(3) - 1
			for s := 0; s < sizes[hi]; s++ {
				sub := subheadings[s]
				if sizes[hi] == 1 && r.IntN(3) == 0 {
					sub = 0
				}
				code := hs4*100 + int32(sub)
				str := fmt.Sprintf("%06d", code)
				c.hs6 = append(c.hs6, code)
				c.hs6Str = append(c.hs6Str, str)
				c.tariff = append(c.tariff, str+nationalSuffixes[r.IntN(len(nationalSuffixes))])
				c.desc = append(c.desc, fmt.Sprintf("%s, subheading %s.%s", ch.name, str[:4], str[4:]))
				c.hs4 = append(c.hs4, hs4)
				c.chapter = append(c.chapter, int32(ci))
				mu := math.Log(ch.uv) + hs4Price + r.NormFloat64()*hs6PriceSD
				c.mu = append(c.mu, mu)
				c.sigma = append(c.sigma, minPriceSD+(maxPriceSD-minPriceSD)*r.Float64())
				c.lnValue = append(c.lnValue, shipValueLog+r.NormFloat64()*shipValueSD)
				band := ch.duty + hs4Duty + dutyOffset(r)
				band = max(0, min(6, band))
				c.ratePct = append(c.ratePct, float64(band*5))
				ukg := 0.0
				if ch.unitKg > 0 {
					ukg = ch.unitKg * math.Exp(r.NormFloat64()*unitKgSD)
				}
				c.unitKg = append(c.unitKg, ukg)
				// Dense, valuable goods fly; cheap bulk goes by sea.
				c.pAir = append(c.pAir, max(0.03, min(0.6, 0.05+0.1*mu/math.Ln10)))
			}
		}
	}
	// Zipf popularity over a random order of the codes.
	perm := r.Perm(n)
	c.pop = make([]float64, n)
	for rank, i := range perm {
		c.pop[i] = 1 / math.Pow(float64(rank+1), hsZipf)
	}
	c.buildOrigins(r, ctab)
	c.buildAlternatives()
	c.buildPrefChoice(ctab)
	return c
}

// dutyOffset moves a subheading's duty band down or up one step with
// probability 1/4 each.
func dutyOffset(r *rand.Rand) int {
	switch u := r.IntN(4); u {
	case 0:
		return -1
	case 3:
		return 1
	}
	return 0
}

// apportion splits n codes over the chapters in proportion to their weights
// (largest remainders); with fewer codes than chapters the heaviest chapters
// get one each.
func apportion(n int, chs []chapter) []int {
	counts := make([]int, len(chs))
	total := 0.0
	for _, ch := range chs {
		total += ch.weight
	}
	type rem struct {
		i int
		f float64
	}
	rems := make([]rem, len(chs))
	given := 0
	for i, ch := range chs {
		exact := float64(n) * ch.weight / total
		counts[i] = int(exact)
		given += counts[i]
		rems[i] = rem{i, exact - float64(counts[i])}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].f > rems[b].f })
	for k := 0; given < n; k++ {
		counts[rems[k%len(rems)].i]++
		given++
	}
	return counts
}

// pickDistinct returns k distinct sorted integers from 1..m.
func pickDistinct(r *rand.Rand, k, m int) []int {
	p := r.Perm(m)[:k]
	for i := range p {
		p[i]++
	}
	sort.Ints(p)
	return p
}

func (c *catalogue) buildOrigins(r *rand.Rand, ctab []country) {
	c.origins = make([][]int16, c.numCodes)
	c.originW = make([][]float64, c.numCodes)
	for h := 0; h < c.numCodes; h++ {
		k := minOrigins + r.IntN(maxOrigins-minOrigins+1)
		k = min(k, len(ctab))
		chosen := weightedSample(r, ctab, k)
		w := make([]float64, len(chosen))
		o := make([]int16, len(chosen))
		for i, ci := range chosen {
			o[i] = int16(ci)
			w[i] = ctab[ci].weight * math.Exp(r.NormFloat64()*originSD)
		}
		c.origins[h] = o
		c.originW[h] = w
	}
}

// weightedSample draws k distinct country indices with probability
// proportional to their weights (successive sampling without replacement).
func weightedSample(r *rand.Rand, ctab []country, k int) []int {
	taken := make([]bool, len(ctab))
	out := make([]int, 0, k)
	for len(out) < k {
		total := 0.0
		for i, c := range ctab {
			if !taken[i] {
				total += c.weight
			}
		}
		u := r.Float64() * total
		pick := -1
		for i, c := range ctab {
			if taken[i] {
				continue
			}
			pick = i
			if u < c.weight {
				break
			}
			u -= c.weight
		}
		taken[pick] = true
		out = append(out, pick)
	}
	return out
}

// buildAlternatives lists, for every code, the lower-duty codes a
// misclassifier would declare instead: same heading first, then same chapter.
func (c *catalogue) buildAlternatives() {
	c.altHS4 = make([][]int32, c.numCodes)
	c.altHS2 = make([][]int32, c.numCodes)
	// Codes of one chapter are contiguous, so only chapter blocks are compared.
	for lo := 0; lo < c.numCodes; {
		hi := lo
		for hi < c.numCodes && c.chapter[hi] == c.chapter[lo] {
			hi++
		}
		for h := lo; h < hi; h++ {
			for a := lo; a < hi; a++ {
				if a == h || c.ratePct[a] >= c.ratePct[h] {
					continue
				}
				if c.hs4[a] == c.hs4[h] {
					c.altHS4[h] = append(c.altHS4[h], int32(a))
				} else if len(c.altHS2[h]) < maxAltHS2 {
					c.altHS2[h] = append(c.altHS2[h], int32(a))
				}
			}
		}
		lo = hi
	}
}

// buildPrefChoice sets, for every code, the cumulative weights over the
// preferential partners that an origin misdeclarer claims: a partner that
// really supplies the code is five times as likely.
func (c *catalogue) buildPrefChoice(ctab []country) {
	c.prefCum = make([][]float64, c.numCodes)
	for h := 0; h < c.numCodes; h++ {
		var cum []float64
		total := 0.0
		for ci, ct := range ctab {
			if !ct.pref {
				continue
			}
			w := ct.weight
			for _, o := range c.origins[h] {
				if int(o) == ci {
					w *= 5
				}
			}
			total += w
			cum = append(cum, total)
		}
		c.prefCum[h] = cum
	}
}
