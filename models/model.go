// Package models is the model seam: the one interface through which the
// scoring stage, evaluation, the simulator and the report use a trained
// model, whatever its kind (gradient-boosted trees, DATE, GBDT+LR, an
// isolation forest). What a kind can do beyond scoring it says by
// implementing the optional interfaces below; callers discover them with a
// type assertion and do without when a model lacks one.
//
// A model lives in a folder (folder.go) whose manifest's "kind" names the
// code that reads it. Each kind is a Kind value; the kinds risklane knows are
// listed in one visible table, package risklane/models/kinds, whose Load
// reads any model folder and whose Lookup finds the trainer of a kind
// (docs/DESIGN.md, "Model folders and kinds").
package models

import (
	"io"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/models/xgb"
)

// Model is a trained model, loaded and validated once. Its methods are safe
// for concurrent use from several goroutines.
type Model interface {
	// Kind names the model kind, as its manifest does ("gbdt", "date", ...).
	Kind() string
	// ID identifies the model in ranked files and manifests; it is derived
	// from the bytes loaded (Folder.ID), so a changed file changes it.
	ID() string
	// FeatureNames names the features Features writes, in order.
	FeatureNames() []string
	// Columns names the input columns the model reads.
	Columns() []string
	// Check refuses an input schema the model cannot score, saying which
	// columns are missing or of the wrong type.
	Check(schema *arrow.Schema) error
	// Features computes the features of every row of rec, row-major:
	// feats[i*F+f] for row i, feature f (NaN = missing); len(feats) ==
	// rows*F.
	Features(rec arrow.RecordBatch, feats []float64) error
	// Predict scores the rows of rec whose features Features wrote into
	// feats: score[i] is the risk score of row i (higher is riskier; a
	// probability of illicit when the model is Probabilistic), expRev[i] the
	// expected revenue an inspection raises (0 unless the model is a
	// RevenueModel whose HasRevenue is true). Both have one entry per row.
	// Predict runs on the calling goroutine: the scoring stage already runs
	// one worker per core.
	Predict(rec arrow.RecordBatch, feats []float64, score, expRev []float64) error
}

// Probabilistic is a model whose score is a calibrated probability of
// illicit (a binary:logistic ensemble, DATE's classifier head), as opposed
// to an anomaly score on its own scale.
type Probabilistic interface {
	Model
	Probabilities() bool
}

// RevenueModel is a model that may have a revenue head: when HasRevenue is
// true, Predict fills expRev and a ranking by expected revenue is
// meaningful (CheckRankBy).
type RevenueModel interface {
	Model
	HasRevenue() bool
}

// Explainer attributes a row's margin to its features, for the reasons an
// officer reads. Contributions adds the contribution of each feature of x
// (one row of features, len F) to contrib[f] (len F) and returns the row's
// margin, which equals the model's bias plus the sum of the contributions.
type Explainer interface {
	Model
	Contributions(x, contrib []float64) float64
}

// ExactExplainer gives exact per-feature contributions: Shapley values
// (TreeSHAP), as XGBoost's predict(pred_contribs=True), whose bias column is
// Bias. They cost far more than Explainer's (docs/interop.md), so callers ask
// for them only on request.
type ExactExplainer interface {
	Model
	ExactContributions(x, contrib []float64) float64
	Bias() float64
}

// LeafIndexer gives the leaf each row falls in, one per tree: the cross
// features of DATE and GBDT+LR, and the embeddings of diversity
// exploration. leaves[i*T+t] for row i, tree t.
type LeafIndexer interface {
	Model
	NumTrees() int
	Leaves(feats []float64, rows int, leaves []int32) error
}

// Ensemble is a model backed by an XGBoost-compatible tree ensemble over
// the features of a fitted feature state, from which rules can be read.
// TrainRows is the number of rows the state was fitted on (0 when unknown):
// rules refit the state when they are given the same rows.
type Ensemble interface {
	Model
	Trees() *xgb.Model
	FeatureState() *features.State
	TrainRows() int
}

// Summarizer writes what training produced (trees, metrics, the most
// important features), as `risklane train` prints it; top bounds the list of
// features.
type Summarizer interface {
	Model
	WriteSummary(w io.Writer, top int)
}

// Provenance says what a model was trained on, as its manifest records it.
type Provenance struct {
	Profile string
	Inputs  []string
	Created time.Time
	// Labelled is the number of labelled training rows (0: unknown).
	Labelled int
}

// Described is a model that records its provenance.
type Described interface {
	Model
	Provenance() Provenance
}
