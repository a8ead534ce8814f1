package pricecluster

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/decl"
	"risklane/features"
)

// GroupName is the feature group of the price clusters in the model's
// feature layer: risklane train --features +cluster.
const GroupName = "cluster"

// SignalSeed is the seed of the clusters a model's feature layer fits. It is
// the default --seed of risklane cluster, so that a model's clusters are the
// ones that command finds on the same training file.
const SignalSeed = 1

// NewGroup returns the group as package features registers it (see package
// risklane/features/groups): unfitted, with the default settings and
// SignalSeed.
func NewGroup() features.Signal { return NewSignal(SignalConfig()) }

// SignalConfig is the configuration of the clusters a model's feature layer
// fits: the defaults, and SignalSeed.
func SignalConfig() Config { return Config{Seed: SignalSeed} }

// Signal is the price-cluster feature group of package risklane/features:
// Fit clusters the unit values of the training declarations (Fit above),
// Apply gives every declaration of a batch its cluster features
// (FeatureNames, from Assignment.Features), and the fitted Model is saved
// in the feature state as JSON (WriteJSON, ReadModel), so that a loaded
// model applies exactly the clusters it was trained with.
//
// The unit value is the customs value (decl.CustomsValue: CIF, else FOB) per
// kg of mass (decl.Mass: net, else gross), or per unit of quantity when there
// is no mass: the same as risklane cluster and the report read.
//
// k-means never sees a label, so fitting it on every training row and
// giving the training rows the features that Apply gives new declarations
// leaks nothing: Signal does not implement features.OutOfFold. As with the
// frequency features, a training row is one of the points its own clusters
// were fitted on; with at least Config.MinGroupRows rows per group one row
// moves a centre very little.
type Signal struct {
	cfg   Config
	model *Model
	pool  sync.Pool // *signalScratch
}

type signalScratch struct {
	cols Rows
	asg  Assignment
}

// NewSignal returns an unfitted price-cluster feature group that Fit will
// fit with cfg.
func NewSignal(cfg Config) *Signal { return &Signal{cfg: cfg} }

// Name returns GroupName.
func (s *Signal) Name() string { return GroupName }

// Features returns FeatureNames.
func (s *Signal) Features() []string { return slices.Clone(FeatureNames) }

// Model returns the fitted clusters, nil before Fit or UnmarshalJSON.
func (s *Signal) Model() *Model { return s.model }

// Fit clusters the unit values of every training row. Labels are not read.
func (s *Signal) Fit(batches []arrow.RecordBatch) error {
	var c Rows
	for _, b := range batches {
		if err := addSignalRows(&c, b); err != nil {
			return err
		}
	}
	m, err := Fit(c.HS6, c.Value, c.Mass, c.Qty, s.cfg)
	if err != nil {
		return err
	}
	s.model = m
	return nil
}

// Apply writes the cluster features of every row of rec into out (one slice
// per FeatureNames entry, rec.NumRows() long). It is safe for concurrent
// use.
func (s *Signal) Apply(rec arrow.RecordBatch, out [][]float64) error {
	if s.model == nil {
		return errors.New("pricecluster: the cluster features are applied before they are fitted")
	}
	n := int(rec.NumRows())
	if err := features.CheckOutput("pricecluster", FeatureNames, out, n); err != nil {
		return err
	}
	sc, _ := s.pool.Get().(*signalScratch)
	if sc == nil {
		sc = new(signalScratch)
	}
	defer s.pool.Put(sc)
	sc.cols.Reset()
	if err := addSignalRows(&sc.cols, rec); err != nil {
		return err
	}
	if err := s.model.Apply(sc.cols.HS6, sc.cols.Value, sc.cols.Mass, sc.cols.Qty, &sc.asg); err != nil {
		return err
	}
	// Features reuses out's slices, which are exactly n long.
	sc.asg.Features(out)
	return nil
}

// MarshalJSON saves the fitted clusters as WriteJSON writes them.
func (s *Signal) MarshalJSON() ([]byte, error) {
	if s.model == nil {
		return nil, errors.New("pricecluster: the cluster features are saved before they are fitted")
	}
	var buf bytes.Buffer
	if err := s.model.WriteJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// UnmarshalJSON restores clusters saved by MarshalJSON, checked as
// ReadModel checks them.
func (s *Signal) UnmarshalJSON(b []byte) error {
	m, err := ReadModel(bytes.NewReader(b), "the cluster feature state")
	if err != nil {
		return err
	}
	s.model, s.cfg = m, m.Config
	return nil
}

// Rows are the unit-value inputs of declarations, column by column: the
// HS6 code (NoHS6 when null or not a code), the customs value and the mass
// (decl.CustomsValue, decl.Mass) and the quantity, NaN where missing. The
// cluster feature group, `risklane cluster` and the report read them here.
type Rows struct {
	HS6              []int32
	Value, Mass, Qty []float64
}

// Reset empties r, keeping its memory.
func (r *Rows) Reset() {
	r.HS6, r.Value, r.Mass, r.Qty = r.HS6[:0], r.Value[:0], r.Mass[:0], r.Qty[:0]
}

// Append appends the rows of rec; a batch without an HS code column is an
// error.
func (r *Rows) Append(rec arrow.RecordBatch) error {
	hs, ok, err := decl.Strings(rec, decl.HSCode)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the data has no %s column", decl.HSCode)
	}
	am, err := decl.ReadAmounts(rec)
	if err != nil {
		return err
	}
	for i := range int(rec.NumRows()) {
		code := NoHS6
		if v, ok := hs.Value(i); ok {
			code = ParseHS6(v)
		}
		r.HS6 = append(r.HS6, code)
		r.Value = append(r.Value, am.Value(i))
		r.Mass = append(r.Mass, am.Mass(i))
		r.Qty = append(r.Qty, am.Quantity(i))
	}
	return nil
}

// addSignalRows appends the rows of rec for the cluster features, which need
// an HS code, a customs value and a mass or quantity column.
func addSignalRows(r *Rows, rec arrow.RecordBatch) error {
	if _, ok := decl.Field(rec, decl.HSCode); !ok {
		return fmt.Errorf("pricecluster: the cluster features need column %s, which the data lacks", decl.HSCode)
	}
	am, err := decl.ReadAmounts(rec)
	switch {
	case err != nil:
		return fmt.Errorf("pricecluster: %w", err)
	case am.CIF == nil && am.FOB == nil:
		return fmt.Errorf("pricecluster: the cluster features need a customs value, and the data has neither %s nor %s", decl.CIFValue, decl.FOBValue)
	case am.Net == nil && am.Gross == nil && am.Qty == nil:
		return fmt.Errorf("pricecluster: the cluster features need a mass or a quantity (%s, %s or %s), and the data has none", decl.NetMassKg, decl.GrossWeightKg, decl.Quantity)
	}
	if err := r.Append(rec); err != nil {
		return fmt.Errorf("pricecluster: %w", err)
	}
	return nil
}

// SignalOf returns the cluster feature group of a model already fitted (by
// Fit, or group by group and NewModel), to put in features.Config.Signals.
func SignalOf(m *Model) *Signal { return &Signal{cfg: m.Config, model: m} }
