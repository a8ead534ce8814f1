package features

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"risklane/decl"
	"risklane/sink"
)

// File format of a saved state (features.json in a model directory).
const (
	stateFormat  = "risklane-features"
	stateVersion = 1
)

// wireState is the JSON layout of a State. Statistics are parallel slices
// indexed by code, so a key with many values costs a few numbers each.
type wireState struct {
	Format       string   `json:"format"`
	Version      int      `json:"version"`
	Groups       []string `json:"groups"`
	Columns      []string `json:"columns"`
	Extras       []string `json:"extras"`
	Features     []string `json:"features"`
	Folds        int      `json:"folds"`
	Seed         uint64   `json:"seed"`
	Smoothing    float64  `json:"smoothing"`
	MinReference int      `json:"min_reference"`
	// HalfLife is Config.HalfLife; absent (0) in states saved without one
	// and in those saved before it existed.
	HalfLife   float64      `json:"half_life,omitempty"`
	Rows       int64        `json:"rows"`
	Labelled   int64        `json:"labelled"`
	Prior      float64      `json:"prior"`
	Keys       []wireKey    `json:"keys"`
	References []wireRef    `json:"unit_value_references"`
	Signals    []wireSignal `json:"signals"`
}

// wireKey is one categorical key. A single key lists its values (sorted); a
// pair lists the codes of its components' values. count is the number of
// training rows with each value, rate the smoothed fraud rate.
type wireKey struct {
	Name   string    `json:"name"`
	Values []string  `json:"values,omitempty"`
	A      []int32   `json:"a,omitempty"`
	B      []int32   `json:"b,omitempty"`
	Count  []int64   `json:"count"`
	Rate   []float64 `json:"rate"`
}

// wireRef is the unit-value reference of one basis and level, over the log
// of the unit value; codes index the level's key, quantiles hold 21 values
// (0, 5, ..., 100%) per code.
type wireRef struct {
	Basis     string    `json:"basis"`
	Level     string    `json:"level"`
	Codes     []int32   `json:"codes"`
	N         []int64   `json:"n"`
	Median    []float64 `json:"median"`
	MAD       []float64 `json:"mad"`
	Quantiles []float64 `json:"quantiles,omitempty"`
}

type wireSignal struct {
	Name  string          `json:"name"`
	State json.RawMessage `json:"state"`
}

// MarshalJSON writes the state as features.json holds it.
func (s *State) MarshalJSON() ([]byte, error) {
	w := wireState{
		Format: stateFormat, Version: stateVersion,
		Groups: s.groups, Columns: s.plan.columns, Extras: s.plan.extras, Features: s.names,
		Folds: s.folds, Seed: s.seed, Smoothing: s.smoothing, MinReference: s.minReference, HalfLife: s.halfLife,
		Rows: s.rows, Labelled: s.labelled, Prior: s.prior,
		Keys: []wireKey{}, References: []wireRef{}, Signals: []wireSignal{},
	}
	if w.Columns == nil {
		w.Columns = []string{}
	}
	if w.Extras == nil {
		w.Extras = []string{}
	}
	for k, kd := range s.plan.keys {
		t := s.keys[k]
		w.Keys = append(w.Keys, wireKey{Name: kd.name, Values: t.values, A: t.a, B: t.b, Count: t.count, Rate: t.rate})
	}
	for _, r := range s.refs {
		w.References = append(w.References, wireRef{
			Basis: r.basis.String(), Level: refNames[r.level], Codes: nonNil(r.codes), N: nonNil(r.n),
			Median: nonNil(r.median), MAD: nonNil(r.mad), Quantiles: r.quantiles,
		})
	}
	for _, sig := range s.plan.signals {
		b, err := sig.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("features: saving signal %s: %w", sig.Name(), err)
		}
		w.Signals = append(w.Signals, wireSignal{Name: sig.Name(), State: b})
	}
	return json.Marshal(w)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// WriteFile saves the state to path atomically.
func (s *State) WriteFile(path string) error {
	b, err := s.MarshalJSON()
	if err != nil {
		return err
	}
	return sink.WriteFileAtomic(path, b)
}

// ReadFile loads a state saved by WriteFile.
func ReadFile(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	defer f.Close()
	s, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Read loads a state from its JSON form and checks that it is whole and
// consistent: a damaged or hand-edited file gives an error, never a state
// that could fail later.
func Read(r io.Reader) (*State, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	s := &State{}
	if err := s.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return s, nil
}

// UnmarshalJSON reads and validates a state written by MarshalJSON.
func (s *State) UnmarshalJSON(b []byte) error {
	var w wireState
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("features: feature state is not valid JSON: %w", err)
	}
	if dec.More() {
		return errors.New("features: feature state has data after its JSON object")
	}
	st, err := fromWire(&w)
	if err != nil {
		return fmt.Errorf("features: feature state: %w", err)
	}
	*s = State{}
	s.groups, s.folds, s.seed, s.smoothing, s.minReference, s.halfLife = st.groups, st.folds, st.seed, st.smoothing, st.minReference, st.halfLife
	s.rows, s.labelled, s.prior = st.rows, st.labelled, st.prior
	s.plan, s.keys, s.refs = st.plan, st.keys, st.refs
	s.prepare()
	return nil
}

func fromWire(w *wireState) (*State, error) {
	if w.Format != stateFormat {
		return nil, fmt.Errorf("format is %q, want %q", w.Format, stateFormat)
	}
	if w.Version != stateVersion {
		return nil, fmt.Errorf("version %d; this risklane reads version %d", w.Version, stateVersion)
	}
	cfg := Config{Groups: w.Groups, Folds: w.Folds, Smoothing: w.Smoothing, MinReference: w.MinReference, HalfLife: w.HalfLife}
	if w.Groups == nil {
		return nil, errors.New("no groups")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if w.Rows < 1 || w.Labelled < 1 || w.Labelled > w.Rows {
		return nil, fmt.Errorf("rows %d, labelled %d: want 1 <= labelled <= rows", w.Rows, w.Labelled)
	}
	if !(w.Prior >= 0 && w.Prior <= 1) {
		return nil, fmt.Errorf("prior %v is not a rate in [0, 1]", w.Prior)
	}
	for i, c := range w.Columns {
		col, ok := decl.Lookup(c)
		if !ok || col.Label || slices.Contains(w.Columns[:i], c) {
			return nil, fmt.Errorf("column %q is not a canonical input column, or is listed twice", c)
		}
	}
	for i, e := range w.Extras {
		if _, ok := decl.Lookup(e); ok || e == "" || slices.Contains(w.Extras[:i], e) {
			return nil, fmt.Errorf("extra attribute %q is empty, canonical or listed twice", e)
		}
	}
	var signals []Signal
	for _, g := range w.Groups {
		if slices.Contains(BuiltinGroups, g) {
			continue
		}
		sig, ok := newRegistered(g)
		if !ok {
			return nil, fmt.Errorf("the model uses feature group %q, which this build of risklane does not have", g)
		}
		i := len(signals)
		if i >= len(w.Signals) || w.Signals[i].Name != g {
			return nil, fmt.Errorf("no saved state for signal %q", g)
		}
		if err := sig.UnmarshalJSON(w.Signals[i].State); err != nil {
			return nil, fmt.Errorf("signal %s: %w", g, err)
		}
		signals = append(signals, sig)
	}
	if len(w.Signals) != len(signals) {
		return nil, fmt.Errorf("%d saved signals for %d signal groups", len(w.Signals), len(signals))
	}
	p := makePlan(w.Groups, func(c string) bool { return slices.Contains(w.Columns, c) }, w.Extras, signals)
	if !slices.Equal(p.columns, w.Columns) {
		return nil, fmt.Errorf("columns %s do not match the features' inputs %s", strings.Join(w.Columns, ","), strings.Join(p.columns, ","))
	}
	if !slices.Equal(p.extras, w.Extras) {
		return nil, fmt.Errorf("extras %s are not used by groups %s", strings.Join(w.Extras, ","), strings.Join(w.Groups, ","))
	}
	if names := p.names(); !slices.Equal(names, w.Features) {
		return nil, fmt.Errorf("features %s do not match what groups %s give on columns %s: %s",
			strings.Join(w.Features, ","), strings.Join(w.Groups, ","), strings.Join(w.Columns, ","), strings.Join(names, ","))
	}
	if err := checkNames(w.Features); err != nil {
		return nil, err
	}
	s := &State{
		groups: w.Groups, folds: w.Folds, seed: w.Seed, smoothing: w.Smoothing, minReference: w.MinReference, halfLife: w.HalfLife,
		rows: w.Rows, labelled: w.Labelled, prior: w.Prior, plan: p,
	}
	if len(w.Keys) != len(p.keys) {
		return nil, fmt.Errorf("%d keys, want %d", len(w.Keys), len(p.keys))
	}
	for k, kd := range p.keys {
		t, err := keyFromWire(&w.Keys[k], kd, s.keys)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", kd.name, err)
		}
		s.keys = append(s.keys, t)
	}
	refs, err := refsFromWire(w.References, &p, s.keys)
	if err != nil {
		return nil, err
	}
	s.refs = refs
	return s, nil
}

func keyFromWire(w *wireKey, kd keyDef, prev []*keyTable) (*keyTable, error) {
	if w.Name != kd.name {
		return nil, fmt.Errorf("found key %q in its place", w.Name)
	}
	n := len(w.Count)
	if n == 0 {
		return nil, errors.New("no values")
	}
	if len(w.Rate) != n {
		return nil, fmt.Errorf("%d rates for %d counts", len(w.Rate), n)
	}
	for i := range n {
		if w.Count[i] < 1 {
			return nil, fmt.Errorf("count %d of value %d is not positive", w.Count[i], i)
		}
		if !(w.Rate[i] >= 0 && w.Rate[i] <= 1) {
			return nil, fmt.Errorf("rate %v of value %d is not in [0, 1]", w.Rate[i], i)
		}
	}
	t := &keyTable{count: w.Count, rate: w.Rate}
	if !kd.isPair() {
		if len(w.Values) != n || len(w.A) != 0 || len(w.B) != 0 {
			return nil, fmt.Errorf("a single key needs one value per count (%d values, %d counts)", len(w.Values), n)
		}
		for i := 1; i < n; i++ {
			if w.Values[i-1] >= w.Values[i] {
				return nil, fmt.Errorf("values %q and %q are not sorted and distinct", w.Values[i-1], w.Values[i])
			}
		}
		t.values = w.Values
		return t, nil
	}
	if len(w.A) != n || len(w.B) != n || len(w.Values) != 0 {
		return nil, fmt.Errorf("a pair needs a and b codes per count (%d, %d for %d)", len(w.A), len(w.B), n)
	}
	na, nb := prev[kd.a].len(), prev[kd.b].len()
	for i := range n {
		if w.A[i] < 0 || int(w.A[i]) >= na || w.B[i] < 0 || int(w.B[i]) >= nb {
			return nil, fmt.Errorf("pair %d (%d, %d) is outside the component tables (%d, %d values)", i, w.A[i], w.B[i], na, nb)
		}
		if i > 0 && pairKey(w.A[i-1], w.B[i-1]) >= pairKey(w.A[i], w.B[i]) {
			return nil, fmt.Errorf("pairs %d and %d are not sorted and distinct", i-1, i)
		}
	}
	t.a, t.b = w.A, w.B
	return t, nil
}

func refsFromWire(ws []wireRef, p *plan, keys []*keyTable) ([]*refTable, error) {
	var out []*refTable
	i := 0
	for _, b := range p.bases {
		for level := range nRef {
			keyLen := 1
			if level != refGlobal {
				k := p.keyByName(refNames[level])
				if k < 0 {
					continue
				}
				keyLen = keys[k].len()
			}
			if i >= len(ws) {
				return nil, fmt.Errorf("no unit-value reference for %s per %s", refNames[level], b)
			}
			w := &ws[i]
			i++
			if w.Basis != b.String() || w.Level != refNames[level] {
				return nil, fmt.Errorf("unit-value reference %d is %s per %s, want %s per %s", i, w.Level, w.Basis, refNames[level], b)
			}
			n := len(w.Codes)
			if len(w.N) != n || len(w.Median) != n || len(w.MAD) != n {
				return nil, fmt.Errorf("unit-value reference %s per %s: %d codes, %d counts, %d medians, %d MADs", w.Level, w.Basis, n, len(w.N), len(w.Median), len(w.MAD))
			}
			nq := nQuantiles * n
			if level == refHS6Origin {
				nq = 0
			}
			if len(w.Quantiles) != nq {
				return nil, fmt.Errorf("unit-value reference %s per %s: %d quantiles, want %d", w.Level, w.Basis, len(w.Quantiles), nq)
			}
			for j := range n {
				if w.Codes[j] < 0 || int(w.Codes[j]) >= keyLen || (j > 0 && w.Codes[j-1] >= w.Codes[j]) {
					return nil, fmt.Errorf("unit-value reference %s per %s: code %d is out of range or out of order", w.Level, w.Basis, w.Codes[j])
				}
				if w.N[j] < 1 || !finite(w.Median[j]) || !finite(w.MAD[j]) || w.MAD[j] < 0 {
					return nil, fmt.Errorf("unit-value reference %s per %s, code %d: count %d, median %v, MAD %v", w.Level, w.Basis, w.Codes[j], w.N[j], w.Median[j], w.MAD[j])
				}
			}
			for j, q := range w.Quantiles {
				if !finite(q) || (j%nQuantiles > 0 && w.Quantiles[j-1] > q) {
					return nil, fmt.Errorf("unit-value reference %s per %s: quantiles are not finite and increasing", w.Level, w.Basis)
				}
			}
			out = append(out, &refTable{basis: b, level: level, codes: w.Codes, n: w.N, median: w.Median, mad: w.MAD, quantiles: w.Quantiles})
		}
	}
	if i != len(ws) {
		return nil, fmt.Errorf("%d unit-value references, want %d", len(ws), i)
	}
	return out, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
