package features

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// A Tally is the part of a fit that shards of the training history compute
// apart and merge: rows, labels, which columns have data, and per key value
// its rows and labels. With the unit-value references of the same history
// (ReferenceOf, over the values Add reports), Assemble builds from it the
// state Fit fits. It exists for fits spread over many machines (the Beam
// stages, docs/beam.md); Fit itself needs every row's codes at once (the
// out-of-fold rates and the training matrix) and reads the history whole.
//
// Counts are integers, so shards merge exactly in any order. A Tally counts
// every key and pair any group could use; Assemble keeps those the groups
// and the whole history's columns select.
type Tally struct {
	Batches  int64
	Rows     int64
	Labelled int64
	Illicit  int64
	// Columns are the schema's columns: in how many batches, and whether
	// one of them had a non-null value.
	Columns map[string]ColumnSeen
	// Extras are the schema's extra attributes that are not labels, in
	// schema order.
	Extras []string
	// Counts are per key value; they are not in the Tally's JSON (a
	// distributed caller sends them as key-value pairs to sum).
	Counts map[CountKey]KeyCount `json:"-"`
}

// ColumnSeen is a column's presence in the batches of a Tally.
type ColumnSeen struct {
	Batches int64
	Data    bool
}

// CountKey is one value of one key: Key is the plan's key name ("hs6",
// "importer", "extra_x", "hs6_origin"); a pair's value is A and B.
type CountKey struct {
	Key  string
	A, B string
}

// KeyCount is the rows with one key value, and their labels.
type KeyCount struct {
	Rows, Labelled, Illicit int64
}

// Add merges c into k.
func (k *KeyCount) Add(c KeyCount) {
	k.Rows += c.Rows
	k.Labelled += c.Labelled
	k.Illicit += c.Illicit
}

// UnitValueKey names one unit-value reference: the basis ("kg", "unit"),
// the level ("hs6", "hs4", "hs2", "hs6_origin", "global") and the value of
// the level's key (A, and B for hs6_origin's origin).
type UnitValueKey struct {
	Basis, Level string
	A, B         string
}

// NewTally returns an empty Tally.
func NewTally() *Tally {
	return &Tally{Columns: map[string]ColumnSeen{}, Counts: map[CountKey]KeyCount{}}
}

// Add counts the rows of rec, read as Fit reads them, and calls uv with
// every finite log unit value under each reference it belongs to.
func (t *Tally) Add(rec arrow.RecordBatch, uv func(UnitValueKey, float64)) error {
	schema := rec.Schema()
	batch := []arrow.RecordBatch{rec}
	has := availability(batch)
	inSchema := func(col string) bool { return schema.HasField(col) }
	extras, err := extraColumns(batch, inSchema)
	if err != nil {
		return err
	}
	if t.Batches == 0 {
		t.Extras = extras
	} else if !slices.Equal(t.Extras, extras) {
		return fmt.Errorf("features: a batch has extra attributes %v where others had %v; give every shard the same profile", extras, t.Extras)
	}
	t.Batches++
	for _, f := range schema.Fields() {
		c := t.Columns[f.Name]
		c.Batches++
		c.Data = c.Data || has(f.Name)
		t.Columns[f.Name] = c
	}
	// The widest plan: every key and basis the columns allow.
	p := makePlan(BuiltinGroups, inSchema, extras, nil)
	h, err := readHistory(batch, &p)
	if err != nil {
		return err
	}
	t.Rows += rec.NumRows()
	for _, y := range h.labels {
		if y >= 0 {
			t.Labelled++
			t.Illicit += int64(y)
		}
	}
	value := func(k int, code int32) (a, b string) {
		kd, tab := p.keys[k], h.tables[k]
		if kd.isPair() {
			return h.tables[kd.a].values[tab.a[code]], h.tables[kd.b].values[tab.b[code]]
		}
		return tab.values[code], ""
	}
	for k, kd := range p.keys {
		n := len(h.tables[k].values) + len(h.tables[k].a)
		counts := make([]KeyCount, n)
		for i, c := range h.in.codes[k] {
			if c < 0 {
				continue
			}
			counts[c].Rows++
			if y := h.labels[i]; y >= 0 {
				counts[c].Labelled++
				counts[c].Illicit += int64(y)
			}
		}
		for c, kc := range counts {
			a, b := value(k, int32(c))
			key := CountKey{Key: kd.name, A: a, B: b}
			old := t.Counts[key]
			old.Add(kc)
			t.Counts[key] = old
		}
	}
	for _, bs := range p.bases {
		for i, x := range h.in.uv[bs] {
			if math.IsNaN(x) {
				continue
			}
			uv(UnitValueKey{Basis: bs.String(), Level: refNames[refGlobal]}, x)
			for level := range refGlobal {
				k := p.keyByName(refNames[level])
				if k < 0 {
					continue
				}
				if c := h.in.codes[k][i]; c >= 0 {
					a, b := value(k, c)
					uv(UnitValueKey{Basis: bs.String(), Level: refNames[level], A: a, B: b}, x)
				}
			}
		}
	}
	return nil
}

// Merge adds o's counts to t. Both must come from the same profile.
func (t *Tally) Merge(o *Tally) error {
	if o.Batches == 0 {
		return nil
	}
	if t.Batches == 0 {
		t.Extras = o.Extras
	} else if !slices.Equal(t.Extras, o.Extras) {
		return fmt.Errorf("features: shards with extra attributes %v and %v; give every shard the same profile", o.Extras, t.Extras)
	}
	t.Batches += o.Batches
	t.Rows += o.Rows
	t.Labelled += o.Labelled
	t.Illicit += o.Illicit
	for name, c := range o.Columns {
		old := t.Columns[name]
		old.Batches += c.Batches
		old.Data = old.Data || c.Data
		t.Columns[name] = old
	}
	for k, c := range o.Counts {
		old := t.Counts[k]
		old.Add(c)
		t.Counts[k] = old
	}
	return nil
}

// Reference is the unit-value reference of one key value: the count,
// median, median absolute deviation and 21 quantiles (0, 5, ..., 100%) of
// its log unit values.
type Reference struct {
	Key       UnitValueKey
	N         int64
	Median    float64
	MAD       float64
	Quantiles []float64
}

// ReferenceOf computes the reference of one key from all of its log unit
// values, in any order (values is sorted in place), as Fit computes it.
func ReferenceOf(key UnitValueKey, values []float64) Reference {
	slices.Sort(values)
	var t refTable
	t.add(0, values, key.Level != refNames[refHS6Origin])
	return Reference{Key: key, N: t.n[0], Median: t.median[0], MAD: t.mad[0], Quantiles: t.quantiles}
}

// Assemble builds the state that Fit(history, cfg) fits, from the Tally of
// the whole history and the references of every key value with a unit value
// (ReferenceOf; those with fewer than cfg.MinReference values are dropped
// here, as Fit drops them). A signal group of cfg.Groups must come fitted
// in cfg.Signals: Assemble sees no rows to fit it on.
func Assemble(t *Tally, refs []Reference, cfg Config) (*State, error) {
	if cfg.HalfLife != 0 {
		return nil, fmt.Errorf("features: a fraud-rate half-life (%v days) needs each row's date, and a Tally holds counts without dates; fit without a half-life, or with Fit on the whole history", cfg.HalfLife)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if t.Rows == 0 {
		return nil, errors.New("features: no training rows")
	}
	has := func(col string) bool {
		c := t.Columns[col]
		return c.Batches == t.Batches && c.Data
	}
	var extras []string
	for _, e := range t.Extras {
		if has(e) {
			extras = append(extras, e)
		}
	}
	var signals []Signal
	for _, g := range cfg.Groups {
		if slices.Contains(BuiltinGroups, g) {
			continue
		}
		sig := configured(cfg.Signals, g)
		if sig == nil {
			return nil, fmt.Errorf("features: signal group %s must come fitted to Assemble", g)
		}
		signals = append(signals, sig)
	}
	p := makePlan(cfg.Groups, has, extras, signals)
	if err := checkNames(p.names()); err != nil {
		return nil, err
	}
	if len(p.feats) == 0 {
		return nil, fmt.Errorf("features: groups %s give no feature on this data (their columns are missing or empty)", strings.Join(cfg.Groups, ","))
	}
	if t.Labelled == 0 {
		return nil, errors.New("features: no labelled row in the training history (every illicit value is null); fraud rates need inspected rows")
	}
	s := &State{
		groups:       slices.Clone(cfg.Groups),
		folds:        cfg.Folds,
		seed:         cfg.Seed,
		smoothing:    cfg.Smoothing,
		minReference: cfg.MinReference,
		rows:         t.Rows,
		labelled:     t.Labelled,
		prior:        float64(t.Illicit) / float64(t.Labelled),
		plan:         p,
	}
	byKey := map[string][]CountKey{}
	for k := range t.Counts {
		byKey[k.Key] = append(byKey[k.Key], k)
	}
	s.keys = make([]*keyTable, len(p.keys))
	codeOf := make([]map[string]int32, len(p.keys))
	pairOf := make([]map[[2]string]int32, len(p.keys))
	for k, kd := range p.keys {
		vals := byKey[kd.name]
		// Codes are the sorted order of the values, a pair's the order of
		// its components' codes: the order Fit gives them.
		slices.SortFunc(vals, func(x, y CountKey) int {
			return cmp.Or(strings.Compare(x.A, y.A), strings.Compare(x.B, y.B))
		})
		tab := &keyTable{count: make([]int64, len(vals)), rate: make([]float64, len(vals))}
		if kd.isPair() {
			tab.a, tab.b = make([]int32, len(vals)), make([]int32, len(vals))
			pairOf[k] = make(map[[2]string]int32, len(vals))
		} else {
			tab.values = make([]string, len(vals))
			codeOf[k] = make(map[string]int32, len(vals))
		}
		for c, v := range vals {
			kc := t.Counts[v]
			tab.count[c] = kc.Rows
			pr := s.prior
			if kd.isPair() {
				var ok1, ok2 bool
				tab.a[c], ok1 = codeOf[kd.a][v.A]
				tab.b[c], ok2 = codeOf[kd.b][v.B]
				if !ok1 || !ok2 {
					return nil, fmt.Errorf("features: pair %s value (%q, %q) has a component the tally never counted", kd.name, v.A, v.B)
				}
				pairOf[k][[2]string{v.A, v.B}] = int32(c)
			} else {
				tab.values[c] = v.A
				codeOf[k][v.A] = int32(c)
				if kd.parent >= 0 {
					pc, ok := codeOf[kd.parent][v.A[:p.keys[kd.parent].digits]]
					if !ok {
						return nil, fmt.Errorf("features: %s %q has no parent %s in the tally", kd.name, v.A, p.keys[kd.parent].name)
					}
					pr = s.keys[kd.parent].rate[pc]
				}
			}
			tab.rate[c] = smoothed(float64(kc.Illicit), float64(kc.Labelled), cfg.Smoothing, pr)
		}
		s.keys[k] = tab
	}

	byRef := map[[2]string][]Reference{}
	for _, r := range refs {
		byRef[[2]string{r.Key.Basis, r.Key.Level}] = append(byRef[[2]string{r.Key.Basis, r.Key.Level}], r)
	}
	for _, b := range p.bases {
		for level := range nRef {
			tab := &refTable{basis: b, level: level}
			k := -1
			if level != refGlobal {
				if k = p.keyByName(refNames[level]); k < 0 {
					continue
				}
			}
			type entry struct {
				code int32
				r    Reference
			}
			var es []entry
			for _, r := range byRef[[2]string{b.String(), refNames[level]}] {
				if level != refGlobal && r.N < int64(cfg.MinReference) {
					continue
				}
				var code int32
				var ok bool
				switch {
				case level == refGlobal:
					ok = r.N > 0
				case p.keys[k].isPair():
					code, ok = pairOf[k][[2]string{r.Key.A, r.Key.B}]
				default:
					code, ok = codeOf[k][r.Key.A]
				}
				if !ok {
					return nil, fmt.Errorf("features: unit-value reference %s %s %q has no key value in the tally", r.Key.Basis, r.Key.Level, r.Key.A)
				}
				es = append(es, entry{code, r})
			}
			slices.SortFunc(es, func(x, y entry) int { return cmp.Compare(x.code, y.code) })
			for _, e := range es {
				tab.codes = append(tab.codes, e.code)
				tab.n = append(tab.n, e.r.N)
				tab.median = append(tab.median, e.r.Median)
				tab.mad = append(tab.mad, e.r.MAD)
				if level != refHS6Origin {
					tab.quantiles = append(tab.quantiles, e.r.Quantiles...)
				}
			}
			s.refs = append(s.refs, tab)
		}
	}
	s.prepare()
	return s, nil
}
