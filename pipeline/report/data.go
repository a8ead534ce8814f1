package report

import (
	"fmt"
	"math"

	"risklane/models/metrics"
)

// Data is everything a report shows. Each section is computed by its own
// function (NewMetrics, NewScoreHistogram, NewPriceSection, NewMirrorSection,
// NewFraudMap, NewRulesSection, ReadRanked); a nil section is shown with the
// reason given in Unavailable, or "not available" when there is none.
type Data struct {
	// Title heads the page; Subtitle says what was evaluated on what.
	Title, Subtitle string
	// Facts are short "name: value" lines under the title (model, inputs,
	// rows).
	Facts []Fact

	Metrics *MetricsSection
	Scores  *ScoreHistogram
	Prices  *PriceSection
	Mirror  *MirrorSection
	Map     *FraudMap
	Rules   *RulesSection
	Ranked  *RankedSection
	// Forecast and Release are the tables of risklane forecast and
	// risklane release-time (NewForecastSection, NewReleaseSection).
	Forecast *ForecastSection
	Release  *ReleaseSection
	// Simulation is the table of risklane simulate
	// (NewSimulationSection).
	Simulation *SimulationSection

	// Unavailable says why a section is missing, by section key (the
	// Section* constants).
	Unavailable map[string]string
}

// Fact is one line of the report's header.
type Fact struct{ Name, Value string }

// Section keys, for Data.Unavailable and the page's anchors.
const (
	SectionMetrics    = "metrics"
	SectionScores     = "scores"
	SectionPrices     = "prices"
	SectionMirror     = "mirror"
	SectionMap        = "map"
	SectionRules      = "rules"
	SectionRanked     = "ranked"
	SectionForecast   = "forecast"
	SectionRelease    = "release"
	SectionSimulation = "simulation"
)

// Sections lists the section keys in page order.
var Sections = []string{SectionMetrics, SectionScores, SectionPrices, SectionMirror, SectionMap, SectionRules, SectionRanked}

// OptionalSections are the analyses that run on their own (risklane
// forecast, risklane release-time, risklane simulate): the page has them only when their table
// is given, and Missing does not list them.
var OptionalSections = []string{SectionForecast, SectionRelease, SectionSimulation}

// Missing returns the keys of the sections that have no data, in page
// order.
func (d *Data) Missing() []string {
	has := map[string]bool{
		SectionMetrics: d.Metrics != nil, SectionScores: d.Scores != nil, SectionPrices: d.Prices != nil,
		SectionMirror: d.Mirror != nil, SectionMap: d.Map != nil, SectionRules: d.Rules != nil, SectionRanked: d.Ranked != nil,
	}
	var out []string
	for _, s := range Sections {
		if !has[s] {
			out = append(out, s)
		}
	}
	return out
}

// SetUnavailable records why a section is missing.
func (d *Data) SetUnavailable(section, why string) {
	if d.Unavailable == nil {
		d.Unavailable = map[string]string{}
	}
	d.Unavailable[section] = why
}

// MetricsSection is the evaluation of the model's ranking as the DATE paper
// reports it, and the curve behind it.
type MetricsSection struct {
	// Report is the metrics.Evaluate result at metrics.DefaultRates and a
	// 0.5 threshold: the numbers `risklane evaluate` prints.
	Report metrics.Report
	// FraudRate is the share of illicit rows among the labelled ones: the
	// precision of inspecting at random.
	FraudRate float64
	// Curve holds Precision, Recall and Revenue at CurveRates.
	Curve []metrics.AtRateResult
}

// CurveRates are the inspection rates, in percent, of the
// precision-by-inspection-rate curve: fine where inspection budgets are
// (up to 10%), coarser beyond.
var CurveRates = curveRates()

func curveRates() []float64 {
	var r []float64
	for v := 0.5; v <= 10; v += 0.5 {
		r = append(r, v)
	}
	for v := 12.0; v <= 30; v += 2 {
		r = append(r, v)
	}
	for v := 35.0; v <= 100; v += 5 {
		r = append(r, v)
	}
	return r
}

// NewMetrics evaluates the ranking given by scores, with the same
// definitions as metrics.Evaluate (labels 1, 0 or metrics.Unknown; revenue
// may be nil).
func NewMetrics(scores []float64, labels []int8, revenue []float64) (*MetricsSection, error) {
	rep, err := metrics.Evaluate(scores, labels, revenue, metrics.DefaultRates, 0.5)
	if err != nil {
		return nil, err
	}
	curve, err := metrics.Evaluate(scores, labels, revenue, CurveRates, 0.5)
	if err != nil {
		return nil, err
	}
	return &MetricsSection{
		Report:    rep,
		FraudRate: float64(rep.Illicit) / float64(rep.N),
		Curve:     curve.AtRates,
	}, nil
}

// At returns the result at one of the report's rates (1, 2, 5, 10), and
// false when it was not computed.
func (m *MetricsSection) At(rate float64) (metrics.AtRateResult, bool) {
	for _, a := range m.Report.AtRates {
		if a.Rate == rate {
			return a, true
		}
	}
	return metrics.AtRateResult{}, false
}

// ScoreHistogram counts scores in equal-width bins over [0, 1], by label.
type ScoreHistogram struct {
	// Edges has len(Clean)+1 bin edges; bin i is [Edges[i], Edges[i+1]),
	// the last one closed.
	Edges []float64
	// Clean, Illicit and Unlabelled count the rows of each label per bin.
	Clean, Illicit, Unlabelled []int
	// Outside counts scores that are NaN or outside [0, 1].
	Outside int
}

// NewScoreHistogram counts scores (probabilities) in bins equal-width bins.
func NewScoreHistogram(scores []float64, labels []int8, bins int) (*ScoreHistogram, error) {
	if len(labels) != len(scores) {
		return nil, fmt.Errorf("report: %d scores but %d labels", len(scores), len(labels))
	}
	if bins < 1 {
		return nil, fmt.Errorf("report: %d score bins; give at least 1", bins)
	}
	h := &ScoreHistogram{
		Edges: make([]float64, bins+1),
		Clean: make([]int, bins), Illicit: make([]int, bins), Unlabelled: make([]int, bins),
	}
	for i := range h.Edges {
		h.Edges[i] = float64(i) / float64(bins)
	}
	for i, s := range scores {
		if !(s >= 0 && s <= 1) {
			h.Outside++
			continue
		}
		b := min(int(s*float64(bins)), bins-1)
		switch labels[i] {
		case metrics.Illicit:
			h.Illicit[b]++
		case metrics.Clean:
			h.Clean[b]++
		default:
			h.Unlabelled[b]++
		}
	}
	return h, nil
}

// sum adds up counts.
func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// share returns 100*a/b, NaN when b is 0.
func share(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return 100 * a / b
}
