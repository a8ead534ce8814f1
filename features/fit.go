package features

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/decl"
	"risklane/stats"
)

// Matrix is the feature matrix of the training rows, column by column, as
// the tree trainer takes it.
type Matrix struct {
	Rows  int
	Cols  [][]float64 // one slice per feature; NaN marks a missing value
	Names []string
	// Fold is the fold of each row (0 to K-1): the rows whose labels its
	// out-of-fold features did not see are all the rows of other folds.
	Fold []uint8
}

// outOfFold holds the statistics of the training rows: rates per fold, each
// computed without the rows of that fold.
type outOfFold struct {
	fold  []uint8
	prior []float64   // per fold
	rate  [][]float64 // per key: rate[k][fold*len(key)+code]
}

// Fit learns the feature state from the training history and returns it with
// the features of the training rows themselves, in the batches' row order.
// Target-derived features of a training row (fraud rates) are computed from
// the other folds only; everything else is as Transform computes it, except
// that a training row is already part of the counts it looks up.
//
// Rows with a null label are used for counts and unit-value references but
// not for fraud rates. A feature whose input column is absent from the
// history, or null in every row, is left out (State.Names says which exist).
func Fit(batches []arrow.RecordBatch, cfg Config) (*State, *Matrix, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	total := 0
	for _, b := range batches {
		total += int(b.NumRows())
	}
	if total == 0 {
		return nil, nil, errors.New("features: no training rows")
	}
	has := availability(batches)
	extras, err := extraColumns(batches, has)
	if err != nil {
		return nil, nil, err
	}
	var signals []Signal
	for _, g := range cfg.Groups {
		if slices.Contains(BuiltinGroups, g) {
			continue
		}
		sig := configured(cfg.Signals, g)
		if sig == nil {
			sig, _ = newRegistered(g)
		}
		signals = append(signals, sig)
	}
	p := makePlan(cfg.Groups, has, extras, signals)
	if err := checkNames(p.names()); err != nil {
		return nil, nil, err
	}
	if len(p.feats) == 0 {
		return nil, nil, fmt.Errorf("features: groups %s give no feature on this data (their columns are missing or empty)", strings.Join(cfg.Groups, ","))
	}

	fr, err := readHistory(batches, &p)
	if err != nil {
		return nil, nil, err
	}
	s := &State{
		groups:       slices.Clone(cfg.Groups),
		folds:        cfg.Folds,
		seed:         cfg.Seed,
		smoothing:    cfg.Smoothing,
		minReference: cfg.MinReference,
		halfLife:     cfg.HalfLife,
		rows:         int64(total),
		plan:         p,
		keys:         fr.tables,
	}
	weights, err := RecencyWeights(batches, cfg.HalfLife)
	if err != nil {
		return nil, nil, err
	}
	var pos int64
	var wsum, wpos float64 // the labelled rows' weights, and the illicit ones'
	for i, y := range fr.labels {
		if y >= 0 {
			s.labelled++
			pos += int64(y)
			if weights != nil {
				wsum += weights[i]
				wpos += weights[i] * float64(y)
			}
		}
	}
	if s.labelled == 0 {
		return nil, nil, errors.New("features: no labelled row in the training history (every illicit value is null); fraud rates need inspected rows")
	}
	s.prior = float64(pos) / float64(s.labelled)
	wtotal := float64(s.labelled)
	if weights != nil {
		if !(wsum > 0) {
			return nil, nil, fmt.Errorf("features: with a fraud-rate half-life of %g days every labelled row weighs 0 (they are all far older than the history's latest date); use a longer half-life", cfg.HalfLife)
		}
		s.prior, wtotal = wpos/wsum, wsum
	}
	fold := assignFolds(fr.ids, cfg.Folds, cfg.Seed)
	oof := s.fitRates(&fr.in, fr.labels, weights, wtotal, fold)
	s.refs = fitReferences(&fr.in, &p, cfg.MinReference)
	for _, sig := range signals {
		if err := sig.Fit(batches); err != nil {
			return nil, nil, fmt.Errorf("features: fitting signal %s: %w", sig.Name(), err)
		}
	}
	s.prepare()

	m := &Matrix{Rows: total, Names: s.Names(), Fold: fold}
	m.Cols = growCols(nil, len(s.names), total)
	vals := growCols(nil, len(s.keys), total)
	s.fill(&fr.in, vals, m.Cols, oof)
	if err := s.trainingSignals(batches, m); err != nil {
		return nil, nil, err
	}
	return s, m, nil
}

func configured(sigs []Signal, name string) Signal {
	for _, s := range sigs {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

func checkNames(names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return fmt.Errorf("features: two features are called %q; rename the signal's feature", n)
		}
		seen[n] = true
	}
	return nil
}

// trainingSignals writes the signal features of the training rows.
func (s *State) trainingSignals(batches []arrow.RecordBatch, m *Matrix) error {
	j := s.plan.firstSignal()
	for _, sig := range s.plan.signals {
		k := len(sig.Features())
		cols := m.Cols[j : j+k]
		if o, ok := sig.(OutOfFold); ok {
			if err := o.ApplyOutOfFold(batches, m.Fold, s.folds, cols); err != nil {
				return fmt.Errorf("features: signal %s: %w", sig.Name(), err)
			}
		} else {
			off := 0
			sub := make([][]float64, k)
			for _, b := range batches {
				n := int(b.NumRows())
				for c := range sub {
					sub[c] = cols[c][off : off+n]
				}
				if err := sig.Apply(b, sub); err != nil {
					return fmt.Errorf("features: signal %s: %w", sig.Name(), err)
				}
				off += n
			}
		}
		j += k
	}
	return nil
}

// availability returns whether a column is in every batch with at least one
// non-null value.
func availability(batches []arrow.RecordBatch) func(string) bool {
	memo := map[string]bool{}
	return func(col string) bool {
		if v, ok := memo[col]; ok {
			return v
		}
		present, data := true, false
		for _, b := range batches {
			a, ok := decl.Field(b, col)
			if !ok {
				present = false
				break
			}
			if a.Len() > a.NullN() {
				data = true
			}
		}
		memo[col] = present && data
		return memo[col]
	}
}

// extraColumns returns the extra string attributes that are model inputs:
// not labels, present in every batch, not empty.
func extraColumns(batches []arrow.RecordBatch, has func(string) bool) ([]string, error) {
	var out []string
	schema := batches[0].Schema()
	for _, name := range decl.Extras(schema) {
		f, _ := schema.FieldsByName(name)
		if decl.IsLabel(f[0]) || !has(name) {
			continue
		}
		for _, b := range batches {
			a, _ := decl.Field(b, name)
			if _, err := newStrCol(a, name); err != nil {
				return nil, fmt.Errorf("features: extra attribute %w", err)
			}
		}
		out = append(out, name)
	}
	return out, nil
}

// history is the training history read into codes.
type history struct {
	in     inputs
	tables []*keyTable
	labels []int8
	ids    []int32 // declaration id code per row
}

// dict assigns codes to values in order of first appearance.
type dict struct {
	index  map[string]int32
	values []string
}

func (d *dict) code(v string) int32 {
	if c, ok := d.index[v]; ok {
		return c
	}
	c := int32(len(d.values))
	v = strings.Clone(v) // v points into an Arrow buffer
	d.index[v] = c
	d.values = append(d.values, v)
	return c
}

// sorted renumbers the codes in the sorted order of the values, so that a
// state does not depend on the order of the rows.
func (d *dict) sorted(codes []int32) []string {
	order := make([]int32, len(d.values))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(d.values[a], d.values[b]) })
	remap := make([]int32, len(order))
	values := make([]string, len(order))
	for newc, oldc := range order {
		remap[oldc] = int32(newc)
		values[newc] = d.values[oldc]
	}
	for i, c := range codes {
		if c >= 0 {
			codes[i] = remap[c]
		}
	}
	return values
}

func readHistory(batches []arrow.RecordBatch, p *plan) (*history, error) {
	h := &history{}
	in := &h.in
	dicts := make([]*dict, len(p.keys))
	for k := range dicts {
		dicts[k] = &dict{index: map[string]int32{}}
	}
	in.codes = make([][]int32, len(p.keys))
	ids := &dict{index: map[string]int32{}}
	var batch inputs
	var buf []byte
	levels := [3]int{p.keyByName("hs2"), p.keyByName("hs4"), p.keyByName("hs6")}
	hasHS := slices.Contains(p.columns, decl.HSCode)
	hasDate := slices.Contains(p.columns, decl.Date)
	for bi, rec := range batches {
		where := func(err error) error { return fmt.Errorf("features: training batch %d: %w", bi+1, err) }
		n := int(rec.NumRows())
		in.n += n
		if err := readNumeric(rec, p.columns, &batch); err != nil {
			return nil, where(err)
		}
		for j := range in.num {
			if batch.num[j] != nil {
				in.num[j] = append(in.num[j], batch.num[j]...)
			}
		}
		if hasDate {
			d, err := readDays(rec, in.days)
			if err != nil {
				return nil, where(err)
			}
			in.days = d
		}
		labels, err := ReadLabels(rec, h.labels)
		if err != nil {
			return nil, where(err)
		}
		h.labels = labels
		if a, ok := decl.Field(rec, decl.DeclarationID); ok {
			c, err := newStrCol(a, decl.DeclarationID)
			if err != nil {
				return nil, where(err)
			}
			for i := 0; i < n; i++ {
				h.ids = append(h.ids, ids.code(c.get(i)))
			}
		} else {
			for i := 0; i < n; i++ {
				h.ids = append(h.ids, ids.code(fmt.Sprint("row ", len(h.ids))))
			}
		}
		for k, kd := range p.keys {
			if kd.isPair() || kd.digits > 0 {
				continue
			}
			a, _ := decl.Field(rec, kd.col)
			c, err := newStrCol(a, kd.col)
			if err != nil {
				return nil, where(err)
			}
			for i := 0; i < n; i++ {
				in.codes[k] = append(in.codes[k], dicts[k].code(c.get(i)))
			}
		}
		if hasHS {
			a, _ := decl.Field(rec, decl.HSCode)
			c, err := newStrCol(a, decl.HSCode)
			if err != nil {
				return nil, where(err)
			}
			for i := 0; i < n; i++ {
				digits, b, ok := hsDigits(c.get(i), buf)
				buf = b
				for l, d := range []int{2, 4, 6} {
					v := math.NaN()
					code := int32(-1)
					if ok && len(digits) >= d {
						v = hsNumber(digits, d)
						if k := levels[l]; k >= 0 {
							code = dicts[k].code(digits[:d])
						}
					}
					in.hs[l] = append(in.hs[l], v)
					if k := levels[l]; k >= 0 {
						in.codes[k] = append(in.codes[k], code)
					}
				}
			}
		}
	}
	// declaration ids in sorted order make the folds independent of row order
	ids.sorted(h.ids)
	h.tables = make([]*keyTable, len(p.keys))
	for k, kd := range p.keys {
		if kd.isPair() {
			continue
		}
		h.tables[k] = &keyTable{values: dicts[k].sorted(in.codes[k])}
	}
	for k, kd := range p.keys {
		if !kd.isPair() {
			continue
		}
		a, b := in.codes[kd.a], in.codes[kd.b]
		var uniq []uint64
		seen := map[uint64]bool{}
		for i := range a {
			if a[i] >= 0 && b[i] >= 0 {
				pk := pairKey(a[i], b[i])
				if !seen[pk] {
					seen[pk] = true
					uniq = append(uniq, pk)
				}
			}
		}
		slices.Sort(uniq)
		t := &keyTable{a: make([]int32, len(uniq)), b: make([]int32, len(uniq))}
		index := make(map[uint64]int32, len(uniq))
		for i, pk := range uniq {
			t.a[i], t.b[i] = int32(pk>>32), int32(uint32(pk))
			index[pk] = int32(i)
		}
		codes := make([]int32, len(a))
		for i := range a {
			codes[i] = -1
			if a[i] >= 0 && b[i] >= 0 {
				codes[i] = index[pairKey(a[i], b[i])]
			}
		}
		in.codes[k] = codes
		h.tables[k] = t
	}
	unitValues(in, p.bases)
	return h, nil
}

// assignFolds gives every declaration a fold: the rows (items) of one
// declaration share it, so no item learns from a sibling's label.
func assignFolds(ids []int32, k int, seed uint64) []uint8 {
	nid := 0
	for _, id := range ids {
		nid = max(nid, int(id)+1)
	}
	r := rand.New(rand.NewPCG(seed, 0x6b63735f666f6c64))
	perm := r.Perm(nid)
	fold := make([]uint8, len(ids))
	for i, id := range ids {
		fold[i] = uint8(perm[id] % k)
	}
	return fold
}

// fitRates counts every key and computes its smoothed fraud rate, over the
// whole history (saved in the state) and per fold without that fold (for
// the training rows). Each labelled row counts with its weight (nil: 1),
// total is the labelled rows' weight (their number when unweighted). A
// fold's out-of-fold sums add up the other folds' own sums rather than
// subtract its part from the total: with fractional weights a difference
// would carry a rounding error that depends on the fold's own labels (a
// leak in the last bit). Rates are clamped to [0, 1] against rounding; of
// whole counts they are exact either way.
func (s *State) fitRates(in *inputs, labels []int8, weights []float64, total float64, fold []uint8) *outOfFold {
	K, m := s.folds, s.smoothing
	oof := &outOfFold{fold: fold, prior: make([]float64, K), rate: make([][]float64, len(s.keys))}
	weight := func(i int) float64 {
		if weights == nil {
			return 1
		}
		return weights[i]
	}
	var fs, fn = make([]float64, K), make([]float64, K)
	for i, y := range labels {
		if y >= 0 {
			w := weight(i)
			fs[fold[i]] += w * float64(y)
			fn[fold[i]] += w
		}
	}
	for f := range K {
		var rest, restIllicit float64
		for g := range K {
			if g != f {
				rest += fn[g]
				restIllicit += fs[g]
			}
		}
		oof.prior[f] = s.prior
		switch {
		case rest > 0 && weights == nil:
			oof.prior[f] = (s.prior*total - fs[f]) / rest
		case rest > 0:
			oof.prior[f] = clamp01(restIllicit / rest)
		}
	}
	for k, kd := range s.plan.keys {
		t := s.keys[k]
		codes := in.codes[k]
		nk := len(t.values) + len(t.a)
		t.count = make([]int64, nk)
		sum, cnt := make([]float64, K*nk), make([]float64, K*nk)
		tsum, tcnt := make([]float64, nk), make([]float64, nk)
		parentCode := make([]int32, nk)
		for i := range parentCode {
			parentCode[i] = -1
		}
		for i, c := range codes {
			if c < 0 {
				continue
			}
			t.count[c]++
			if kd.parent >= 0 {
				parentCode[c] = in.codes[kd.parent][i]
			}
			if y := labels[i]; y >= 0 {
				w := weight(i)
				j := int(fold[i])*nk + int(c)
				sum[j] += w * float64(y)
				cnt[j] += w
				tsum[c] += w * float64(y)
				tcnt[c] += w
			}
		}
		t.rate = make([]float64, nk)
		for c := range nk {
			pr := s.prior
			if pc := parentCode[c]; pc >= 0 {
				pr = s.keys[kd.parent].rate[pc]
			}
			t.rate[c] = clamp01(smoothed(tsum[c], tcnt[c], m, pr))
		}
		r := make([]float64, K*nk)
		for f := range K {
			for c := range nk {
				pr := oof.prior[f]
				if pc := parentCode[c]; pc >= 0 {
					pr = oof.rate[kd.parent][f*s.keys[kd.parent].len()+int(pc)]
				}
				var rs, rn float64
				for g := range K {
					if g != f {
						rs += sum[g*nk+c]
						rn += cnt[g*nk+c]
					}
				}
				r[f*nk+c] = clamp01(smoothed(rs, rn, m, pr))
			}
		}
		oof.rate[k] = r
	}
	return oof
}

// clamp01 returns x within [0, 1].
func clamp01(x float64) float64 { return min(max(x, 0), 1) }

// smoothed is the fraud rate of illicit rows among labelled ones, drawn
// towards prior with the weight of m rows.
func smoothed(illicit, labelled, m, prior float64) float64 {
	return (illicit + m*prior) / (labelled + m)
}

// fitReferences computes the unit-value references of every basis: the log
// unit values of all training rows (labels play no part), grouped by HS6,
// HS4, HS2, HS6 x origin and overall.
func fitReferences(in *inputs, p *plan, minRef int) []*refTable {
	var out []*refTable
	for _, b := range p.bases {
		uv := in.uv[b]
		for level := range nRef {
			t := &refTable{basis: b, level: level}
			if level == refGlobal {
				vals := make([]float64, 0, len(uv))
				for _, x := range uv {
					if !math.IsNaN(x) {
						vals = append(vals, x)
					}
				}
				slices.Sort(vals)
				if len(vals) > 0 {
					t.add(0, vals, true)
				}
				out = append(out, t)
				continue
			}
			k := p.keyByName(refNames[level])
			if k < 0 {
				continue
			}
			codes := in.codes[k]
			nk := 0
			for _, c := range codes {
				nk = max(nk, int(c)+1)
			}
			// group the values by code (counting sort), then sort each group
			start := make([]int, nk+1)
			for i, c := range codes {
				if c >= 0 && !math.IsNaN(uv[i]) {
					start[c+1]++
				}
			}
			for c := range nk {
				start[c+1] += start[c]
			}
			vals := make([]float64, start[nk])
			next := slices.Clone(start[:nk])
			for i, c := range codes {
				if c >= 0 && !math.IsNaN(uv[i]) {
					vals[next[c]] = uv[i]
					next[c]++
				}
			}
			for c := range nk {
				g := vals[start[c]:start[c+1]]
				if len(g) < minRef {
					continue
				}
				slices.Sort(g)
				t.add(int32(c), g, level != refHS6Origin)
			}
			out = append(out, t)
		}
	}
	return out
}

// add appends the reference of sorted values for one code.
func (t *refTable) add(code int32, sorted []float64, withQuantiles bool) {
	med := stats.Median(sorted)
	t.codes = append(t.codes, code)
	t.n = append(t.n, int64(len(sorted)))
	t.median = append(t.median, med)
	t.mad = append(t.mad, stats.MAD(sorted, med))
	if withQuantiles {
		for q := range nQuantiles {
			t.quantiles = append(t.quantiles, stats.Quantile(sorted, float64(q)/(nQuantiles-1)))
		}
	}
}
