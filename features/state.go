package features

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/decl"
	"risklane/stats"
)

// State is a fitted feature layer. It is safe for concurrent use: Transform
// and TransformRows keep their scratch space in a pool.
type State struct {
	groups       []string
	folds        int
	seed         uint64
	smoothing    float64
	minReference int
	halfLife     float64 // days; 0: unweighted fraud rates
	rows         int64
	labelled     int64
	prior        float64

	plan  plan
	names []string
	keys  []*keyTable
	refs  []*refTable // nBasis x nRef, index basisIndex*nRef+level

	index     []map[string]int32 // per single key: value -> code
	pairIndex []map[uint64]int32 // per pair key: codes of (a, b) -> code
	refOf     [][]int32          // per ref table: key code -> entry, -1 none
	// hsUp[m][l][c], for HS levels l < m (0, 1, 2: HS2, HS4, HS6), is the
	// code in level l's key of the first 2(l+1) digits of level m's value c,
	// -1 when that key has no such value; nil when either level is not a
	// plan key. A row's HS6 code gives its HS4 and HS2 codes without their
	// lookups (encode).
	hsUp [3][3][]int32

	pool sync.Pool
}

// keyTable holds one categorical key: its values (or, for a pair, the codes
// of its two components), how often each occurs in the training history,
// and its smoothed fraud rate over the whole history.
type keyTable struct {
	values []string
	a, b   []int32
	count  []int64
	rate   []float64
}

func (t *keyTable) len() int { return len(t.count) }

// refTable is a unit-value reference at one level: for each key code with
// enough unit values, their count, median, median absolute deviation and
// quantiles, all of the natural log of the unit value.
type refTable struct {
	basis     basis
	level     int
	codes     []int32
	n         []int64
	median    []float64
	mad       []float64
	quantiles []float64 // nQuantiles per entry; empty for the HS6 x origin level
}

// Names returns the feature names, in output order.
func (s *State) Names() []string { return slices.Clone(s.names) }

// Groups returns the feature groups the state was fitted with.
func (s *State) Groups() []string { return slices.Clone(s.groups) }

// Columns returns the input columns the features read: canonical columns
// and extra attributes.
func (s *State) Columns() []string {
	return append(slices.Clone(s.plan.columns), s.plan.extras...)
}

// GroupOf returns the group of each feature, parallel to Names.
func (s *State) GroupOf() []string {
	out := make([]string, len(s.plan.feats))
	for i, f := range s.plan.feats {
		out[i] = f.group
	}
	return out
}

// Check reports whether batches with this schema can be transformed: an
// error names every input column the features need that the schema lacks.
func (s *State) Check(schema *arrow.Schema) error {
	var missing []string
	for _, c := range s.Columns() {
		if !schema.HasField(c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("features: the data lacks column(s) %s that the model was trained with; map them in the profile or retrain without them", strings.Join(missing, ", "))
	}
	return nil
}

// scratch is the per-call working space of Transform.
type scratch struct {
	in   inputs
	vals [][]float64 // per key: rate with fallback
	cols [][]float64 // column-major output of TransformRows
	buf  []byte
}

// inputs are the encoded columns of a set of rows.
type inputs struct {
	n     int
	codes [][]int32 // per plan key
	num   [nNum][]float64
	days  []int32
	hs    [3][]float64 // HS2, HS4, HS6 as numbers
	uv    [2][]float64 // log unit value per basis
	// refT and refE: per basis, each row's unit-value reference (table and
	// entry; nil table: none), found once per fill for all the features of
	// the basis (uvRefs); refDone says which are found.
	refT    [2][]*refTable
	refE    [2][]int32
	refDone [2]bool
}

// prepare builds the lookup structures of a state that is fitted or loaded.
func (s *State) prepare() {
	s.names = s.plan.names()
	s.index = make([]map[string]int32, len(s.keys))
	s.pairIndex = make([]map[uint64]int32, len(s.keys))
	for k, kd := range s.plan.keys {
		t := s.keys[k]
		if kd.isPair() {
			m := make(map[uint64]int32, t.len())
			for i := range t.a {
				m[pairKey(t.a[i], t.b[i])] = int32(i)
			}
			s.pairIndex[k] = m
			continue
		}
		m := make(map[string]int32, t.len())
		for i, v := range t.values {
			m[v] = int32(i)
		}
		s.index[k] = m
	}
	s.refOf = make([][]int32, len(s.refs))
	for i, r := range s.refs {
		if r == nil || r.level == refGlobal {
			continue
		}
		n := s.keys[s.refKey(r.level)].len()
		look := make([]int32, n)
		for j := range look {
			look[j] = -1
		}
		for j, c := range r.codes {
			look[c] = int32(j)
		}
		s.refOf[i] = look
	}
	s.hsUp = [3][3][]int32{}
	for from, fname := range []string{"hs2", "hs4", "hs6"} {
		kf := s.plan.keyByName(fname)
		if kf < 0 || s.plan.keys[kf].isPair() {
			continue
		}
		for to, tname := range []string{"hs2", "hs4", "hs6"}[:from] {
			kt := s.plan.keyByName(tname)
			if kt < 0 || s.plan.keys[kt].isPair() {
				continue
			}
			d := 2 * (to + 1)
			up := make([]int32, s.keys[kf].len())
			for c, v := range s.keys[kf].values {
				up[c] = -1
				if len(v) >= d {
					if code, ok := s.index[kt][v[:d]]; ok {
						up[c] = code
					}
				}
			}
			s.hsUp[from][to] = up
		}
	}
	s.pool.New = func() any { return &scratch{} }
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// keyByName returns the index of the plan key with the given name, or -1.
func (p *plan) keyByName(name string) int {
	for i, k := range p.keys {
		if k.name == name {
			return i
		}
	}
	return -1
}

// refKey returns the key a reference level is indexed by.
func (s *State) refKey(level int) int {
	return s.plan.keyByName(refNames[level])
}

// refTableOf returns the reference table of a basis and level, or nil.
func (s *State) refTableOf(b basis, level int) (*refTable, []int32) {
	for i, r := range s.refs {
		if r.basis == b && r.level == level {
			return r, s.refOf[i]
		}
	}
	return nil, nil
}

// Transform computes the features of every row of rec, column by column, as
// a scoring run sees them (statistics of the whole training history). dst's
// slices are reused when they are large enough; the result has one slice per
// feature of rec.NumRows() values, NaN where a value is missing.
func (s *State) Transform(rec arrow.RecordBatch, dst [][]float64) ([][]float64, error) {
	sc := s.pool.Get().(*scratch)
	defer s.pool.Put(sc)
	return s.transform(rec, dst, sc)
}

func (s *State) transform(rec arrow.RecordBatch, dst [][]float64, sc *scratch) ([][]float64, error) {
	if err := s.Check(rec.Schema()); err != nil {
		return nil, err
	}
	n := int(rec.NumRows())
	dst = growCols(dst, len(s.names), n)
	if err := s.encode(rec, &sc.in, &sc.buf); err != nil {
		return nil, err
	}
	sc.vals = growCols(sc.vals, len(s.keys), n)
	s.fill(&sc.in, sc.vals, dst, nil)
	if err := s.applySignals(rec, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// TransformRows is Transform with the result row-major, as the tree scorer
// takes it: dst[i*len(Names())+j] is feature j of row i. dst is reused when
// it is large enough.
func (s *State) TransformRows(rec arrow.RecordBatch, dst []float64) ([]float64, error) {
	sc := s.pool.Get().(*scratch)
	defer s.pool.Put(sc)
	cols, err := s.transform(rec, sc.cols, sc)
	if err != nil {
		return nil, err
	}
	sc.cols = cols
	n, nf := int(rec.NumRows()), len(cols)
	if cap(dst) < n*nf {
		dst = make([]float64, n*nf)
	}
	dst = dst[:n*nf]
	for j, c := range cols {
		for i, v := range c {
			dst[i*nf+j] = v
		}
	}
	return dst, nil
}

func (s *State) applySignals(rec arrow.RecordBatch, dst [][]float64) error {
	j := s.plan.firstSignal()
	for _, sig := range s.plan.signals {
		k := len(sig.Features())
		if err := sig.Apply(rec, dst[j:j+k]); err != nil {
			return fmt.Errorf("features: signal %s: %w", sig.Name(), err)
		}
		j += k
	}
	return nil
}

func growCols(dst [][]float64, ncol, n int) [][]float64 {
	if cap(dst) < ncol {
		dst = append(dst[:cap(dst)], make([][]float64, ncol-cap(dst))...)
	}
	dst = dst[:ncol]
	for j := range dst {
		if cap(dst[j]) < n {
			dst[j] = make([]float64, n)
		}
		dst[j] = dst[j][:n]
	}
	return dst
}

func growInt32(dst []int32, n int) []int32 {
	if cap(dst) < n {
		return make([]int32, n)
	}
	return dst[:n]
}

// encode reads the columns of rec into in, with the state's code tables:
// a value the history never had gets code -1.
func (s *State) encode(rec arrow.RecordBatch, in *inputs, buf *[]byte) error {
	n := int(rec.NumRows())
	in.n = n
	if err := readNumeric(rec, s.plan.columns, in); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	if slices.Contains(s.plan.columns, decl.Date) {
		d, err := readDays(rec, in.days[:0])
		if err != nil {
			return fmt.Errorf("features: %w", err)
		}
		in.days = d
	}
	if len(in.codes) < len(s.keys) {
		in.codes = make([][]int32, len(s.keys))
	}
	in.codes = in.codes[:len(s.keys)]
	hasHS := slices.Contains(s.plan.columns, decl.HSCode)
	for k, kd := range s.plan.keys {
		in.codes[k] = growInt32(in.codes[k], n)
		if kd.isPair() || kd.digits > 0 {
			continue
		}
		a, _ := decl.Field(rec, kd.col)
		c, err := newStrCol(a, kd.col)
		if err != nil {
			return fmt.Errorf("features: %w", err)
		}
		idx, codes := s.index[k], in.codes[k]
		for i := 0; i < n; i++ {
			code, ok := idx[c.get(i)]
			if !ok {
				code = -1
			}
			codes[i] = code
		}
	}
	if hasHS {
		a, _ := decl.Field(rec, decl.HSCode)
		c, err := newStrCol(a, decl.HSCode)
		if err != nil {
			return fmt.Errorf("features: %w", err)
		}
		var lev [3]int // key index per HS level, -1 when not a key
		for l, name := range []string{"hs2", "hs4", "hs6"} {
			lev[l] = s.plan.keyByName(name)
		}
		for l := range in.hs {
			in.hs[l] = growFloat(in.hs[l], n)
		}
		up := &s.hsUp
		for i := 0; i < n; i++ {
			digits, b, ok := hsDigits(c.get(i), *buf)
			*buf = b
			// Most specific level first: a level's code, when known, gives
			// the codes of the levels above it without their lookups.
			var cd [3]int32
			for l := 2; l >= 0; l-- {
				cd[l] = -1
				k, d := lev[l], 2*(l+1)
				if k < 0 || !ok || len(digits) < d {
					continue
				}
				derived := false
				for m := l + 1; m <= 2; m++ {
					if cd[m] >= 0 && up[m][l] != nil {
						cd[l], derived = up[m][l][cd[m]], true
						break
					}
				}
				if !derived {
					if code, found := s.index[k][digits[:d]]; found {
						cd[l] = code
					}
				}
			}
			for l, d := range []int{2, 4, 6} {
				v := math.NaN()
				if ok && len(digits) >= d {
					v = hsNumber(digits, d)
				}
				in.hs[l][i] = v
				if k := lev[l]; k >= 0 {
					in.codes[k][i] = cd[l]
				}
			}
		}
	}
	for k, kd := range s.plan.keys {
		if !kd.isPair() {
			continue
		}
		a, b, codes, idx := in.codes[kd.a], in.codes[kd.b], in.codes[k], s.pairIndex[k]
		for i := 0; i < n; i++ {
			code := int32(-1)
			if a[i] >= 0 && b[i] >= 0 {
				if c, ok := idx[pairKey(a[i], b[i])]; ok {
					code = c
				}
			}
			codes[i] = code
		}
	}
	unitValues(in, s.plan.bases)
	return nil
}

func growFloat(dst []float64, n int) []float64 {
	if cap(dst) < n {
		return make([]float64, n)
	}
	return dst[:n]
}

// readNumeric reads the numeric canonical columns among cols of rec into
// in.num, replacing what was there, and derives the customs value and the
// mass by decl.CustomsValue and decl.Mass.
func readNumeric(rec arrow.RecordBatch, cols []string, in *inputs) error {
	for j, name := range numColumns {
		if !slices.Contains(cols, name) {
			in.num[j] = nil
			continue
		}
		v, err := readFloats(rec, name, in.num[j][:0])
		if err != nil {
			return err
		}
		in.num[j] = v
	}
	rows := int(rec.NumRows())
	for _, d := range []struct {
		dst, first, second int
		rule               func(first, second float64) float64
	}{{numValue, numCIF, numFOB, decl.CustomsValue}, {numMass, numNet, numGross, decl.Mass}} {
		first, second := in.num[d.first], in.num[d.second]
		if first == nil && second == nil {
			in.num[d.dst] = nil
			continue
		}
		out := growFloat(in.num[d.dst], rows)
		for i := range out {
			a, b := math.NaN(), math.NaN()
			if first != nil {
				a = first[i]
			}
			if second != nil {
				b = second[i]
			}
			out[i] = d.rule(a, b)
		}
		in.num[d.dst] = out
	}
	return nil
}

// unitValues computes the natural log of value per kg and per unit; NaN
// unless both value and mass (or quantity) are positive.
func unitValues(in *inputs, bases []basis) {
	for _, b := range bases {
		val, den := in.num[numValue], in.num[b.input()]
		out := growFloat(in.uv[b], len(val))
		for i := range val {
			out[i] = math.NaN()
			if val[i] > 0 && den[i] > 0 {
				out[i] = math.Log(val[i] / den[i])
			}
		}
		in.uv[b] = out
	}
}

// Robust z-scores divide by 1.4826 MAD (the standard deviation of a normal
// distribution) plus madFloor, so that a reference of identical unit values
// does not make every other value infinitely far.
const (
	madScale = 1.4826
	madFloor = 0.05
)

// fill writes every built-in feature of the rows in into out. With oof nil
// the rows are scored against the whole history; otherwise they are the
// training rows and take out-of-fold rates and their own counts.
func (s *State) fill(in *inputs, vals, out [][]float64, oof *outOfFold) {
	n := in.n
	in.refDone = [2]bool{}
	for k, kd := range s.plan.keys {
		codes, v, t := in.codes[k], vals[k], s.keys[k]
		var parent []float64
		if kd.parent >= 0 {
			parent = vals[kd.parent]
		}
		for i := 0; i < n; i++ {
			c := codes[i]
			switch {
			case c >= 0 && oof != nil:
				v[i] = oof.rate[k][int(oof.fold[i])*t.len()+int(c)]
			case c >= 0:
				v[i] = t.rate[c]
			case parent != nil:
				v[i] = parent[i]
			case oof != nil:
				v[i] = oof.prior[oof.fold[i]]
			default:
				v[i] = s.prior
			}
		}
	}
	for j, f := range s.plan.feats {
		o := out[j][:n]
		switch f.kind {
		case fHS:
			copy(o, in.hs[f.arg/2-1])
		case fLog:
			for i, x := range in.num[f.arg] {
				o[i] = math.Log1p(x)
			}
		case fCIFFOB:
			cif, fob := in.num[numCIF], in.num[numFOB]
			for i := range o {
				o[i] = ratio(cif[i], fob[i])
			}
		case fLogUV:
			copy(o, in.uv[f.arg])
		case fUVZ, fUVPct, fUVRatio, fUVZOrigin:
			s.fillUV(in, f, o)
		case fTaxRate:
			copy(o, in.num[numTaxRate])
		case fLogDuty:
			val, rate := in.num[numValue], in.num[numTaxRate]
			for i := range o {
				o[i] = math.Log1p(val[i] * rate[i] / 100)
			}
		case fTaxToValue:
			tax, val := in.num[numTaxes], in.num[numValue]
			for i := range o {
				o[i] = ratio(tax[i], val[i])
			}
		case fRisk:
			copy(o, vals[f.key])
		case fFreq:
			count, codes := s.keys[f.key].count, in.codes[f.key]
			for i, c := range codes {
				// A scored row counts itself, as a training row does.
				o[i] = 1
				if c >= 0 {
					o[i] = float64(count[c])
					if oof == nil {
						o[i]++
					}
				}
			}
		case fCode:
			for i, c := range in.codes[f.key] {
				o[i] = math.NaN()
				if c >= 0 {
					o[i] = float64(c)
				}
			}
		case fWeekday, fMonth, fDay:
			for i, d := range in.days {
				o[i] = dateFeature(f.kind, d)
			}
		}
	}
}

func ratio(a, b float64) float64 {
	if b > 0 {
		return a / b
	}
	return math.NaN()
}

func dateFeature(k fkind, d int32) float64 {
	if d == noDay {
		return math.NaN()
	}
	t := time.Unix(int64(d)*86400, 0).UTC()
	switch k {
	case fWeekday:
		return float64(t.Weekday())
	case fMonth:
		return float64(t.Month())
	default:
		return float64(t.Day())
	}
}

// uvRefs returns, for each row of in, the unit-value reference of basis b:
// the HS6 one when it has enough values, else the HS4, the HS2, the global
// one (table nil: none, or a missing unit value). It is found once per fill
// and shared by the features of the basis.
func (s *State) uvRefs(in *inputs, b basis) ([]*refTable, []int32) {
	if in.refDone[b] {
		return in.refT[b], in.refE[b]
	}
	uv := in.uv[b]
	ts := slices.Grow(in.refT[b][:0], len(uv))[:len(uv)]
	es := growInt32(in.refE[b], len(uv))
	var tabs [3]*refTable
	var looks [3][]int32
	var codes [3][]int32
	for l := refHS6; l <= refHS2; l++ {
		tabs[l], looks[l] = s.refTableOf(b, l)
		if k := s.refKey(l); k >= 0 {
			codes[l] = in.codes[k]
		}
	}
	global, _ := s.refTableOf(b, refGlobal)
	for i, x := range uv {
		ts[i], es[i] = nil, 0
		if math.IsNaN(x) {
			continue
		}
		t, e := global, int32(0)
		for l := refHS6; l <= refHS2; l++ {
			if tabs[l] == nil || codes[l] == nil {
				continue
			}
			if c := codes[l][i]; c >= 0 && looks[l][c] >= 0 {
				t, e = tabs[l], looks[l][c]
				break
			}
		}
		ts[i], es[i] = t, e
	}
	in.refT[b], in.refE[b], in.refDone[b] = ts, es, true
	return ts, es
}

// fillUV writes a unit-value position feature. The HS reference is the HS6
// one when it has enough values, else the HS4, the HS2, the global one.
func (s *State) fillUV(in *inputs, f featDef, o []float64) {
	b := basis(f.arg)
	uv := in.uv[b]
	ts, es := s.uvRefs(in, b)
	var pairTab *refTable
	var pairLook, pairCodes []int32
	if f.kind == fUVZOrigin {
		pairTab, pairLook = s.refTableOf(b, refHS6Origin)
		pairCodes = in.codes[f.key]
	}
	ts, es = ts[:len(uv)], es[:len(uv)]
	for i, x := range uv {
		o[i] = math.NaN()
		if math.IsNaN(x) {
			continue
		}
		t, e := ts[i], int(es[i])
		if f.kind == fUVZOrigin && pairTab != nil {
			if c := pairCodes[i]; c >= 0 && pairLook[c] >= 0 {
				t, e = pairTab, int(pairLook[c])
			}
		}
		if t == nil || len(t.n) == 0 {
			continue
		}
		switch f.kind {
		case fUVZ, fUVZOrigin:
			o[i] = (x - t.median[e]) / (madScale*t.mad[e] + madFloor)
		case fUVRatio:
			o[i] = math.Exp(x - t.median[e])
		case fUVPct:
			o[i] = stats.Percentile(t.quantiles[e*nQuantiles:(e+1)*nQuantiles], x)
		}
	}
}
