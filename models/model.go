// Package models is the model seam: the one interface through which the
// scoring stage, evaluation, the simulator and the report use a trained
// model, whatever its kind (gradient-boosted trees, DATE, GBDT+LR, an
// isolation forest). What a kind can do beyond scoring it says by
// implementing the optional interfaces below; callers discover them with a
// type assertion and do without when a model lacks one.
//
// A model lives in a folder with a manifest whose "kind" names the code that
// loads it (docs/DESIGN.md, "Model folders"). Kinds are registered in one
// visible table (package models/kinds), not by blank imports.
package models

import (
	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models/xgb"
)

// Model is a trained model, loaded and validated once. Its methods are safe
// for concurrent use from several goroutines.
type Model interface {
	// Kind names the model kind, as its manifest does ("gbdt", "date", ...).
	Kind() string
	// ID identifies the model in ranked files and manifests; it is derived
	// from the bytes loaded, so a changed file changes it.
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
	// RevenueModel). Both have one entry per row.
	Predict(rec arrow.RecordBatch, feats []float64, score, expRev []float64) error
}

// Probabilistic is a model whose score is a calibrated probability of
// illicit (a binary:logistic ensemble, DATE's classifier head), as opposed
// to an anomaly score on its own scale.
type Probabilistic interface {
	Model
	Probabilities() bool
}

// RevenueModel is a model with a revenue head: Predict fills expRev, and a
// ranking by expected revenue is meaningful.
type RevenueModel interface {
	Model
	HasRevenue() bool
}

// Explainer gives per-feature contributions to one row's margin, for the
// reasons an officer reads: contrib[f] for feature f of x (one row of
// features), with the bias last (len(contrib) == F+1). It returns contrib.
type Explainer interface {
	Model
	Contributions(x, contrib []float64) []float64
}

// LeafIndexer gives the leaf each row falls in, one per tree: the cross
// features of DATE and GBDT+LR, and the embeddings of diversity
// exploration. leaves[i*T+t] for row i, tree t.
type LeafIndexer interface {
	Model
	NumTrees() int
	Leaves(feats []float64, rows int, leaves []int32) error
}

// Ensemble is a model backed by an XGBoost-compatible tree ensemble, from
// which rules can be read.
type Ensemble interface {
	Model
	Trees() *xgb.Model
}
