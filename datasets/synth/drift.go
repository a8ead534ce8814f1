package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// Drift moves the fraud patterns at one date, so that a model trained on
// the rows before it has something new to discover after it (the concept
// drift of Mai et al., "Customs fraud detection in the presence of concept
// drift", ICDM workshops 2021). From At on:
//
//   - the Config.UnderdeclaredFlows planted flows stop being under-declared
//     and Flows other partner-by-HS6 flows start (chosen as the first ones
//     are, among the flows not planted before);
//   - a share Offenders of the repeat-offender importers stop (their fraud
//     propensity falls by the ratio of the clean to the offender
//     propensity, 0.2/8) and as many clean importers start (theirs rises by
//     8/0.2), both drawn by activity without replacement; a starter keeps
//     its preferred fraud type;
//   - the price level of every HS6 code moves by a factor
//     exp(Normal(0, PriceShift)), for the true and the declared values
//     alike;
//   - Hidden further flows start concealment (FraudQuantity): 60% of
//     their rows, whoever declares them, leave out 30 to 90% of the
//     goods, value, masses and quantity alike, so that their unit values
//     look honest. They are chosen as the planted flows are, among the
//     HS6 codes that have no planted flow before or after At and the
//     partners that are not in one before At: goods and partners with
//     little fraud history, where a model trained before At scores near
//     zero and only inspection can find the new fraud. HiddenShare is
//     the magnitude: the share of the fraud rate they carry at most;
//   - with Persist, the flows planted before At stay under-declared at
//     that rate instead of stopping;
//   - Newcomers is the share of the rows after At declared by importers
//     that first appear at At: new trader ids with no history, all of them
//     repeat offenders (drawn as the population's offenders are, from their
//     own random stream (seed, 8)), trading lines drawn as everyone's. The
//     other importers keep their share of the rest;
//   - Turn is the number of clean importers that turn repeat offender at
//     At (a share of the offenders' number, drawn by activity from their
//     own stream (seed, 9)) while no offender stops; with TurnUniform they
//     are drawn uniformly among the clean importers instead, so that most
//     are small traders with few rows before At.
//
// The patterns after At are calibrated again, as the first ones are, so
// that the expected fraud rate stays Config.FraudRate. The drift draws
// from its own random stream (seed, 7): rows, fraud and labels before At are
// those without drift, except that a misclassification never declares a code
// whose flow is under-declared before or after At (so the truth file stays
// exact) and may pick another code than it would without drift. The same
// Config gives the same rows.
type Drift struct {
	// At is the first day of the new patterns; the zero time means no drift.
	At time.Time
	// Flows is the number of under-declared flows that start at At.
	Flows int
	// Offenders is the share of repeat-offender importers replaced at At.
	Offenders float64
	// PriceShift is the log-sd of the per-code price level shift at At.
	PriceShift float64
	// Hidden is the number of concealment flows that start at At.
	Hidden int
	// HiddenShare is the magnitude of the hidden drift: the share of the
	// fraud rate the Hidden flows take at most after At (0 is read as 0.4,
	// what the planted flows take). Each flow holds at most 0.2% of the
	// rows, 60% of them fraudulent, so reaching a share S of a fraud rate F
	// takes Hidden >= S*F/0.0012 flows (40 for S = 0.8 at F = 0.06).
	HiddenShare float64
	// Persist is how long the old patterns last, as a fraud probability:
	// from At on, the rows of the flows under-declared before At (and not
	// chosen again) are undervalued with probability at least Persist
	// instead of 0.6 (0: they stop). Between the clean rate and 0.6 it
	// keeps a pattern a model knows worth inspecting, but less than the new
	// ones: the trap of pure exploitation.
	Persist float64
	// Newcomers is the share of the rows after At declared by new
	// importers, repeat offenders with ids never seen before At (0: none).
	// Their number is that share of Config.NumImporters (at least one),
	// their activity Zipf-distributed among them as the population's is.
	// With Offenders 0 and Persist, the old patterns stay while new
	// offenders nobody has inspected arrive: what exploration is for.
	Newcomers float64
	// Turn is the number of clean importers that turn repeat offender at
	// At, as a share of the repeat offenders (their propensity rises as
	// Offenders' starters' does), without any offender stopping: traders
	// with a clean record, which a model trained before At ranks low.
	Turn float64
	// TurnUniform draws Turn's importers uniformly among the clean ones
	// instead of by activity: most are then small traders with a short
	// clean record, whose fraud rate one found fraud moves (false: by
	// activity, the big traders).
	TurnUniform bool
	// HiddenEstablished places the Hidden concealment flows in established
	// clean trade: the Hidden largest flows among the same quiet codes and
	// partners (dutiable, partner not preferential), by their expected
	// share of the rows, so that a model's history holds many clean labels
	// of them and its smoothed fraud rates of the flow, the code and the
	// partner sit low, pinned there by those labels, instead of at the
	// prior a key with little history gets. Their fraud probability is
	// HiddenShare*FraudRate divided by their share of the rows, at most
	// 0.6 (the planted flows'), so that they carry HiddenShare of the fraud
	// rate after At (less when 0.6 caps it). The choice draws nothing, so
	// the drift's own stream is untouched; the declarations before At are
	// those of Hidden's own choice (false: the flows of about 0.2% of the
	// rows each that Hidden picks, at 0.6).
	HiddenEstablished bool
}

// hiddenShare is HiddenShare with 0 read as the planted flows' budget.
func (d Drift) hiddenShare() float64 {
	if d.HiddenShare == 0 {
		return plantedBudget
	}
	return d.HiddenShare
}

// DefaultDrift returns the documented drift settings, without a date: the
// same number of new flows as DefaultConfig plants, half of the offenders
// replaced, prices moved by a log-sd of 0.15.
func DefaultDrift() Drift {
	return Drift{Flows: DefaultConfig().UnderdeclaredFlows, Offenders: 0.5, PriceShift: 0.15}
}

// On reports whether d moves anything.
func (d Drift) On() bool { return !d.At.IsZero() }

func (d Drift) validate(c Config) error {
	if !d.On() {
		return nil
	}
	switch {
	case day(d.At) <= day(c.Start) || day(d.At) > day(c.End):
		return fmt.Errorf("drift date %s: give a day after the first (%s) and no later than the last (%s)",
			d.At.Format(time.DateOnly), c.Start.Format(time.DateOnly), c.End.Format(time.DateOnly))
	case d.Flows < 0:
		return fmt.Errorf("drift flows = %d: give 0 or more", d.Flows)
	case d.Hidden < 0:
		return fmt.Errorf("drift hidden flows = %d: give 0 or more", d.Hidden)
	case !(d.Persist >= 0 && d.Persist <= plantedShare):
		return fmt.Errorf("drift persist = %v: give a fraud probability in [0, %v] for the old flows", d.Persist, plantedShare)
	case !(d.HiddenShare >= 0 && d.HiddenShare < 1):
		return fmt.Errorf("drift hidden share = %v: give a share of the fraud rate in [0, 1), for example 0.4", d.HiddenShare)
	case !(d.Newcomers >= 0 && d.Newcomers <= 0.5):
		return fmt.Errorf("drift newcomers = %v: give a share of the rows in [0, 0.5], for example 0.05", d.Newcomers)
	case !(d.Turn >= 0 && d.Turn <= 5):
		return fmt.Errorf("drift turn = %v: give a share of the repeat offenders in [0, 5], for example 1", d.Turn)
	case d.HiddenEstablished && d.Hidden == 0:
		return fmt.Errorf("drift hidden established: it says where Hidden's flows are; give a number of hidden flows too, for example 10")
	case d.TurnUniform && d.Turn == 0:
		return fmt.Errorf("drift turn uniform: it says how Turn's importers are drawn; give a turn share too, for example 2")
	case !(d.Offenders >= 0 && d.Offenders <= 1):
		return fmt.Errorf("drift offenders = %v: give a share in [0, 1]", d.Offenders)
	case !(d.PriceShift >= 0 && d.PriceShift <= 2):
		return fmt.Errorf("drift price shift = %v: give a log-sd in [0, 2], for example 0.15", d.PriceShift)
	}
	return nil
}

// drifted is what the generator uses from the drift date on.
type drifted struct {
	day     int32   // days since 1970 of Drift.At
	planted []bool  // the under-declared flows after the date
	hidden  []bool  // the concealment flows after the date
	hiddenP float64 // the fraud probability of a concealment flow's row, at least
	kept    []bool  // the flows planted before the date that stay fraudulent at keep
	keep    float64
	declP   []float64   // the fraud probability of each importer-by-broker slot after the date
	pop     *population // the population after the date, with Drift.Newcomers; nil without
	started []int       // the importers that turn repeat offender at the date (Offenders' starters, then Turn's)
	price   []float64   // the price factor of each HS6 code after the date
}

// newDrifted builds the patterns after d.At for a generator whose
// population, planted flows and calibration are set.
func (g *Generator) newDrifted(d Drift, share []float64, traders []int32) (*drifted, error) {
	r := rand.New(rand.NewPCG(g.cfg.Seed, 7))
	out := &drifted{day: int32(day(d.At)), hiddenP: plantedShare}

	rest := append([]float64(nil), share...)
	for pair, p := range g.planted {
		if p {
			rest[pair] = 0
		}
	}
	var err error
	if out.planted, err = choosePlanted(d.Flows, plantedBudget, g.cfg.FraudRate, rest, traders, g.cat, g.ctab); err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}

	// Concealment: among the flows of HS6 codes with no planted flow
	// before or after the date, from partners with none before it.
	numOrig := len(g.ctab)
	codeUsed := make([]bool, len(g.cat.mu))
	partnerUsed := make([]bool, numOrig)
	for pair := range g.planted {
		if g.planted[pair] || out.planted[pair] {
			codeUsed[pair/numOrig] = true
		}
		if g.planted[pair] {
			partnerUsed[pair%numOrig] = true
		}
	}
	quiet := append([]float64(nil), rest...)
	for pair := range quiet {
		if codeUsed[pair/numOrig] || partnerUsed[pair%numOrig] {
			quiet[pair] = 0
		}
	}
	after := append([]bool(nil), out.planted...)
	var hid []bool // the concealment flows when calibrated at their own floor
	if d.HiddenEstablished {
		var s float64
		if out.hidden, s, err = chooseEstablished(d.Hidden, quiet, g.cat, g.ctab); err != nil {
			return nil, fmt.Errorf("drift hidden established flows: %w", err)
		}
		out.hiddenP = min(plantedShare, d.hiddenShare()*g.cfg.FraudRate/s)
		hid = out.hidden
	} else {
		if out.hidden, err = choosePlanted(d.Hidden, d.hiddenShare(), g.cfg.FraudRate, quiet, traders, g.cat, g.ctab); err != nil {
			return nil, fmt.Errorf("drift hidden flows: %w", err)
		}
		for pair, h := range out.hidden {
			after[pair] = after[pair] || h
		}
	}

	// The swap works on the propensities; a second calibration on them and
	// on the new flows keeps the fraud rate at Config.FraudRate.
	q := *g.pop
	q.declA = append([]float64(nil), g.pop.declA...)
	q.declP = make([]float64, len(q.declA))
	var offenders, clean []int
	for i, c := range q.impClass {
		switch c {
		case classOffender:
			offenders = append(offenders, i)
		case classClean:
			clean = append(clean, i)
		}
	}
	n := int(math.Round(d.Offenders * float64(len(offenders))))
	const ratio = offenderPropensity / cleanPropensity
	// Stoppers and starters are both drawn by activity, so that the ones
	// weigh about what the others do.
	for _, i := range drawByWeight(r, offenders, q.impWeight, n) {
		for s := q.declStart[i]; s < q.declStart[i+1]; s++ {
			q.declA[s] /= ratio
		}
	}
	started := drawByWeight(r, clean, q.impWeight, n)
	for _, i := range started {
		for s := q.declStart[i]; s < q.declStart[i+1]; s++ {
			q.declA[s] *= ratio
		}
	}
	if d.Turn > 0 {
		// Clean importers turning, none stopping: from a stream of their
		// own, so that the other options give the same rows with and
		// without Turn.
		rest := slices.DeleteFunc(slices.Clone(clean), func(i int) bool { return slices.Contains(started, i) })
		m := int(math.Round(d.Turn * float64(len(offenders))))
		w := q.impWeight
		if d.TurnUniform {
			w = make([]float64, len(q.impWeight))
			for i := range w {
				w[i] = 1
			}
		}
		turned := drawByWeight(rand.New(rand.NewPCG(g.cfg.Seed, 9)), rest, w, m)
		for _, i := range turned {
			for s := q.declStart[i]; s < q.declStart[i+1]; s++ {
				q.declA[s] *= ratio
			}
		}
		started = append(slices.Clip(started), turned...)
	}
	out.started = started
	if d.Newcomers > 0 {
		addNewcomers(rand.New(rand.NewPCG(g.cfg.Seed, 8)), &q, d.Newcomers, g.cfg.NumImporters, g.cat)
		out.pop = &q
	}
	if d.Persist > 0 {
		out.keep = d.Persist
		out.kept = make([]bool, len(after))
		for pair, p := range g.planted {
			out.kept[pair] = p && !after[pair]
		}
	}
	if _, err := q.calibrateKept(g.cfg.FraudRate, after, out.kept, out.keep, hid, out.hiddenP, g.cat, g.ctab); err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	out.declP = q.declP

	out.price = make([]float64, len(g.cat.mu))
	for h := range out.price {
		out.price[h] = math.Exp(d.PriceShift * r.NormFloat64())
	}
	return out, nil
}

// chooseEstablished picks the n flows of largest expected share of the
// rows among those of share where concealment pays (duty above zero,
// partner not preferential), ties by pair, and returns them with their
// total share. It draws nothing.
func chooseEstablished(n int, share []float64, cat *catalogue, ctab []country) ([]bool, float64, error) {
	numOrig := len(ctab)
	var cands []int
	for pair, s := range share {
		if s > 0 && cat.ratePct[pair/numOrig] > 0 && !ctab[pair%numOrig].pref {
			cands = append(cands, pair)
		}
	}
	if len(cands) < n {
		return nil, 0, fmt.Errorf("only %d partner-by-HS6 flows on goods and partners without planted fraud can conceal (dutiable, non-preferential partner) but %d were asked for; ask for fewer", len(cands), n)
	}
	sort.SliceStable(cands, func(a, b int) bool { return share[cands[a]] > share[cands[b]] })
	out := make([]bool, len(share))
	total := 0.0
	for _, pair := range cands[:n] {
		out[pair] = true
		total += share[pair]
	}
	return out, total, nil
}

// Starters returns the ids of the importers with a clean record that turn
// repeat offender at the drift date (Drift.Offenders' starters, then
// Drift.Turn's), in the order drawn; nil without drift. Newcomers are not
// among them (their ids are new). For measuring who a strategy inspects
// (pipeline/simulate's TestDriftSweep); the generated rows do not depend
// on it.
func (g *Generator) Starters() []string {
	if g.drift == nil {
		return nil
	}
	out := make([]string, len(g.drift.started))
	for k, i := range g.drift.started {
		out[k] = g.pop.impID[i]
	}
	return out
}

// plantedAny reports whether pair is under-declared before or after the
// drift date: no misclassification moves rows into or out of such a flow.
func (g *Generator) plantedAny(pair int) bool {
	return g.planted[pair] || (g.drift != nil && (g.drift.planted[pair] || g.drift.hidden[pair]))
}

// drawByWeight draws n of items without replacement, each with probability
// proportional to its weight w[item].
func drawByWeight(r *rand.Rand, items []int, w []float64, n int) []int {
	ws := make([]float64, len(items))
	for k, i := range items {
		ws[k] = w[i]
	}
	var out []int
	for range min(n, len(items)) {
		k := newAlias(ws).sample(r)
		out = append(out, items[k])
		ws[k] = 0
	}
	return out
}

// addNewcomers appends to q (a shallow copy of the population, whose
// slices it copies before growing them) max(1, share * numImp) repeat
// offenders with new ids, taking share of the activity: the others' weights
// are scaled by 1 - share. Their lines are drawn as buildImporters draws
// them (HS6 by popularity, origin by the code's partners), each with the
// seller of an existing line of that origin; their brokers are drawn by
// use, the main one complicit with offenderComplicit's chance.
func addNewcomers(r *rand.Rand, q *population, share float64, numImp int, cat *catalogue) {
	n := max(1, int(math.Round(share*float64(numImp))))
	q.impID = append([]string(nil), q.impID...)
	q.impClass = append([]uint8(nil), q.impClass...)
	q.impType = append([]uint8(nil), q.impType...)
	q.impWeight = append([]float64(nil), q.impWeight...)
	q.lineStart = append([]int32(nil), q.lineStart...)
	q.lineHS = append([]int32(nil), q.lineHS...)
	q.lineOrig = append([]int16(nil), q.lineOrig...)
	q.lineCum = append([]float64(nil), q.lineCum...)
	q.lineW = append([]float64(nil), q.lineW...)
	q.lineSeller = append([]int32(nil), q.lineSeller...)
	q.declStart = append([]int32(nil), q.declStart...)
	q.declIdx = append([]int32(nil), q.declIdx...)
	q.declCum = append([]float64(nil), q.declCum...)
	q.declW = append([]float64(nil), q.declW...)
	// q.declA is already q's own copy (newDrifted).

	used := make(map[string]bool, len(q.impID))
	for _, id := range q.impID {
		used[id] = true
	}
	sellersOf := map[int16][]int32{}
	for l, o := range q.lineOrig {
		sellersOf[o] = append(sellersOf[o], q.lineSeller[l])
	}
	var complicitIdx []int32
	for d, c := range q.complicit {
		if c {
			complicitIdx = append(complicitIdx, int32(d))
		}
	}
	for i := range q.impWeight {
		q.impWeight[i] *= 1 - share
	}
	oldSlots := len(q.declIdx)
	hsAlias := newAlias(cat.pop)
	w := make([]float64, n)
	total := 0.0
	for k, rk := range r.Perm(n) {
		w[k] = 1 / math.Pow(float64(rk+1), importerZipf)
		total += w[k]
	}
	for k := range n {
		id := ""
		for id == "" || used[id] {
			id = "IMP" + pad(100000+r.IntN(900_000), 6)
		}
		used[id] = true
		q.impID = append(q.impID, id)
		q.impClass = append(q.impClass, classOffender)
		q.impType = append(q.impType, uint8(pickWeights(typeMix[:], r.Float64())))
		q.impWeight = append(q.impWeight, share*w[k]/total)
		a := offenderPropensity * math.Exp(r.NormFloat64()*propensitySD)

		nl := 1 + min(maxLines-1, int(r.ExpFloat64()*meanExtraLine))
		start := len(q.lineHS)
		lw := 0.0
		for range nl {
			h := hsAlias.sample(r)
			o := cat.origins[h][pickWeights(cat.originW[h], r.Float64())]
			x := math.Exp(r.NormFloat64())
			lw += x
			s := int32(r.IntN(len(q.sellerID)))
			if sel := sellersOf[o]; len(sel) > 0 {
				s = sel[r.IntN(len(sel))]
			}
			q.lineHS = append(q.lineHS, int32(h))
			q.lineOrig = append(q.lineOrig, o)
			q.lineW = append(q.lineW, x)
			q.lineSeller = append(q.lineSeller, s)
		}
		cum := 0.0
		for l := start; l < len(q.lineW); l++ {
			q.lineW[l] /= lw
			cum += q.lineW[l]
			q.lineCum = append(q.lineCum, cum)
		}
		q.lineCum[len(q.lineCum)-1] = 1
		q.lineStart = append(q.lineStart, int32(len(q.lineHS)))

		q.addDeclarants(r, a, true, complicitIdx, func() int32 { return q.declIdx[r.IntN(oldSlots)] })
		q.declStart = append(q.declStart, int32(len(q.declIdx)))
	}
	q.declP = make([]float64, len(q.declA))
	q.impAlias = newAlias(q.impWeight)
}
