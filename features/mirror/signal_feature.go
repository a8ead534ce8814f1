package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
	"risklane/features"
)

// GroupName is the feature group of the mirror signals in the model's
// feature layer: risklane train --trade FILE --reporter ISO3.
const GroupName = "mirror"

// FeatureMinValue is the smallest flow (US$, larger side) the mirror
// features rank and estimate revenue for, as risklane train (and the Beam
// fit stage) configure them: risklane mirror's --min-value default, so that
// a model's signals agree with that command's gap table.
const FeatureMinValue = 1000

// NewGroup returns the group as package features registers it (see package
// risklane/features/groups): unfitted, to be restored from a saved state or
// configured with trade statistics.
func NewGroup() features.Signal { return &Feature{} }

// Feature is the mirror feature group of package risklane/features: each
// declaration gets the gap statistics of its origin-by-HS6-by-year flow,
// falling back to HS4 and HS2 (Signals.Lookup), as the columns SignalNames.
// Fit builds the signal dictionary from trade statistics, not from the
// declarations' labels; the dictionary is saved in the feature state as JSON
// (Signals.WriteJSON, ReadSignals), so a loaded model applies exactly the
// statistics it was trained with and needs no trade file to score.
//
// The trade statistics are the only input a bare feature group cannot make
// up: the registered factory gives a Feature that can only be loaded, and
// training needs NewFeature (or FeatureOf) in features.Config.Signals.
type Feature struct {
	cfg   Config
	trade []string
	sigs  *Signals
	gaps  *Gaps
	pool  sync.Pool // *featureScratch
}

type featureScratch struct {
	origin, hs []string
	year       []int32
	out        SignalColumns
}

// NewFeature returns the mirror feature group that Fit builds from the
// trade-statistics files (what Analyze reads) with cfg. When cfg has no
// EffectiveRates, Fit takes them from the training declarations (total
// taxes over customs value per HS6, HS4 and HS2; the tax rate times the
// value where total taxes are missing), so that flows without a rate in
// cfg.Tariffs still get a revenue-gap estimate.
func NewFeature(cfg Config, trade ...string) *Feature {
	return &Feature{cfg: cfg, trade: slices.Clone(trade)}
}

// FeatureOf returns the mirror feature group of a dictionary already built
// (Gaps.Signals); Fit keeps it as it is.
func FeatureOf(s *Signals) *Feature { return &Feature{sigs: s} }

// Name returns GroupName.
func (f *Feature) Name() string { return GroupName }

// Features returns SignalNames.
func (f *Feature) Features() []string { return slices.Clone(SignalNames) }

// Signals returns the signal dictionary: nil before Fit or UnmarshalJSON.
func (f *Feature) Signals() *Signals { return f.sigs }

// Gaps returns the gap table Fit computed from the trade statistics (rows
// read and rejected are in its Summary and Rejects); nil when the feature
// was made by FeatureOf or loaded.
func (f *Feature) Gaps() *Gaps { return f.gaps }

// Fit reads the trade statistics and builds the signal dictionary.
func (f *Feature) Fit(batches []arrow.RecordBatch) error {
	if len(f.trade) == 0 {
		if f.sigs != nil {
			return nil
		}
		return errors.New("mirror: the mirror features need trade statistics: give --trade FILE (Comtrade CSV) and --reporter ISO3 (risklane train), or mirror.NewFeature in features.Config.Signals")
	}
	cfg := f.cfg
	if cfg.EffectiveRates == nil {
		var err error
		if cfg.EffectiveRates, err = declaredRates(batches); err != nil {
			return err
		}
	}
	g, err := Analyze(cfg, f.trade...)
	if err != nil {
		return err
	}
	f.gaps, f.sigs = g, g.Signals()
	return nil
}

// declaredRates returns the effective duty rates of the declarations.
func declaredRates(batches []arrow.RecordBatch) (*Tariffs, error) {
	var d Duties
	for _, b := range batches {
		if err := d.Append(b); err != nil {
			return nil, err
		}
	}
	return EffectiveRates(d.HS, d.Taxes, d.Value), nil
}

// Duties are the declarations' columns EffectiveRates takes, in row order:
// the HS code, the duty charged (total taxes; the tax rate times the value
// where they are missing) and the customs value. The mirror feature group
// fits its rates from them, and so does the Beam fit stage of risklane/beam.
type Duties struct {
	HS           []string
	Taxes, Value []float64
}

// Append adds the rows of a batch in the canonical schema.
func (d *Duties) Append(b arrow.RecordBatch) error {
	hsAt, err := stringColumn(b, decl.HSCode)
	if err != nil {
		return err
	}
	am, err := decl.ReadAmounts(b)
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	tax, err := decl.Float64s(b, decl.TotalTaxes)
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	rate, err := decl.Float64s(b, decl.TaxRate)
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	for i := range int(b.NumRows()) {
		h, _ := hsAt(i)
		v := am.Value(i)
		t := decl.FloatAt(tax, i)
		if math.IsNaN(t) {
			t = decl.FloatAt(rate, i) * v / 100
		}
		d.HS = append(d.HS, h)
		d.Taxes = append(d.Taxes, t)
		d.Value = append(d.Value, v)
	}
	return nil
}

// Apply writes the mirror signals of every row of rec into out (one slice
// per SignalNames entry, rec.NumRows() long): mirror_level as 6, 4, 2 or 0
// (no statistics), the others NaN when unknown. Rows with a null origin, HS
// code or date get no signal. It is safe for concurrent use.
func (f *Feature) Apply(rec arrow.RecordBatch, out [][]float64) error {
	if f.sigs == nil {
		return errors.New("mirror: the mirror features are applied before they are built")
	}
	n := int(rec.NumRows())
	if err := features.CheckOutput("mirror", SignalNames, out, n); err != nil {
		return err
	}
	sc, _ := f.pool.Get().(*featureScratch)
	if sc == nil {
		sc = new(featureScratch)
	}
	defer f.pool.Put(sc)
	if err := sc.read(rec); err != nil {
		return err
	}
	if err := f.sigs.Apply(sc.origin, sc.hs, sc.year, &sc.out); err != nil {
		return err
	}
	for i := range n {
		out[0][i] = float64(sc.out.Level[i])
	}
	copy(out[1], sc.out.RelGap)
	copy(out[2], sc.out.LogRatio)
	copy(out[3], sc.out.UVRatio)
	copy(out[4], sc.out.RevenueShare)
	return nil
}

// noYear is the year of a row without a date: no statistics have it.
const noYear = math.MinInt32

func (sc *featureScratch) read(rec arrow.RecordBatch) error {
	n := int(rec.NumRows())
	origin, err := stringColumn(rec, decl.OriginCountry)
	if err != nil {
		return err
	}
	hs, err := stringColumn(rec, decl.HSCode)
	if err != nil {
		return err
	}
	da, ok := decl.Field(rec, decl.Date)
	if !ok {
		return fmt.Errorf("mirror: the mirror features need column %s, which the data lacks", decl.Date)
	}
	date, ok := da.(*array.Date32)
	if !ok {
		return fmt.Errorf("mirror: column %s is %s; the canonical schema has date32", decl.Date, da.DataType())
	}
	sc.origin, sc.hs, sc.year = resize(sc.origin, n), resize(sc.hs, n), resize(sc.year, n)
	for i := range n {
		o, okO := origin(i)
		h, okH := hs(i)
		if !okO || !okH || date.IsNull(i) {
			sc.origin[i], sc.hs[i], sc.year[i] = "", "", noYear
			continue
		}
		sc.origin[i], sc.hs[i] = o, h
		sc.year[i] = int32(time.Unix(int64(date.Value(i))*86400, 0).UTC().Year())
	}
	return nil
}

// MarshalJSON saves the signal dictionary as Signals.WriteJSON writes it.
func (f *Feature) MarshalJSON() ([]byte, error) {
	if f.sigs == nil {
		return nil, errors.New("mirror: the mirror features are saved before they are built")
	}
	var buf bytes.Buffer
	if err := f.sigs.WriteJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// UnmarshalJSON restores a dictionary saved by MarshalJSON.
func (f *Feature) UnmarshalJSON(b []byte) error {
	s, err := ReadSignals(bytes.NewReader(b))
	if err != nil {
		return err
	}
	f.sigs = s
	return nil
}

// stringColumn returns a reader of a string column, plain or
// dictionary-encoded; it reports false for a null.
func stringColumn(rec arrow.RecordBatch, name string) (func(i int) (string, bool), error) {
	t, ok, err := decl.Strings(rec, name)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("mirror: the mirror features need column %s, which the data lacks", name)
	}
	return t.Value, nil
}
