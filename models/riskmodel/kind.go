package riskmodel

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/models"
	"risklane/models/xgb"
)

// KindName is the kind of model this package trains and reads: the
// manifest's "kind" and the train command's --model value.
const KindName = models.DefaultKind

// Kind is this package's entry in the table of model kinds
// (risklane/models/kinds).
var Kind = models.Kind{
	Name:   KindName,
	Doc:    "gradient-boosted trees (XGBoost-compatible) for P(illicit), and a revenue head for expected revenue",
	Load:   func(f *models.Folder) (models.Model, error) { return load(f) },
	Train:  recipe.Train,
	Params: recipe.Params(),
	Groups: DefaultGroups,
}

// recipe starts from DefaultConfig with the feature configuration, seed,
// data description and logging of the TrainConfig; Train takes the
// validation batches itself (early stopping, evaluation).
var recipe = models.Recipe[Config, *Model]{
	Kind:       KindName,
	Settings:   paramTable(),
	RowWeights: true,
	Base: func(tc models.TrainConfig) Config {
		cfg := DefaultConfig()
		cfg.Features = tc.Features
		cfg.Classifier.Seed, cfg.Revenue.Seed = tc.Seed, tc.Seed
		cfg.Profile, cfg.Inputs = tc.Profile, tc.Inputs
		cfg.NoDiagnostics = tc.NoDiagnostics
		cfg.RowHalfLife = tc.RowHalfLife
		cfg.Classifier.EvalLog = tc.EvalLog
		return cfg
	},
	Fit: Train,
}

// param binds one declared parameter to the Config field it sets.
type param = models.Setting[Config]

// paramTable declares the train command's gbdt parameters once: name, doc,
// range and how each sets Config; the defaults are DefaultConfig's. The
// ranges are those gbdt.Train accepts (see models/gbdt/check.go), so a
// value refused here would be refused there too, before any work.
func paramTable() []param {
	d := DefaultConfig().Classifier
	const maxF32 = math.MaxFloat32
	return []param{
		{Param: models.Param{Name: "rounds", Doc: "boosting rounds (trees)", Default: float64(d.NumRounds), Min: 1, Max: 1 << 20, Integer: true},
			Set: func(c *Config, v float64) { c.Classifier.NumRounds = int(v) }},
		{Param: models.Param{Name: "max-depth", Doc: "depth of each tree", Default: float64(d.MaxDepth), Min: 1, Max: 31, Integer: true},
			Set: func(c *Config, v float64) { c.Classifier.MaxDepth = int(v) }},
		{Param: models.Param{Name: "eta", Doc: "learning rate", Default: d.Eta, Min: math.SmallestNonzeroFloat32, Max: maxF32},
			Set: func(c *Config, v float64) { c.Classifier.Eta = v }},
		{Param: models.Param{Name: "subsample", Doc: "share of rows drawn for each tree", Default: d.Subsample, Min: 0, Max: 1},
			Set: func(c *Config, v float64) { c.Classifier.Subsample = v }},
		{Param: models.Param{Name: "colsample-bytree", Doc: "share of features drawn for each tree", Default: d.ColsampleByTree, Min: 0, Max: 1},
			Set: func(c *Config, v float64) { c.Classifier.ColsampleByTree = v }},
		{Param: models.Param{Name: "min-child-weight", Doc: "minimum hessian in a leaf", Default: d.MinChildWeight, Min: 0, Max: maxF32},
			Set: func(c *Config, v float64) { c.Classifier.MinChildWeight = v }},
		{Param: models.Param{Name: "lambda", Doc: "L2 regularisation of leaf weights", Default: d.Lambda, Min: 0, Max: maxF32},
			Set: func(c *Config, v float64) { c.Classifier.Lambda = v }},
		{Param: models.Param{Name: "gamma", Doc: "minimum loss reduction of a split", Default: d.Gamma, Min: 0, Max: maxF32},
			Set: func(c *Config, v float64) { c.Classifier.Gamma = v }},
		{Param: models.Param{Name: "max-bin", Doc: "histogram bins per feature", Default: float64(d.MaxBin), Min: 2, Max: 256, Integer: true},
			Set: func(c *Config, v float64) { c.Classifier.MaxBin = int(v) }},
		{Param: models.Param{Name: "scale-pos-weight", Doc: "weight of illicit rows", Default: d.ScalePosWeight, Min: math.SmallestNonzeroFloat32, Max: maxF32},
			Set: func(c *Config, v float64) { c.Classifier.ScalePosWeight = v }},
		{Param: models.Param{Name: "early-stopping", Doc: "stop when the validation log loss has not improved for this many rounds (0: off)", Default: 0, Min: 0, Max: 1 << 20, Integer: true},
			Set: func(c *Config, v float64) { c.Classifier.EarlyStoppingRounds = int(v) }},
		{Param: models.Param{Name: "workers", Doc: "goroutines for training (0: one per core)", Default: 0, Min: 0, Max: 1 << 16, Integer: true},
			Set: func(c *Config, v float64) { c.Classifier.NumThreads = int(v) }},
		{Param: models.Param{Name: "no-revenue-head", Doc: "train no revenue head (expected revenue is then 0)", Default: 0, Min: 0, Max: 1, Bool: true},
			Set: func(c *Config, v float64) { c.NoRevenueHead = v != 0 }},
	}
}

// ConfigOf turns a kind-neutral training configuration into Config:
// DefaultConfig, the feature configuration and seed, then every parameter
// given.
func ConfigOf(tc models.TrainConfig) (Config, error) { return recipe.Config(tc) }

// The model seam (package risklane/models): Model and the capabilities a
// gbdt model has.
var (
	_ models.Model         = (*Model)(nil)
	_ models.Probabilistic = (*Model)(nil)
	_ models.RevenueModel  = (*Model)(nil)
	_ models.Explainer     = (*Model)(nil)
	_ models.LeafIndexer   = (*Model)(nil)
	_ models.Ensemble      = (*Model)(nil)
	_ models.Summarizer    = (*Model)(nil)
	_ models.Trained       = (*Model)(nil)
	_ models.Described     = (*Model)(nil)
)

// Kind returns KindName.
func (m *Model) Kind() string { return KindName }

// ID returns the model's ID: computed from the bytes loaded, or set by
// Save; "" for a model trained and not yet saved.
func (m *Model) ID() string { return m.Manifest.ID }

// FeatureNames names the state's features, in order.
func (m *Model) FeatureNames() []string { return m.names }

// Columns names the input columns the features read.
func (m *Model) Columns() []string { return m.State.Columns() }

// Check refuses an input schema the features cannot be computed from.
func (m *Model) Check(schema *arrow.Schema) error { return m.State.Check(schema) }

// Features computes the features of rec's rows from the saved state,
// row-major, into feats.
func (m *Model) Features(rec arrow.RecordBatch, feats []float64) error {
	out, err := m.State.TransformRows(rec, feats)
	if err != nil {
		return err
	}
	if len(out) > 0 && &out[0] != &feats[0] {
		copy(feats, out)
	}
	return nil
}

// Predict scores rows on the calling goroutine: score is the probability
// of illicit, expRev the expected revenue (0 without a revenue head).
func (m *Model) Predict(_ arrow.RecordBatch, feats []float64, score, expRev []float64) error {
	return m.predict(feats, score, expRev, 1)
}

// FeatureColumns computes the features of rec's rows from the saved state,
// column by column (cols[j][i] is feature j of row i), in cols' memory when
// it is large enough: the values of Features, without its transpose to rows.
func (m *Model) FeatureColumns(rec arrow.RecordBatch, cols [][]float64) ([][]float64, error) {
	return m.State.Transform(rec, cols)
}

// PredictColumns is Predict for the first len(score) rows of features given
// column by column (FeatureColumns): the same predictions, bit for bit, the
// tree engine rounding its blocks straight from the columns.
func (m *Model) PredictColumns(cols [][]float64, score, expRev []float64) error {
	return m.predictFrom(nil, cols, score, expRev, 1)
}

// Probabilities is true: the classifier is binary:logistic.
func (m *Model) Probabilities() bool { return true }

// HasRevenue says whether the model has a revenue head.
func (m *Model) HasRevenue() bool { return m.Revenue != nil }

// Contributions adds the classifier's per-feature path contributions for
// row x to contrib and returns its margin (package risklane/models/explain).
// The reasons use them: exact ones cost hundreds of times more on the
// default model (docs/interop.md).
func (m *Model) Contributions(x, contrib []float64) float64 { return m.ex.Contributions(x, contrib) }

// ContributionsRows is Contributions for n rows at once (row-major), added
// to out, the very same sums: the native engine finds each row's leaves
// (scorer.PredictLeaves, the scoring walk) and the explainer adds the
// listed path of each leaf (explain.ContributionsLeaves), which costs a
// fraction of walking the trees again with the explainer's own walk
// (docs/scoring-engine.md).
func (m *Model) ContributionsRows(x []float64, n int, out []float64) {
	nf, nt := len(m.names), m.clf.NumTrees()
	p, _ := m.leafIDs.Get().(*[]int32)
	if p == nil {
		p = new([]int32)
	}
	defer m.leafIDs.Put(p)
	for lo := 0; lo < n; lo += contribRows {
		k := min(contribRows, n-lo)
		ids := slices.Grow((*p)[:0], k*nt)[:k*nt]
		*p = ids
		if m.clf.PredictLeaves(x[lo*nf:(lo+k)*nf], k, ids, 1) != nil || m.ex.ContributionsLeaves(ids, k, out[lo*nf:(lo+k)*nf]) != nil {
			// Not for a prepared model (its classifier was validated
			// and both walk the same trees); the explainer's own walk
			// gives the same sums.
			m.ex.ContributionsRows(x[lo*nf:(lo+k)*nf], k, out[lo*nf:(lo+k)*nf])
		}
	}
}

// contribRows is how many rows ContributionsRows takes at once: their leaf
// ids (rows x trees) stay a few hundred KB.
const contribRows = 256

// ExactContributions adds the classifier's exact per-feature contributions
// (TreeSHAP, as XGBoost's pred_contribs) for row x to contrib and returns
// its margin.
func (m *Model) ExactContributions(x, contrib []float64) float64 { return m.ex.SHAP(x, contrib, nil) }

// Bias is the part of every margin no feature explains (XGBoost's
// pred_contribs bias column).
func (m *Model) Bias() float64 { return m.ex.Bias() }

// NumTrees is the number of trees of the classifier.
func (m *Model) NumTrees() int { return m.clf.NumTrees() }

// Leaves writes the classifier's leaf index of each row in each tree.
func (m *Model) Leaves(feats []float64, rows int, leaves []int32) error {
	return m.clf.PredictLeaves(feats, rows, leaves, 1)
}

// Trees returns the classifier.
func (m *Model) Trees() *xgb.Model { return m.Classifier }

// FeatureState returns the fitted feature state.
func (m *Model) FeatureState() *features.State { return m.State }

// TrainRows is the number of rows the model was trained on.
func (m *Model) TrainRows() int { return m.Metrics.Train.Rows }

// WriteSummary writes what training produced, as `risklane train` prints
// it: the trees, the validation metrics and the top most important
// features.
func (m *Model) WriteSummary(w io.Writer, top int) {
	mt := m.Metrics
	c := m.Manifest.Classifier
	fmt.Fprintf(w, "Features: %d (groups %s)\n", mt.Train.Features, strings.Join(m.Manifest.Groups, ","))
	fmt.Fprintf(w, "Classifier: %d trees (depth %d, eta %g, subsample %g, colsample_bytree %g) on %d labelled rows, %d illicit\n",
		mt.Train.Trees, c.MaxDepth, c.Eta, c.Subsample, c.ColsampleByTree, mt.Train.Labelled, mt.Train.Illicit)
	if m.Revenue != nil {
		fmt.Fprintf(w, "Revenue head: %d trees on %d illicit rows with revenue\n", len(m.Revenue.Trees), mt.RevenueHead.Rows)
	} else if mt.RevenueHead.Note != "" {
		fmt.Fprintf(w, "Revenue head: %s\n", mt.RevenueHead.Note)
	}
	fmt.Fprintf(w, "Trained in %.1fs\n", mt.TrainSeconds)
	if mt.Validation != nil {
		fmt.Fprintf(w, "\nValidation, ranked by probability:\n%s", mt.Validation)
		if mt.ValidationByRevenue != nil && m.Revenue != nil {
			fmt.Fprintf(w, "\nValidation, ranked by expected revenue:\n%s", mt.ValidationByRevenue)
		}
	}
	if top > 0 && len(mt.Importance) > 0 {
		fmt.Fprintf(w, "\nMost important features (share of the classifier's total gain):\n")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "rank\tfeature\tgroup\tgain\tsplits")
		for i, im := range mt.Importance[:min(top, len(mt.Importance))] {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%.1f%%\t%d\n", i+1, im.Feature, im.Group, 100*im.Share, im.Splits)
		}
		tw.Flush()
	}
}

// Provenance returns what the manifest and metrics record of the training.
func (m *Model) Provenance() models.Provenance {
	return models.Provenance{Profile: m.Manifest.Profile, Inputs: m.Manifest.Inputs, Created: m.Manifest.Created, Labelled: m.Metrics.Train.Labelled}
}
