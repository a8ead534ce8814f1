package pricecluster

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/stat"

	"risklane/stats"
)

// Config controls Fit. Zero values take the documented defaults.
type Config struct {
	// KMin and KMax bound the number of clusters per group; k is the one with
	// the highest mean silhouette (the smaller k on ties). Default 2 and 5.
	KMin int `json:"k_min"`
	KMax int `json:"k_max"`
	// Restarts is the number of k-means++ starts per k; default 4.
	Restarts int `json:"restarts"`
	// MaxIter caps Lloyd iterations per start; default 300.
	MaxIter int `json:"max_iter"`
	// MinGroupRows is the fewest rows an HS6 or HS4 group needs to be
	// fitted; default 30. Rows of a smaller HS6 group use their HS4 group,
	// and rows of a smaller HS4 group the global group of their basis.
	MinGroupRows int `json:"min_group_rows"`
	// MaxFitRows caps the rows a group is fitted on; a larger group is
	// fitted on an evenly spaced sample of this many of its rows (in HS6 then
	// input order). Default 200000.
	MaxFitRows int `json:"max_fit_rows"`
	// SilhouetteSample caps the points the silhouette is computed on when
	// ValueMass is set (it costs O(n^2) there); in one dimension the
	// silhouette is exact and costs O(n). Default 500.
	SilhouetteSample int `json:"silhouette_sample"`
	// ValueMass clusters on three standardised dimensions (log unit value,
	// log value, log mass or quantity) instead of log unit value alone.
	ValueMass bool `json:"value_mass"`
	// A cluster is low when its centre lies at least
	// max(LowMinGap, LowSpreads*sigma) below the group's median log unit
	// value, where sigma = IQR/1.349 is the group's robust standard deviation
	// of log unit value. Defaults 0.5 (a centre below exp(-0.5) = 61% of the
	// median price) and 1.5: on a normal, unimodal group the lowest centre of
	// 2 or 3 clusters (-0.80 and -1.22 sigma) is not low, so only a separate
	// cheap mode is flagged.
	LowMinGap  float64 `json:"low_min_gap"`
	LowSpreads float64 `json:"low_spreads"`
	// Seed makes the fit reproducible: every group draws from its own stream
	// seeded by Seed and the group's key, so neither Workers nor scheduling
	// changes the result.
	Seed uint64 `json:"seed"`
	// Workers is the number of groups fitted at once; default GOMAXPROCS.
	Workers int `json:"-"`
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.KMin, 2)
	def(&c.KMax, 5)
	def(&c.Restarts, 4)
	def(&c.MaxIter, 300)
	def(&c.MinGroupRows, 30)
	def(&c.MaxFitRows, 200_000)
	def(&c.SilhouetteSample, 500)
	def(&c.Workers, runtime.GOMAXPROCS(0))
	if c.LowMinGap <= 0 {
		c.LowMinGap = 0.5
	}
	if c.LowSpreads <= 0 {
		c.LowSpreads = 1.5
	}
	return c
}

// maxK bounds KMax: more clusters than this make no sense for one product's
// prices and would only slow the fit.
const maxK = 20

func (c Config) check() error {
	switch {
	case c.KMin < 2:
		return fmt.Errorf("pricecluster: k-min %d is below 2", c.KMin)
	case c.KMax < c.KMin:
		return fmt.Errorf("pricecluster: k-max %d is below k-min %d", c.KMax, c.KMin)
	case c.KMax > maxK:
		return fmt.Errorf("pricecluster: k-max %d is above %d", c.KMax, maxK)
	case c.MaxFitRows < c.KMax+1:
		return fmt.Errorf("pricecluster: max-fit-rows %d leaves too few rows for %d clusters", c.MaxFitRows, c.KMax)
	case math.IsNaN(c.LowMinGap) || math.IsInf(c.LowMinGap, 0) || math.IsNaN(c.LowSpreads) || math.IsInf(c.LowSpreads, 0):
		return fmt.Errorf("pricecluster: low-cluster gap %v and spreads %v must be finite", c.LowMinGap, c.LowSpreads)
	}
	return nil
}

// logUnitValue returns the log unit value of one declaration and its basis:
// value per kg when the mass is positive and finite, else value per unit of
// quantity when that is, else no unit value (NoBasis). The value must be
// positive and finite. Logs are subtracted rather than the ratio taken so
// that extreme values cannot overflow.
func logUnitValue(value, mass, qty float64) (float64, Basis) {
	if !(value > 0) || math.IsInf(value, 1) {
		return math.NaN(), NoBasis
	}
	switch {
	case mass > 0 && !math.IsInf(mass, 1):
		return math.Log(value) - math.Log(mass), PerKg
	case qty > 0 && !math.IsInf(qty, 1):
		return math.Log(value) - math.Log(qty), PerUnit
	}
	return math.NaN(), NoBasis
}

// at returns s[i], or NaN when the column is absent (nil).
func at(s []float64, i int) float64 {
	if s == nil {
		return math.NaN()
	}
	return s[i]
}

func checkColumns(hs6 []int32, value, mass, qty []float64) error {
	n := len(hs6)
	for _, c := range []struct {
		name string
		col  []float64
		opt  bool
	}{{"value", value, false}, {"mass", mass, true}, {"quantity", qty, true}} {
		if c.col == nil && c.opt {
			continue
		}
		if len(c.col) != n {
			return fmt.Errorf("pricecluster: %d HS6 codes but %d %s values; give one per row", n, len(c.col), c.name)
		}
	}
	if n > math.MaxInt32 {
		return fmt.Errorf("pricecluster: %d rows is more than one fit takes (%d)", n, math.MaxInt32)
	}
	for i, h := range hs6 {
		if h > 999999 {
			return fmt.Errorf("pricecluster: row %d: HS6 code %d has more than 6 digits; pass ParseHS6 of the HS code", i, h)
		}
	}
	return nil
}

// The rows of one basis are counting-sorted by key hs6+1 (0 for rows without
// an HS6 code), so that every HS6 group, every HS4 group (HS6 codes
// hs4*100 to hs4*100+99) and the whole basis are contiguous runs.
const keysPerBasis = 1_000_001

func rowKey(b Basis, hs6 int32) int {
	return int(b)*keysPerBasis + int(max(hs6, -1)) + 1
}

// job is one group to fit: its identity and its run of sorted rows.
type job struct {
	level  Level
	basis  Basis
	code   int32
	lo, hi int32
}

// Fit clusters the unit values of the training declarations per group and
// returns the fitted model. hs6 holds ParseHS6 codes (negative: none); value
// is the customs value; mass (net kg) and qty may be nil. Rows without a
// positive value or without a positive mass or quantity have no unit value
// and are left out.
//
// Groups are HS6 subheadings with at least MinGroupRows rows, every HS4
// heading with at least MinGroupRows rows, and one global group, each
// separately for values per kg and values per unit (they are not
// comparable). Groups are fitted in parallel.
func Fit(hs6 []int32, value, mass, qty []float64, cfg Config) (*Model, error) {
	return FitProgress(hs6, value, mass, qty, cfg, nil)
}

// FitProgress is Fit calling progress, if not nil, after each group is fitted
// with the groups done and their total, one call at a time (for a progress
// bar). Progress is an argument, not a Config field, because a Config travels
// as data: it is saved in the model and shipped to Beam workers.
func FitProgress(hs6 []int32, value, mass, qty []float64, cfg Config, progress func(done, total int)) (*Model, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := checkColumns(hs6, value, mass, qty); err != nil {
		return nil, err
	}
	n := len(hs6)
	logUV := make([]float64, n)
	basis := make([]Basis, n)
	keys := make([]int32, 2*keysPerBasis+1)
	for i := range n {
		lu, b := logUnitValue(value[i], at(mass, i), at(qty, i))
		logUV[i], basis[i] = lu, b
		if b != NoBasis {
			keys[rowKey(b, hs6[i])+1]++
		}
	}
	for i := 1; i < len(keys); i++ {
		keys[i] += keys[i-1]
	}
	perm := make([]int32, keys[len(keys)-1])
	next := slices.Clone(keys[:len(keys)-1])
	for i, b := range basis {
		if b == NoBasis {
			continue
		}
		k := rowKey(b, hs6[i])
		perm[next[k]] = int32(i)
		next[k]++
	}
	next, basis = nil, nil

	minRows := int32(cfg.MinGroupRows)
	var jobs []job
	for _, b := range []Basis{PerKg, PerUnit} {
		base := int(b) * keysPerBasis
		for h := range int32(1_000_000) {
			lo, hi := keys[base+int(h)+1], keys[base+int(h)+2]
			if hi-lo >= minRows {
				jobs = append(jobs, job{LevelHS6, b, h, lo, hi})
			}
		}
		for h := range int32(10_000) {
			lo, hi := keys[base+int(h)*100+1], keys[base+int(h)*100+101]
			if hi-lo >= minRows {
				jobs = append(jobs, job{LevelHS4, b, h, lo, hi})
			}
		}
		if lo, hi := keys[base], keys[base+keysPerBasis]; hi > lo {
			jobs = append(jobs, job{LevelAll, b, 0, lo, hi})
		}
	}
	keys = nil

	dims := 1
	if cfg.ValueMass {
		dims = 3
	}
	m := &Model{Version: modelVersion, Config: cfg, Dims: dims, Groups: make([]Group, len(jobs))}
	var progressMu sync.Mutex
	fitted := 0
	groupDone := func() {
		if progress != nil {
			progressMu.Lock()
			fitted++
			progress(fitted, len(jobs))
			progressMu.Unlock()
		}
	}
	// Largest groups first, so that no worker is left with a big one at the
	// end; results go to each job's own slot, so the order does not matter.
	sched := make([]int, len(jobs))
	for i := range sched {
		sched[i] = i
	}
	slices.SortStableFunc(sched, func(a, b int) int { return cmp.Compare(jobs[b].hi-jobs[b].lo, jobs[a].hi-jobs[a].lo) })
	var nextJob atomic.Int64
	var wg sync.WaitGroup
	for range min(cfg.Workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := fitter{cfg: cfg, logUV: logUV, value: value, mass: mass, qty: qty}
			for {
				i := int(nextJob.Add(1)) - 1
				if i >= len(sched) {
					return
				}
				j := jobs[sched[i]]
				m.Groups[sched[i]] = f.fit(j, perm[j.lo:j.hi])
				groupDone()
			}
		}()
	}
	wg.Wait()
	return NewModel(cfg, m.Groups)
}

// GroupKey names a group: its level, basis and code (the HS6 or HS4
// number, 0 for LevelAll).
type GroupKey struct {
	Level Level
	Basis Basis
	Code  int32
}

// GroupsOf returns the groups Fit puts a row in: its HS6 and HS4 groups
// when it has an HS6 code, and the global group of its basis; none when the
// row has no unit value. Whether a group is fitted depends on its number
// of rows (FitGroup).
func GroupsOf(hs6 int32, value, mass, qty float64) []GroupKey {
	_, b := logUnitValue(value, mass, qty)
	if b == NoBasis {
		return nil
	}
	if hs6 < 0 {
		return []GroupKey{{LevelAll, b, 0}}
	}
	return []GroupKey{{LevelHS6, b, hs6}, {LevelHS4, b, hs6 / 100}, {LevelAll, b, 0}}
}

// FitGroup fits one group as Fit does, for a caller that gathers each
// group's rows itself (the Beam stage of risklane/beam, docs/beam.md).
// value, mass and qty (mass and qty may be nil) are the rows GroupsOf puts
// in the group, in the order Fit takes them: by HS6 code (rows without one
// first), then in input order. The order matters when the group has more
// than MaxFitRows rows (an even sample of them is fitted) and with
// ValueMass (k-means++ draws from the rows in order). fitted is false when
// the group has too few rows to be fitted (MinGroupRows; the global group
// needs one).
func FitGroup(k GroupKey, value, mass, qty []float64, cfg Config) (g Group, fitted bool, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return Group{}, false, err
	}
	n := len(value)
	if (mass != nil && len(mass) != n) || (qty != nil && len(qty) != n) {
		return Group{}, false, fmt.Errorf("pricecluster: group %s: %d values, %d masses and %d quantities; give one of each per row", k.name(), n, len(mass), len(qty))
	}
	if n == 0 || (k.Level != LevelAll && n < cfg.MinGroupRows) {
		return Group{}, false, nil
	}
	logUV := make([]float64, n)
	rows := make([]int32, n)
	for i := range n {
		lu, b := logUnitValue(value[i], at(mass, i), at(qty, i))
		if b != k.Basis {
			return Group{}, false, fmt.Errorf("pricecluster: group %s: row %d has basis %s", k.name(), i, b)
		}
		logUV[i], rows[i] = lu, int32(i)
	}
	f := fitter{cfg: cfg, logUV: logUV, value: value, mass: mass, qty: qty}
	return f.fit(job{k.Level, k.Basis, k.Code, 0, int32(n)}, rows), true, nil
}

func (k GroupKey) name() string {
	g := Group{Level: k.Level, Basis: k.Basis, Code: k.Code}
	return g.Name()
}

// NewModel assembles the groups fitted with cfg (by Fit, or by FitGroup
// one at a time) into a model, with the groups in Fit's order: per basis
// (kg, then unit) the HS6 groups, the HS4 groups and the global group, each
// by code.
func NewModel(cfg Config, groups []Group) (*Model, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	dims := 1
	if cfg.ValueMass {
		dims = 3
	}
	gs := slices.Clone(groups)
	slices.SortFunc(gs, func(a, b Group) int {
		return cmp.Or(cmp.Compare(a.Basis, b.Basis), cmp.Compare(a.Level, b.Level), cmp.Compare(a.Code, b.Code))
	})
	for i := 1; i < len(gs); i++ {
		if gs[i].Basis == gs[i-1].Basis && gs[i].Level == gs[i-1].Level && gs[i].Code == gs[i-1].Code {
			return nil, fmt.Errorf("pricecluster: group %s given twice", gs[i].Name())
		}
	}
	m := &Model{Version: modelVersion, Config: cfg, Dims: dims, Groups: gs}
	m.buildIndex()
	return m, nil
}

// fitter fits groups one after another with reused buffers.
type fitter struct {
	cfg               Config
	logUV             []float64
	value, mass, qty  []float64
	s                 scratch
	rows              []int32
	sorted, pts, dist []float64
	sample            []float64
	sampleLabels      []int32
}

// groupSeed gives every group its own random stream.
func groupSeed(j job) uint64 {
	return uint64(j.level)<<40 | uint64(j.basis)<<32 | uint64(uint32(j.code))
}

// evenSample returns at most m rows of rows, evenly spaced.
func evenSample(rows []int32, m int, dst []int32) []int32 {
	n := len(rows)
	if n <= m {
		return append(dst[:0], rows...)
	}
	dst = grow(dst, m)
	for i := range m {
		dst[i] = rows[i*n/m]
	}
	return dst
}

func (f *fitter) fit(j job, all []int32) Group {
	f.rows = evenSample(all, f.cfg.MaxFitRows, f.rows)
	rows := f.rows
	n := len(rows)
	f.sorted = grow(f.sorted, n)
	for i, r := range rows {
		f.sorted[i] = f.logUV[r]
	}
	slices.Sort(f.sorted)
	g := Group{Level: j.level, Basis: j.basis, Code: j.code, N: len(all), FitRows: n, Quantiles: stats.Quantiles(f.sorted, numQuantiles)}
	rng := rand.New(rand.NewPCG(f.cfg.Seed, groupSeed(j)))
	opt := KMeansOptions{Restarts: f.cfg.Restarts, MaxIter: f.cfg.MaxIter}
	kmax := min(f.cfg.KMax, n-1)
	if f.cfg.ValueMass {
		f.fitND(&g, rows, kmax, opt, rng)
	} else {
		f.fit1D(&g, min(kmax, distinct(f.sorted)), opt, rng)
	}
	g.setLow(f.cfg)
	return g
}

// fit1D clusters f.sorted and fills the group's clusters.
func (f *fitter) fit1D(g *Group, kmax int, opt KMeansOptions, rng *rand.Rand) {
	l := f.s.line(f.sorted)
	n := len(l.x)
	best := fit1D{centres: []float64{l.mean(0, n)}, bounds: []int{0, n}}
	bestSil := math.Inf(-1)
	for k := f.cfg.KMin; k <= kmax; k++ {
		fit := best1D(l, k, opt, rng)
		if sil := l.silhouette(fit.bounds); sil > bestSil {
			best, bestSil = fit, sil
		}
	}
	spread := make([]float64, len(best.centres))
	l.cost(best.centres, best.bounds, spread)
	for c := range best.centres {
		size := best.bounds[c+1] - best.bounds[c]
		if size == 0 {
			continue
		}
		g.Centres = append(g.Centres, best.centres[c]+l.shift)
		g.Sizes = append(g.Sizes, size)
		g.Spreads = append(g.Spreads, spread[c])
	}
	g.K = len(g.Centres)
	if !math.IsInf(bestSil, -1) {
		g.Silhouette = bestSil
	}
}

// point writes the ValueMass dimensions of row r: log unit value, log value
// and the log of the mass or quantity the unit value is per.
func point(dst []float64, value, mass, qty float64) bool {
	lu, b := logUnitValue(value, mass, qty)
	if b == NoBasis {
		return false
	}
	dst[0] = lu
	dst[1] = math.Log(value)
	dst[2] = dst[1] - lu
	return true
}

// minScale is the smallest standard deviation a ValueMass dimension is
// scaled by (the same bound ReadModel checks).
const minScale = 1 / maxMagnitude

// fitND clusters the rows in the three standardised ValueMass dimensions.
func (f *fitter) fitND(g *Group, rows []int32, kmax int, opt KMeansOptions, rng *rand.Rand) {
	const dim = 3
	n := len(rows)
	f.pts = grow(f.pts, n*dim)
	for i, r := range rows {
		point(f.pts[i*dim:(i+1)*dim], f.value[r], at(f.mass, int(r)), at(f.qty, int(r)))
	}
	g.Mean = make([]float64, dim)
	g.Scale = make([]float64, dim)
	col := make([]float64, n)
	for d := range dim {
		for i := range n {
			col[i] = f.pts[i*dim+d]
		}
		mean, sd := stat.PopMeanStdDev(col, nil)
		// A dimension that varies by less than minScale log units carries
		// no information; dividing by its spread would only blow up noise.
		if !(sd >= minScale) || math.IsInf(sd, 0) {
			sd = 1
		}
		g.Mean[d], g.Scale[d] = mean, sd
		for i := range n {
			f.pts[i*dim+d] = (f.pts[i*dim+d] - mean) / sd
		}
	}
	// The silhouette is computed on an even sample against that sample, as
	// scikit-learn's silhouette_score(sample_size=...) does.
	sn := min(n, f.cfg.SilhouetteSample)
	f.sample = grow(f.sample, sn*dim)
	for i := range sn {
		copy(f.sample[i*dim:(i+1)*dim], f.pts[(i*n/sn)*dim:(i*n/sn+1)*dim])
	}
	f.dist = pairDistances(f.sample[:sn*dim], dim, f.dist)
	f.sampleLabels = grow(f.sampleLabels, sn)

	best := KMeansResult{Centres: make([]float64, dim), Labels: make([]int32, n)}
	bestSil := math.Inf(-1)
	for k := f.cfg.KMin; k <= kmax; k++ {
		res, ok := f.s.bestOf(f.pts[:n*dim], dim, k, opt, rng)
		if !ok {
			break
		}
		for i := range sn {
			f.sampleLabels[i] = res.Labels[i*n/sn]
		}
		if sil := silhouetteDist(f.dist, sn, k, f.sampleLabels); sil > bestSil {
			best, bestSil = res, sil
		}
	}
	k := len(best.Centres) / dim
	sizes := make([]int, k)
	sums := make([]float64, 2*k)
	for i, l := range best.Labels {
		lu := f.pts[i*dim]*g.Scale[0] + g.Mean[0]
		sizes[l]++
		sums[2*l] += lu
		sums[2*l+1] += lu * lu
	}
	order := make([]int, 0, k)
	for c := range k {
		if sizes[c] > 0 {
			order = append(order, c)
		}
	}
	uv := func(c int) float64 { return best.Centres[c*dim]*g.Scale[0] + g.Mean[0] }
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(uv(a), uv(b)) })
	for _, c := range order {
		m := float64(sizes[c])
		mean := sums[2*c] / m
		g.Centres = append(g.Centres, uv(c))
		g.Sizes = append(g.Sizes, sizes[c])
		g.Spreads = append(g.Spreads, math.Sqrt(max(0, sums[2*c+1]/m-mean*mean)))
		g.Points = append(g.Points, best.Centres[c*dim:(c+1)*dim]...)
	}
	g.K = len(order)
	if !math.IsInf(bestSil, -1) {
		g.Silhouette = bestSil
	}
}

// pairDistances fills an n x n matrix of Euclidean distances.
func pairDistances(x []float64, dim int, dst []float64) []float64 {
	n := len(x) / dim
	dst = grow(dst, n*n)
	for i := range n {
		dst[i*n+i] = 0
		for j := i + 1; j < n; j++ {
			d := math.Sqrt(sqDist(x[i*dim:(i+1)*dim], x[j*dim:(j+1)*dim]))
			dst[i*n+j], dst[j*n+i] = d, d
		}
	}
	return dst
}

// silhouetteDist is silhouette over a precomputed distance matrix.
func silhouetteDist(dist []float64, n, k int, labels []int32) float64 {
	sizes := make([]int, k)
	for _, l := range labels[:n] {
		sizes[l]++
	}
	sums := make([]float64, k)
	var total float64
	for i := range n {
		own := labels[i]
		if sizes[own] <= 1 {
			continue
		}
		clear(sums)
		for j, d := range dist[i*n : (i+1)*n] {
			sums[labels[j]] += d
		}
		a := sums[own] / float64(sizes[own]-1)
		b := math.Inf(1)
		for c := range k {
			if int32(c) != own && sizes[c] > 0 {
				b = min(b, sums[c]/float64(sizes[c]))
			}
		}
		if m := max(a, b); m > 0 && !math.IsInf(b, 1) {
			total += (b - a) / m
		}
	}
	return total / float64(n)
}

// numQuantiles is the number of Group.Quantiles, at 0%, 5%, ..., 100% (see
// stats.Quantiles).
const numQuantiles = 21
