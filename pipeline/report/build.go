package report

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
	"risklane/features"
	"risklane/features/mirror"
	"risklane/features/pricecluster"
	"risklane/models/metrics"
)

// Inputs are what Build makes a report from: the outputs of the other
// stages. Only Declarations is required; every other missing input leaves
// its sections unavailable.
type Inputs struct {
	Title, Subtitle string
	Facts           []Fact
	// Declarations are the evaluation data in the canonical schema, with
	// labels where they are known.
	Declarations []arrow.RecordBatch
	// Scores are the model's probabilities, one per row of Declarations, in
	// order; nil when there is no model.
	Scores []float64
	// Gaps is a mirror analysis of the reporter's trade statistics.
	Gaps *mirror.Gaps
	// Ranked is the top of a ranked file (ReadRanked); its rows get their
	// known outcome from Declarations.
	Ranked *RankedSection
	// Rules are the model's strongest decision paths.
	Rules *RulesSection
	// Clusters is a clustering of unit values fitted already; nil means fit
	// one on Declarations with Cluster, whose zero value gives the defaults
	// of `risklane cluster` (seed 1).
	Clusters *pricecluster.Model
	Cluster  pricecluster.Config
	// BudgetPct is the inspection rate the fraud map counts the model's
	// catches at; 0 means 5.
	BudgetPct float64
	// Forecast and Release are the sections of the forecast and
	// release-time tables, made already; nil leaves them unavailable.
	Forecast *ForecastSection
	Release  *ReleaseSection
	// Simulation is the section of a simulate table; nil leaves it out.
	Simulation *SimulationSection
	// Missing says why an input is absent, by section key, for the
	// sections it leaves unavailable.
	Missing map[string]string
}

// Sizes of the sections Build makes.
const (
	ScoreBins   = 20
	PriceGroups = 4
	PriceBins   = 30
	MirrorFlows = 15
)

// Columns are the per-declaration columns the report reads.
type Columns struct {
	IDs, Origin []string
	// Rows are the unit-value inputs `risklane cluster` reads.
	pricecluster.Rows
	Labels  []int8
	Revenue []float64 // NaN when unknown
}

// ReadColumns extracts the report's columns from batches in the canonical
// schema.
func ReadColumns(batches []arrow.RecordBatch) (*Columns, error) {
	c := &Columns{}
	for _, rec := range batches {
		n := int(rec.NumRows())
		ids, err := decl.Need[*array.String](rec, decl.DeclarationID)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		origin, _, err := decl.Get[*array.String](rec, decl.OriginCountry)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		if _, err := decl.Need[*array.String](rec, decl.HSCode); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		if err := c.Append(rec); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		rev, err := decl.Float64s(rec, decl.Revenue)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		for i := range n {
			c.IDs = append(c.IDs, value(ids, i))
			c.Origin = append(c.Origin, value(origin, i))
			c.Revenue = append(c.Revenue, decl.FloatAt(rev, i))
		}
		if c.Labels, err = features.ReadLabels(rec, c.Labels); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}
	return c, nil
}

func value(a *array.String, i int) string {
	if a == nil || a.IsNull(i) {
		return ""
	}
	return a.Value(i)
}

// FitClusters clusters the unit values of cols per HS6 as `risklane
// cluster` does; a zero cfg.Seed means seed 1, the command's default.
func FitClusters(cols *Columns, cfg pricecluster.Config) (*pricecluster.Model, error) {
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	pm, err := pricecluster.Fit(cols.HS6, cols.Value, cols.Mass, cols.Qty, cfg)
	if err != nil {
		return nil, fmt.Errorf("report: unit-value clusters: %w", err)
	}
	return pm, nil
}

// NoLabels is the reason given for the sections that need inspected
// declarations when none of the data has a label.
const NoLabels = "none of these declarations has been inspected (no illicit label), so nothing can be measured against what inspection found."

// Build computes every section it has the inputs for.
func Build(in Inputs) (*Data, error) {
	d := &Data{Title: in.Title, Subtitle: in.Subtitle, Facts: in.Facts, Rules: in.Rules, Ranked: in.Ranked,
		Forecast: in.Forecast, Release: in.Release, Simulation: in.Simulation}
	if d.Title == "" {
		d.Title = "risklane report"
	}
	for k, v := range in.Missing {
		d.SetUnavailable(k, v)
	}
	cols, err := ReadColumns(in.Declarations)
	if err != nil {
		return nil, err
	}
	n := len(cols.IDs)
	budget := in.BudgetPct
	if budget == 0 {
		budget = 5
	}
	labelled := false
	for _, l := range cols.Labels {
		if l != metrics.Unknown {
			labelled = true
			break
		}
	}
	if in.Scores != nil {
		if len(in.Scores) != n {
			return nil, fmt.Errorf("report: %d scores for %d declarations", len(in.Scores), n)
		}
		if d.Scores, err = NewScoreHistogram(in.Scores, cols.Labels, ScoreBins); err != nil {
			return nil, err
		}
		if labelled {
			if d.Metrics, err = NewMetrics(in.Scores, cols.Labels, cols.Revenue); err != nil {
				return nil, err
			}
			if d.Map, err = NewFraudMap(cols.Origin, cols.Labels, cols.Revenue, in.Scores, budget); err != nil {
				return nil, err
			}
		} else {
			for _, s := range []string{SectionMetrics, SectionMap} {
				d.SetUnavailable(s, NoLabels)
			}
		}
	} else {
		for _, s := range []string{SectionMetrics, SectionScores, SectionMap} {
			if d.Unavailable[s] == "" {
				d.SetUnavailable(s, "no model was given, so nothing was scored.")
			}
		}
	}
	pm := in.Clusters
	if pm == nil {
		if pm, err = FitClusters(cols, in.Cluster); err != nil {
			return nil, err
		}
	}
	var a pricecluster.Assignment
	if err := pm.Apply(cols.HS6, cols.Value, cols.Mass, cols.Qty, &a); err != nil {
		return nil, fmt.Errorf("report: unit-value clusters: %w", err)
	}
	if d.Prices, err = NewPriceSection(pm, &a, cols.Labels, PriceGroups, PriceBins); err != nil {
		return nil, err
	}
	if in.Gaps != nil {
		d.Mirror = NewMirrorSection(in.Gaps, MirrorFlows)
	} else if d.Unavailable[SectionMirror] == "" {
		d.SetUnavailable(SectionMirror, "no trade statistics were given (--trade).")
	}
	if d.Ranked != nil && d.Ranked.Outcome == nil {
		d.Ranked.AttachLabels(cols.IDs, cols.Labels)
	}
	return d, nil
}
