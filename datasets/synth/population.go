package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
)

// Parameters of the trader populations and of the fraud (see the package
// comment for what each one models).
const (
	importerZipf  = 0.8
	declarantZipf = 1.0
	officeZipf    = 1.2
	meanExtraLine = 2.0 // lines per importer: 1 + floor(Exp(mean 2)), at most maxLines
	maxLines      = 12

	offenderShare        = 0.03
	occasionalShare      = 0.12
	cleanPropensity      = 0.2
	occasionalPropensity = 1.5
	offenderPropensity   = 8
	propensitySD         = 0.3
	preferredTypeShare   = 0.8 // share of an importer's frauds of its preferred type

	complicitShare    = 0.06
	complicitFactor   = 2.5
	offenderComplicit = 0.5 // chance that an offender's main broker is complicit

	maxFraudProb = 0.9

	// plantedShare is the share of the rows of a planted flow that are
	// undervalued; plantedBudget is the part of FraudRate the planted flows
	// take at most, and plantedMaxRowShare caps one flow's share of all rows.
	plantedShare       = 0.6
	plantedBudget      = 0.4
	plantedMaxRowShare = 0.002
)

// typeMix is the share of undervaluation, misclassification and origin
// misdeclaration among importers' preferred fraud types.
var typeMix = [numFraudTypes]float64{0, 0.45, 0.30, 0.25, 0}

// Transport modes; an office serves one mode.
const (
	modeSea = iota
	modeAir
	modeRoad
	numModes
)

var modeNames = [numModes]string{"sea", "air", "road"}

var modeOfficePrefix = [numModes]string{"SEA", "AIR", "RD"}

// Importer risk classes.
const (
	classClean = iota
	classOccasional
	classOffender
)

// population holds importers, declarants, sellers and offices as parallel
// arrays; an importer's trade lines and brokers are flat slices addressed by
// start offsets.
type population struct {
	impID     []string
	impClass  []uint8
	impType   []uint8
	impAlias  *alias
	impWeight []float64

	lineStart  []int32
	lineHS     []int32
	lineOrig   []int16
	lineCum    []float64
	lineW      []float64
	lineSeller []int32

	declStart []int32
	declIdx   []int32
	declCum   []float64
	declW     []float64
	declA     []float64 // importer propensity times broker factor
	declP     []float64 // calibrated fraud probability

	decID     []string
	complicit []bool

	sellerID []string

	officeID  []string
	officeIdx [numModes][]int32
	officeCum [numModes][]float64
}

func buildPopulation(r *rand.Rand, cfg Config, cat *catalogue, ctab []country) *population {
	p := &population{}
	p.buildOffices(cfg.NumOffices)
	p.buildDeclarants(r, cfg.NumDeclarants)
	sellersByOrigin := p.buildSellers(r, cfg.NumSellers, ctab)
	p.buildImporters(r, cfg.NumImporters, cat, sellersByOrigin)
	return p
}

func (p *population) buildOffices(n int) {
	counts := [numModes]int{max(1, n/6), max(1, n/6), 0}
	counts[modeRoad] = n - counts[modeSea] - counts[modeAir]
	for m := 0; m < numModes; m++ {
		total := 0.0
		for k := 0; k < counts[m]; k++ {
			p.officeIdx[m] = append(p.officeIdx[m], int32(len(p.officeID)))
			p.officeID = append(p.officeID, modeOfficePrefix[m]+pad(k+1, 2))
			total += 1 / math.Pow(float64(k+1), officeZipf)
			p.officeCum[m] = append(p.officeCum[m], total)
		}
		for k := range p.officeCum[m] {
			p.officeCum[m][k] /= total
		}
	}
}

func (p *population) buildDeclarants(r *rand.Rand, n int) {
	p.decID = make([]string, n)
	p.complicit = make([]bool, n)
	nums := r.Perm(90_000)
	for i := range n {
		p.decID[i] = "DEC" + pad(10000+nums[i], 5)
		p.complicit[i] = r.Float64() < complicitShare
	}
}

func (p *population) buildSellers(r *rand.Rand, n int, ctab []country) [][]int32 {
	by := make([][]int32, len(ctab))
	total := 0.0
	for _, c := range ctab {
		total += c.weight
	}
	nums := r.Perm(900_000)
	p.sellerID = make([]string, n)
	for i := range n {
		p.sellerID[i] = "SEL" + pad(100000+nums[i], 6)
		u := r.Float64() * total
		o := 0
		for o < len(ctab)-1 && u >= ctab[o].weight {
			u -= ctab[o].weight
			o++
		}
		by[o] = append(by[o], int32(i))
	}
	return by
}

func (p *population) buildImporters(r *rand.Rand, n int, cat *catalogue, sellersByOrigin [][]int32) {
	hsAlias := newAlias(cat.pop)
	decW := make([]float64, len(p.decID))
	var complicitIdx []int32
	decRank := r.Perm(len(decW))
	for i := range decW {
		decW[i] = 1 / math.Pow(float64(decRank[i]+1), declarantZipf)
		if p.complicit[i] {
			complicitIdx = append(complicitIdx, int32(i))
		}
	}
	decAlias := newAlias(decW)
	nums := r.Perm(900_000)
	rank := r.Perm(n)
	p.impID = make([]string, n)
	p.impClass = make([]uint8, n)
	p.impType = make([]uint8, n)
	p.impWeight = make([]float64, n)
	p.lineStart = make([]int32, n+1)
	p.declStart = make([]int32, n+1)
	for i := range n {
		p.impID[i] = "IMP" + pad(100000+nums[i], 6)
		p.impWeight[i] = 1 / math.Pow(float64(rank[i]+1), importerZipf)
		a := cleanPropensity
		switch u := r.Float64(); {
		case u < offenderShare:
			p.impClass[i] = classOffender
			a = offenderPropensity
		case u < offenderShare+occasionalShare:
			p.impClass[i] = classOccasional
			a = occasionalPropensity
		}
		a *= math.Exp(r.NormFloat64() * propensitySD)
		p.impType[i] = uint8(pickWeights(typeMix[:], r.Float64()))

		nl := 1 + min(maxLines-1, int(r.ExpFloat64()*meanExtraLine))
		start := len(p.lineHS)
		total := 0.0
		for range nl {
			h := hsAlias.sample(r)
			o := cat.origins[h][pickWeights(cat.originW[h], r.Float64())]
			w := math.Exp(r.NormFloat64())
			total += w
			sel := sellersByOrigin[o]
			s := int32(r.IntN(len(p.sellerID)))
			if len(sel) > 0 {
				s = sel[r.IntN(len(sel))]
			}
			p.lineHS = append(p.lineHS, int32(h))
			p.lineOrig = append(p.lineOrig, o)
			p.lineW = append(p.lineW, w)
			p.lineSeller = append(p.lineSeller, s)
		}
		cum := 0.0
		for k := start; k < len(p.lineW); k++ {
			p.lineW[k] /= total
			cum += p.lineW[k]
			p.lineCum = append(p.lineCum, cum)
		}
		p.lineStart[i+1] = int32(len(p.lineHS))

		p.addDeclarants(r, a, p.impClass[i] == classOffender, complicitIdx, func() int32 { return int32(decAlias.sample(r)) })
		p.lineCum[len(p.lineCum)-1] = 1
		p.declStart[i+1] = int32(len(p.declIdx))
	}
	totalW := 0.0
	for _, w := range p.impWeight {
		totalW += w
	}
	for i := range p.impWeight {
		p.impWeight[i] /= totalW
	}
	p.impAlias = newAlias(p.impWeight)
	p.declP = make([]float64, len(p.declA))
}

// pairShares returns the expected share of rows of every (HS6, origin) pair
// and the number of importers trading it.
// addDeclarants draws one to three declarants (brokers) for the importer
// being added, of propensity a: draw picks each; the first takes 0.7 of the
// importer's declarations and the others share 0.3 (one alone takes all);
// an offender's first is replaced by a complicit declarant with
// offenderComplicit's chance. The random numbers are drawn in this order for
// every importer, so a population built with it is the same for a seed.
func (p *population) addDeclarants(r *rand.Rand, a float64, offender bool, complicitIdx []int32, draw func() int32) {
	nd := 1
	switch u := r.Float64(); {
	case u < 0.1:
		nd = 3
	case u < 0.4:
		nd = 2
	}
	cum := 0.0
	for k := range nd {
		d := draw()
		if k == 0 && offender && len(complicitIdx) > 0 && r.Float64() < offenderComplicit {
			d = complicitIdx[r.IntN(len(complicitIdx))]
		}
		w := 0.7
		if k > 0 {
			w = 0.3 / float64(nd-1)
		}
		if nd == 1 {
			w = 1
		}
		cum += w
		b := 1.0
		if p.complicit[d] {
			b = complicitFactor
		}
		p.declIdx = append(p.declIdx, d)
		p.declW = append(p.declW, w)
		p.declCum = append(p.declCum, cum)
		p.declA = append(p.declA, a*b)
	}
	p.declCum[len(p.declCum)-1] = 1
}

func (p *population) pairShares(numOrig, numHS int) ([]float64, []int32) {
	share := make([]float64, numHS*numOrig)
	traders := make([]int32, numHS*numOrig)
	for i := range p.impWeight {
		seen := map[int]bool{}
		for l := p.lineStart[i]; l < p.lineStart[i+1]; l++ {
			pair := int(p.lineHS[l])*numOrig + int(p.lineOrig[l])
			share[pair] += p.impWeight[i] * p.lineW[l]
			if !seen[pair] {
				seen[pair] = true
				traders[pair]++
			}
		}
	}
	return share, traders
}

// choosePlanted picks the partner-by-HS6 pairs whose imports are
// systematically undervalued: pairs where undervaluation pays (duty above
// zero, partner not preferential) with an expected share of rows close to
// the target, preferring pairs traded by several importers and of high value.
func choosePlanted(n int, budget, fraudRate float64, share []float64, traders []int32, cat *catalogue, ctab []country) ([]bool, error) {
	numOrig := len(ctab)
	planted := make([]bool, len(share))
	if n == 0 {
		return planted, nil
	}
	if fraudRate == 0 {
		return nil, fmt.Errorf("a fraud rate of 0 leaves no room for %d under-declared flows; ask for 0 flows or a positive fraud rate", n)
	}
	target := min(plantedMaxRowShare, budget*fraudRate/(plantedShare*float64(n)))
	type cand struct {
		pair    int
		inBand  bool
		multi   bool
		dist    float64
		valueSh float64
	}
	var cands []cand
	for pair, s := range share {
		h, o := pair/numOrig, pair%numOrig
		if s == 0 || cat.ratePct[h] == 0 || ctab[o].pref {
			continue
		}
		d := math.Abs(math.Log(s / target))
		cands = append(cands, cand{pair, d <= math.Ln2, traders[pair] >= 2, d, s * math.Exp(cat.lnValue[h])})
	}
	if len(cands) < n {
		return nil, fmt.Errorf("only %d partner-by-HS6 flows can be under-declared (dutiable, non-preferential partner) but %d were asked for; ask for fewer or raise the number of HS codes or importers", len(cands), n)
	}
	sort.Slice(cands, func(a, b int) bool {
		x, y := cands[a], cands[b]
		if x.inBand != y.inBand {
			return x.inBand
		}
		if x.inBand {
			if x.multi != y.multi {
				return x.multi
			}
			if x.valueSh != y.valueSh {
				return x.valueSh > y.valueSh
			}
			return x.pair < y.pair
		}
		if x.dist != y.dist {
			return x.dist < y.dist
		}
		return x.pair < y.pair
	})
	for _, c := range cands[:n] {
		planted[c.pair] = true
	}
	return planted, nil
}

// calibrate finds the multiplier of the importer-by-broker propensities that
// makes the expected fraud rate equal to rate, and sets declP. It returns the
// expected rate reached.
func (p *population) calibrate(rate float64, planted []bool, cat *catalogue, ctab []country) (float64, error) {
	return p.calibrateKept(rate, planted, nil, 0, nil, 0, cat, ctab)
}

// calibrateKept is calibrate with the flows kept (Drift.Persist) fraudulent
// at a floor keep, as planted ones are at plantedShare, and the flows hid
// (Drift.HiddenEstablished; nil: none) at a floor hidP.
func (p *population) calibrateKept(rate float64, planted, kept []bool, keep float64, hid []bool, hidP float64, cat *catalogue, ctab []country) (float64, error) {
	numOrig := len(ctab)
	// Per importer: the share of its rows on dutiable unplanted lines, and on
	// planted lines. Rows on duty-free lines cannot be fraudulent: evasion
	// gains nothing there.
	feas := make([]float64, len(p.impWeight))
	plant := make([]float64, len(p.impWeight))
	keptW := make([]float64, len(p.impWeight))
	hidW := make([]float64, len(p.impWeight))
	for i := range p.impWeight {
		for l := p.lineStart[i]; l < p.lineStart[i+1]; l++ {
			h, o := int(p.lineHS[l]), int(p.lineOrig[l])
			switch {
			case planted[h*numOrig+o]:
				plant[i] += p.lineW[l]
			case kept != nil && kept[h*numOrig+o]:
				keptW[i] += p.lineW[l]
			case hid != nil && hid[h*numOrig+o]:
				hidW[i] += p.lineW[l]
			case cat.ratePct[h] > 0 && !ctab[o].pref:
				feas[i] += p.lineW[l]
			}
		}
	}
	expected := func(k float64) float64 {
		e := 0.0
		for i, w := range p.impWeight {
			for s := p.declStart[i]; s < p.declStart[i+1]; s++ {
				q := min(maxFraudProb, k*p.declA[s])
				x := feas[i]*q + plant[i]*max(plantedShare, q) + keptW[i]*max(keep, q)
				if hid != nil {
					x += hidW[i] * max(hidP, q)
				}
				e += w * p.declW[s] * x
			}
		}
		return e
	}
	low := expected(0)
	if low > rate+1e-12 {
		return 0, fmt.Errorf("the under-declared flows alone make %.2f%% of the rows fraudulent, more than the fraud rate %.2f%%; ask for fewer flows or a higher rate", 100*low, 100*rate)
	}
	minA := math.Inf(1)
	for _, a := range p.declA {
		minA = min(minA, a)
	}
	hiK := maxFraudProb / minA
	high := expected(hiK)
	if high < rate {
		return 0, fmt.Errorf("a fraud rate of %.2f%% cannot be reached: at most %.2f%% of these rows can be fraudulent (rows on duty-free lines never are); ask for a lower rate", 100*rate, 100*high)
	}
	lo, hi := 0.0, hiK
	for range 100 {
		mid := (lo + hi) / 2
		if expected(mid) < rate {
			lo = mid
		} else {
			hi = mid
		}
	}
	k := (lo + hi) / 2
	for s, a := range p.declA {
		p.declP[s] = min(maxFraudProb, k*a)
	}
	return expected(k), nil
}

// pickOffice returns an office of the given mode for a uniform u.
func (p *population) pickOffice(mode int, u float64) int {
	return int(p.officeIdx[mode][pickCum(p.officeCum[mode], u)])
}

// pad formats v with at least width digits.
func pad(v, width int) string {
	s := strconv.Itoa(v)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// pickCum returns the first index whose cumulative weight exceeds u.
func pickCum(cum []float64, u float64) int {
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum) - 1
}

// pickWeights returns index i with probability w[i]/sum(w).
func pickWeights(w []float64, u float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	u *= total
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}
