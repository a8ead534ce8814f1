package simulate

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/decl"
	"risklane/ingest"
	"risklane/models"
	"risklane/stats/iforest"
)

// The strategy parts (docs/simulate.md names the paper of each).
const (
	Random     = "random"     // uniform draw
	Risky      = "risky"      // smoothed fraud rates of HS6, origin and importer from the labels revealed
	Diversity  = "diversity"  // bATE-like: k-means++ seeding over leaf embeddings weighted by uncertainty and revenue
	Gatekeeper = "gatekeeper" // diversity among the rows the model ranks highest (gATE-like)
	APT        = "apt"        // model + diversity, exploration share driven by the model's precision
	ADAPT      = "adapt"      // model + diversity, exploration share driven by the drift of leaf embeddings
	IForest    = "iforest"    // isolation forest anomaly score over the model's features, fitted on the period's rows
	SelfTrain  = "selftrain"  // the default kind exploited, retrained with pseudo-labels of the confident unlabelled rows
	PU         = "pu"         // the default kind exploited, trained on frauds found against every other row (Elkan and Noto 2008)
)

// Self-training: rows not inspected whose probability is below
// pseudoClean are labelled clean, above pseudoIllicit illicit, for a
// second training.
const (
	pseudoClean   = 0.01
	pseudoIllicit = 0.95
)

// part is one component of a strategy: a name, the model kind it exploits
// ("" for none) and its weight in the budget. hidden (an exploring part
// written name:weight:hidden) inspects its picks, which count in the
// period's frauds and revenue, but never reveals their labels to the
// strategy's training: the replay that separates exploration's own finds
// from what its labels teach the next models (docs/simulate.md, session 9).
type part struct {
	name    string
	kind    string
	weight  float64
	explore bool
	hidden  bool
}

// strategy is a parsed spec.
type strategy struct {
	name  string
	parts []part
}

// ParseStrategy reads a spec: one part or several joined by "+", each a
// name with an optional ":weight" (the weights share the budget, in the
// order given, and must sum to 1): "gbdt", "gbdt:0.9+random:0.1",
// "gbdt:0.8+diversity:0.2", "apt", "adapt". A name that is none of the
// parts above is a model kind, exploited: its top scores are inspected.
// An exploring part's weight may be followed by ":hidden"
// ("gbdt:0.9+random:0.1:hidden"): its inspections are not revealed to the
// training.
func ParseStrategy(spec string) (*strategy, error) {
	s := &strategy{name: spec}
	total := 0.0
	for _, f := range strings.Split(spec, "+") {
		name, w, hasW := strings.Cut(strings.TrimSpace(f), ":")
		w, opt, hasOpt := strings.Cut(w, ":")
		p := part{name: name, weight: 1}
		if name == "" {
			return nil, fmt.Errorf("strategy %q: an empty part", spec)
		}
		if hasW {
			v, err := strconv.ParseFloat(w, 64)
			if err != nil || !(v > 0 && v <= 1) {
				return nil, fmt.Errorf("strategy %q: weight %q of %s: give a share in (0, 1]", spec, w, name)
			}
			p.weight = v
		} else if strings.Contains(spec, "+") {
			return nil, fmt.Errorf("strategy %q: give every part of a hybrid a weight (%s:0.1)", spec, name)
		}
		switch name {
		case Random, Diversity, Gatekeeper, IForest, Novelty, NoveltyFlat:
			p.explore = true
		case Risky, SelfTrain, PU:
		case APT, ADAPT:
			if strings.Contains(spec, "+") {
				return nil, fmt.Errorf("strategy %q: %s sets its own exploration share; give it alone", spec, name)
			}
		default:
			p.kind = name
		}
		if hasOpt {
			if opt != "hidden" || !p.explore {
				return nil, fmt.Errorf("strategy %q: %q after %s's weight: only an exploring part (random, diversity, gatekeeper, iforest, novelty, noveltyflat) takes \":hidden\"", spec, opt, name)
			}
			p.hidden = true
		}
		total += p.weight
		s.parts = append(s.parts, p)
	}
	if math.Abs(total-1) > 1e-9 {
		return nil, fmt.Errorf("strategy %q: the weights sum to %g, not 1", spec, total)
	}
	return s, nil
}

// modelKind returns the kind of model the strategy trains ("" for none):
// the kind it exploits, or def for the parts that need a model's scores
// and leaves.
func (s *strategy) modelKind(def string) string {
	for _, p := range s.parts {
		if p.kind != "" {
			return p.kind
		}
	}
	for _, p := range s.parts {
		switch p.name {
		case Diversity, Gatekeeper, APT, ADAPT, IForest, SelfTrain, PU, Novelty, NoveltyFlat:
			return def
		}
	}
	return ""
}

func (s *strategy) has(names ...string) bool {
	for _, p := range s.parts {
		if slices.Contains(names, p.name) {
			return true
		}
	}
	return false
}

// period is what the strategy knows of the period it picks in.
type period struct {
	n       int
	score   []float64 // the model's P(illicit); nil without a model
	expRev  []float64
	leaves  []int32 // row-major, trees per row; nil unless needed
	trees   int
	risky   []float64
	anomaly []float64 // isolation forest score; nil unless needed
	rng     *rand.Rand
	taken   []bool
	explore float64 // the share of the exploring part (apt, adapt)
	// novelty parts: the inspections counted so far, the period's rows'
	// keys and its first day (days after the replay's start)
	nov  *novelty
	keys []keys
	day  float64
}

// replay runs strategy s (the si-th) over the periods.
func (d *data) replay(s *strategy, si int, cfg Config) ([]Row, error) {
	revealed := make([][]bool, len(d.slots))
	share := cfg.InitialLabels
	if share == 0 {
		share = 1
	}
	initial := rand.New(rand.NewPCG(cfg.Seed, 1<<62)) // the same draw for every strategy
	for i, sl := range d.slots {
		revealed[i] = make([]bool, sl.n)
		if i == 0 {
			for r, l := range sl.labels {
				revealed[0][r] = l >= 0 && initial.Float64() < share
			}
		}
	}
	kindName := s.modelKind(cfg.Kind.Name)
	kind := cfg.Kind
	if kindName != "" && kindName != cfg.Kind.Name {
		kind = cfg.Kinds[kindName]
	}
	needLeaves := s.has(Diversity, Gatekeeper, APT, ADAPT)
	var m models.Model
	puC := 1.0     // pu's label frequency c: P(illicit) is the model's score over c
	explore := 0.1 // apt's and adapt's share
	var exploitPrec []float64
	var nov *novelty
	if s.has(Novelty, NoveltyFlat) {
		nov = newNovelty(noveltyHalfLife)
		ks, err := keysOf(d.slots[0].batches)
		if err != nil {
			return nil, err
		}
		mid := -float64(cfg.InitialDays) / 2 // the initial window's inspections date from its middle
		for r, k := range ks {
			if revealed[0][r] {
				nov.add(k, mid)
			}
		}
	}
	var rows []Row
	for p := 1; p <= cfg.Periods; p++ {
		sl := d.slots[p]
		row := Row{Strategy: s.name, Period: p, From: sl.from, To: sl.from.AddDate(0, 0, cfg.PeriodDays-1),
			Rows: sl.n, Budget: cfg.Budget.At(p-1, cfg.Periods), AUC: math.NaN()}
		pd := &period{n: sl.n, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(si)<<32|uint64(p))), taken: make([]bool, sl.n)}
		if kindName != "" {
			if m == nil || (p-1)%cfg.RetrainEvery == 0 {
				tc := cfg.Train
				tc.Seed = cfg.Seed
				tc.NoDiagnostics = true // the replay reads only the model's scores
				if kind.Name != cfg.Kind.Name {
					// The parameters given are --model's kind's; a strategy
					// naming another kind trains it with its own defaults,
					// its rows unweighted.
					tc.Params, tc.RowHalfLife = nil, 0
					if kind.Groups != nil {
						tc.Features.Groups = kind.Groups
					}
				}
				var pseudo [][]int8
				if s.has(PU) {
					pseudo = unlabelledAsClean(d, p)
				}
				for round := 0; round < 1+b2i(s.has(SelfTrain)); round++ {
					train, err := d.masked(p, revealed, pseudo)
					if err != nil {
						return nil, err
					}
					tr, err := kind.Train(train, nil, tc)
					if err == nil && round == 0 && s.has(SelfTrain) {
						pseudo, err = pseudoLabels(tr, d, p, revealed, train)
					}
					if err == nil && s.has(PU) {
						puC, err = labelFrequency(tr, d, p, revealed, train)
					}
					ingest.Release(train)
					if err != nil {
						return nil, fmt.Errorf("period %d: training: %w", p, err)
					}
					m, row.Retrained = tr, true
				}
			}
			var err error
			if pd.score, pd.expRev, err = models.ScoreAll(m, sl.batches); err != nil {
				return nil, fmt.Errorf("period %d: scoring: %w", p, err)
			}
			if s.has(PU) {
				for i, g := range pd.score {
					pd.score[i] = min(1, g/puC)
					pd.expRev[i] /= puC
				}
			}
			if needLeaves {
				if pd.leaves, pd.trees, err = leavesOf(m, sl.batches); err != nil {
					return nil, fmt.Errorf("period %d: %w", p, err)
				}
			}
			row.AUC = auc(pd.score, sl.labels)
			if s.has(IForest) {
				feats, f, err := featuresOf(m, sl.batches)
				if err != nil {
					return nil, fmt.Errorf("period %d: %w", p, err)
				}
				ic := iforest.DefaultConfig()
				ic.Seed = cfg.Seed ^ uint64(p)
				pd.anomaly = make([]float64, sl.n)
				iforest.Fit(feats, sl.n, f, ic).Score(feats, sl.n, pd.anomaly)
				if s.parts[0].name == IForest && len(s.parts) == 1 {
					row.AUC = auc(pd.anomaly, sl.labels)
				}
			}
		}
		if s.has(Risky) {
			var err error
			if pd.risky, err = riskyScores(d, p, revealed); err != nil {
				return nil, fmt.Errorf("period %d: %w", p, err)
			}
			if kindName == "" {
				row.AUC = auc(pd.risky, sl.labels)
			}
		}
		if s.has(ADAPT) {
			prev, trees, err := leavesOf(m, d.slots[p-1].batches)
			if err != nil {
				return nil, fmt.Errorf("period %d: %w", p, err)
			}
			explore = min(maxExplore, max(minExplore, leafDrift(prev, pd.leaves, trees)))
		}
		pd.explore = explore
		if nov != nil {
			var err error
			if pd.keys, err = keysOf(sl.batches); err != nil {
				return nil, fmt.Errorf("period %d: %w", p, err)
			}
			pd.nov, pd.day = nov, float64((p-1)*cfg.PeriodDays)
		}

		k := max(1, int(math.Round(row.Budget*float64(sl.n))))
		picks, explored, hidden := s.pick(pd, k)
		if cfg.onPicks != nil {
			cfg.onPicks(s.name, p, sl.batches, picks, explored)
		}
		var exploitHits, exploitN int
		for i, r := range picks {
			revealed[p][r] = !hidden[i]
			if nov != nil {
				nov.add(pd.keys[r], pd.day)
			}
			row.Inspected++
			if sl.labels[r] == 1 {
				row.Frauds++
				if !explored[i] {
					exploitHits++
				}
			}
			if !explored[i] {
				exploitN++
			}
			row.Revenue += sl.revenue[r]
			if explored[i] {
				row.Exploration++
			}
		}
		row.Exploration /= float64(max(1, row.Inspected))
		frauds, money := 0, 0.0
		for r, l := range sl.labels {
			if l == 1 {
				frauds++
			}
			money += sl.revenue[r]
		}
		row.Precision = float64(row.Frauds) / float64(max(1, row.Inspected))
		row.FraudRecall = ratio(float64(row.Frauds), float64(frauds))
		row.RevenueRecall = ratio(row.Revenue, money)
		if s.has(APT) && exploitN > 0 {
			explore = aptShare(explore, float64(exploitHits)/float64(exploitN), &exploitPrec)
		}
		rows = append(rows, row)
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "%s period %d (%s): inspected %d, frauds %d, precision %.3f, revenue recall %.3f, AUC %.3f\n",
				s.name, p, sl.from.Format("2006-01-02"), row.Inspected, row.Frauds, row.Precision, row.RevenueRecall, row.AUC)
		}
	}
	return rows, nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// Bounds and steps of the adaptive exploration share (apt, adapt).
const (
	minExplore = 0.02
	maxExplore = 0.4
	aptUp      = 0.05 // share added when the model's precision falls
	aptDown    = 0.02 // share removed otherwise
	aptWindow  = 4    // periods of the precision's running mean
	aptFall    = 0.9  // a fall is a precision below this times the mean
)

// aptShare is the performance-driven rule: explore more when the
// exploiting part's precision falls below 0.9 of its mean over the last
// periods (the model is losing track), less otherwise.
func aptShare(share, prec float64, hist *[]float64) float64 {
	h := *hist
	if len(h) > 0 {
		mean := 0.0
		for _, v := range h {
			mean += v
		}
		mean /= float64(len(h))
		if prec < aptFall*mean {
			share += aptUp
		} else {
			share -= aptDown
		}
	}
	h = append(h, prec)
	if len(h) > aptWindow {
		h = h[1:]
	}
	*hist = h
	return min(maxExplore, max(minExplore, share))
}

// leafDrift is the drift score of ADAPT: the total variation distance
// between the leaf distributions of two sets of rows, averaged over the
// trees (0: the same; 1: disjoint leaves).
func leafDrift(a, b []int32, trees int) float64 {
	if trees == 0 || len(a) == 0 || len(b) == 0 {
		return 0
	}
	na, nb := len(a)/trees, len(b)/trees
	total := 0.0
	ca, cb := map[int32]float64{}, map[int32]float64{}
	for t := range trees {
		clear(ca)
		clear(cb)
		for i := range na {
			ca[a[i*trees+t]]++
		}
		for i := range nb {
			cb[b[i*trees+t]]++
		}
		tv := 0.0
		for l, x := range ca {
			tv += math.Abs(x/float64(na) - cb[l]/float64(nb))
		}
		for l, y := range cb {
			if _, ok := ca[l]; !ok {
				tv += y / float64(nb)
			}
		}
		total += tv / 2
	}
	return total / float64(trees)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pseudoLabels scores the training batches (slots [0, p), in order) with m
// and labels the confident rows not revealed.
func pseudoLabels(m models.Model, d *data, p int, revealed [][]bool, train []arrow.RecordBatch) ([][]int8, error) {
	score, _, err := models.ScoreAll(m, train)
	if err != nil {
		return nil, err
	}
	out := make([][]int8, p)
	at := 0
	for s := range p {
		out[s] = make([]int8, d.slots[s].n)
		for r := range out[s] {
			out[s][r] = -1
			switch v := score[at]; {
			case revealed[s][r]:
			case v < pseudoClean:
				out[s][r] = 0
			case v > pseudoIllicit:
				out[s][r] = 1
			}
			at++
		}
	}
	return out, nil
}

// unlabelledAsClean labels every row of slots [0, p) that was not revealed
// clean (pseudo-label 0), for PU learning: the model then learns g(x), the
// probability that a row is an illicit one found, against all others.
func unlabelledAsClean(d *data, p int) [][]int8 {
	out := make([][]int8, p)
	for s := range p {
		out[s] = make([]int8, d.slots[s].n) // 0 everywhere; masked keeps the revealed labels
	}
	return out
}

// labelFrequency is Elkan and Noto's estimator e1 of c = P(found | illicit):
// the mean score of the PU model g over the illicit rows found (slots [0, p)
// of train, in order). Under their assumption that the frauds found are a
// random sample of all frauds (selected completely at random),
// P(illicit | x) = g(x) / c; e1 is exact when g is and the classes do not
// overlap. The ranking, and so the inspections, are g's whatever c is; c
// only rescales the probability (the diversity weights, the expected
// revenue).
func labelFrequency(g models.Model, d *data, p int, revealed [][]bool, train []arrow.RecordBatch) (float64, error) {
	score, _, err := models.ScoreAll(g, train)
	if err != nil {
		return 0, err
	}
	var found []bool
	for s := range p {
		for r, l := range d.slots[s].labels {
			found = append(found, revealed[s][r] && l == 1)
		}
	}
	return meanFound(score, found)
}

// meanFound is the mean of score over the rows found; an error when none
// was.
func meanFound(score []float64, found []bool) (float64, error) {
	sum, n := 0.0, 0
	for i, f := range found {
		if f {
			sum += score[i]
			n++
		}
	}
	if n == 0 || !(sum > 0) {
		return 0, fmt.Errorf("pu: no illicit row found to estimate the label frequency from (%d found)", n)
	}
	return sum / float64(n), nil
}

// featuresOf computes the model's features of every row of batches,
// row-major, and their number.
func featuresOf(m models.Model, batches []arrow.RecordBatch) ([]float64, int, error) {
	f := len(m.FeatureNames())
	var out []float64
	for _, b := range batches {
		n := int(b.NumRows())
		at := len(out)
		out = slices.Grow(out, n*f)[:at+n*f]
		if err := m.Features(b, out[at:]); err != nil {
			return nil, 0, err
		}
	}
	return out, f, nil
}

// leavesOf computes the leaf index of every row of batches in every tree.
func leavesOf(m models.Model, batches []arrow.RecordBatch) ([]int32, int, error) {
	li, ok := m.(models.LeafIndexer)
	if !ok {
		return nil, 0, fmt.Errorf("the %s model gives no leaf indices, which diversity exploration needs", m.Kind())
	}
	feats, _, err := featuresOf(m, batches)
	if err != nil {
		return nil, 0, err
	}
	t := li.NumTrees()
	n := len(feats) / max(1, len(m.FeatureNames()))
	out := make([]int32, n*t)
	if err := li.Leaves(feats, n, out); err != nil {
		return nil, 0, err
	}
	return out, t, nil
}

// pick chooses k rows: each part its share of k in the order given, from
// the rows not yet taken. explored[i] says whether picks[i] came from an
// exploring part, hidden[i] whether from a hidden one (its label is not
// revealed to training).
func (s *strategy) pick(pd *period, k int) (picks []int, explored, hidden []bool) {
	var hide bool
	add := func(rows []int, explore bool) {
		for _, r := range rows {
			pd.taken[r] = true
			picks = append(picks, r)
			explored = append(explored, explore)
			hidden = append(hidden, hide)
		}
	}
	cum, done := 0.0, 0
	for _, p := range s.parts {
		cum += p.weight
		kp := int(math.Round(cum*float64(k))) - done
		done += kp
		hide = p.hidden
		switch p.name {
		case Random:
			add(randomPick(pd, kp), true)
		case Risky:
			add(topPick(pd, pd.risky, kp), false)
		case IForest:
			add(topPick(pd, pd.anomaly, kp), true)
		case Diversity:
			add(diversityPick(pd, kp, false), true)
		case Gatekeeper:
			add(diversityPick(pd, kp, true), true)
		case Novelty, NoveltyFlat:
			add(weightedPick(pd, pd.nov.weights(pd.keys, pd.day, pd.expRev, p.name == NoveltyFlat), kp), true)
		case APT, ADAPT:
			ke := int(math.Round(pd.explore * float64(kp)))
			add(topPick(pd, pd.score, kp-ke), false)
			add(diversityPick(pd, ke, false), true)
		default:
			add(topPick(pd, pd.score, kp), false)
		}
	}
	return picks, explored, hidden
}

// free lists the rows not taken.
func (pd *period) free() []int {
	var out []int
	for i, t := range pd.taken {
		if !t {
			out = append(out, i)
		}
	}
	return out
}

func randomPick(pd *period, k int) []int {
	c := pd.free()
	k = min(k, len(c))
	for i := range k {
		j := i + pd.rng.IntN(len(c)-i)
		c[i], c[j] = c[j], c[i]
	}
	return c[:k]
}

// topPick takes the k free rows of highest score, ties by row order.
func topPick(pd *period, score []float64, k int) []int {
	c := pd.free()
	slices.SortStableFunc(c, func(a, b int) int { return cmp.Compare(score[b], score[a]) })
	return c[:min(k, len(c))]
}

// Parameters of the diversity exploration.
const (
	diversityPool   = 5000 // candidates drawn at random when there are more
	gatekeeperShare = 4    // the gatekeeper's candidates: this many times k of the best-ranked free rows
	uncertaintyBase = 0.05 // weight of a row the model is sure of
)

// diversityPick is the bATE-like exploration (docs/simulate.md): k-means++
// seeding over the rows' leaf-index embeddings (the distance of two rows is
// the share of trees in which they fall in different leaves), each row's
// draw weighted by the model's uncertainty, 4p(1-p) + 0.05, times
// 1 + log1p(expected revenue). The gatekeeper variant seeds only among the
// 4k free rows the model ranks highest.
func diversityPick(pd *period, k int, gate bool) []int {
	c := pd.free()
	if gate {
		slices.SortStableFunc(c, func(a, b int) int { return cmp.Compare(pd.score[b], pd.score[a]) })
		c = c[:min(len(c), gatekeeperShare*k)]
	} else if len(c) > diversityPool {
		for i := range diversityPool {
			j := i + pd.rng.IntN(len(c)-i)
			c[i], c[j] = c[j], c[i]
		}
		c = c[:diversityPool]
		slices.Sort(c)
	}
	k = min(k, len(c))
	if k == 0 {
		return nil
	}
	w := make([]float64, len(c))
	for i, r := range c {
		p := pd.score[r]
		w[i] = (uncertaintyBase + 4*p*(1-p)) * (1 + math.Log1p(max(0, pd.expRev[r])))
	}
	d2 := make([]float64, len(c))
	for i := range d2 {
		d2[i] = 1
	}
	chosen := make([]bool, len(c))
	out := make([]int, 0, k)
	T := pd.trees
	for len(out) < k {
		total := 0.0
		for i := range c {
			if !chosen[i] {
				total += w[i] * d2[i]
			}
		}
		var at int
		if total > 0 {
			u := pd.rng.Float64() * total
			at = -1
			for i := range c {
				if chosen[i] {
					continue
				}
				at = i
				if u -= w[i] * d2[i]; u < 0 {
					break
				}
			}
		} else { // every free candidate shares a centre's leaves: any will do
			at = slices.Index(chosen, false)
		}
		chosen[at] = true
		out = append(out, c[at])
		ca := pd.leaves[c[at]*T : (c[at]+1)*T]
		for i, r := range c {
			if chosen[i] || d2[i] == 0 {
				continue
			}
			lr := pd.leaves[r*T : (r+1)*T]
			diff := 0
			for t := range T {
				if lr[t] != ca[t] {
					diff++
				}
			}
			dist := float64(diff) / float64(T)
			d2[i] = min(d2[i], dist*dist)
		}
	}
	return out
}

// Smoothing of the risky strategy's fraud rates: a level seen n times with
// f frauds has the rate (f + riskyPrior*base) / (n + riskyPrior).
const riskyPrior = 10

// riskyScores scores period p's rows by the fraud rates of their HS6 code,
// origin and importer among the labels revealed before it:
// 1 - (1-r_hs)(1-r_origin)(1-r_importer), each rate smoothed toward the
// overall rate (the "risk profile" selection of customs administrations).
func riskyScores(d *data, p int, revealed [][]bool) ([]float64, error) {
	cols := []string{decl.HSCode, decl.OriginCountry, decl.ImporterID}
	counts := make([]map[string][2]float64, len(cols))
	for c := range counts {
		counts[c] = map[string][2]float64{}
	}
	key := func(c int, s string) string {
		if cols[c] == decl.HSCode && len(s) > 6 {
			return s[:6]
		}
		return s
	}
	var all [2]float64
	for s := range p {
		off := 0
		for _, b := range d.slots[s].batches {
			texts := make([]decl.Text, len(cols))
			for c, name := range cols {
				t, _, err := decl.Strings(b, name)
				if err != nil {
					return nil, err
				}
				texts[c] = t
			}
			for i := range int(b.NumRows()) {
				r := off + i
				if !revealed[s][r] {
					continue
				}
				f := float64(d.slots[s].labels[r])
				all[0]++
				all[1] += f
				for c, t := range texts {
					if v, ok := t.Value(i); ok {
						x := counts[c][key(c, v)]
						counts[c][key(c, v)] = [2]float64{x[0] + 1, x[1] + f}
					}
				}
			}
			off += int(b.NumRows())
		}
	}
	base := all[1] / max(1, all[0])
	var out []float64
	for _, b := range d.slots[p].batches {
		texts := make([]decl.Text, len(cols))
		for c, name := range cols {
			t, _, err := decl.Strings(b, name)
			if err != nil {
				return nil, err
			}
			texts[c] = t
		}
		for i := range int(b.NumRows()) {
			clean := 1.0
			for c, t := range texts {
				r := base
				if v, ok := t.Value(i); ok {
					x := counts[c][key(c, v)]
					r = (x[1] + riskyPrior*base) / (x[0] + riskyPrior)
				}
				clean *= 1 - r
			}
			out = append(out, 1-clean)
		}
	}
	return out, nil
}
