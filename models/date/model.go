// Package date is DATE (Dual-Attentive Tree-aware Embedding, Kim, Tsai et
// al., KDD 2020) as a risklane model kind: a tree ensemble's leaves as cross
// features, embedded and refined by self-attention, attended by the
// importer × HS-code query, fused with the importer and HS-code embeddings,
// with a classifier and a revenue head trained jointly. docs/date.md says
// how it is built and verified.
package date

import (
	"sync"

	"risklane/features"
	"risklane/models/explain"
	"risklane/models/scorer"
	"risklane/models/xgb"
)

// Kind is the manifest kind of DATE model folders.
const Kind = "date"

// Model is a trained DATE model. Its scoring methods are safe for concurrent
// use.
type Model struct {
	Config    Config
	State     *features.State
	Trees     *xgb.Model
	Arch      Arch
	Params    []float32
	Importers vocab
	Items     vocab
	// RevScale is the training maximum of log1p(revenue), the scale of the
	// revenue inputs. The revenue head predicts (log1p(revenue) -
	// RevMean) / RevSD: with Config.RevStandard the mean and standard
	// deviation of log1p(revenue) over the illicit training rows, else 0
	// and RevScale (DATE's log1p(revenue) over its maximum).
	RevScale, RevMean, RevSD float64
	// RevCap bounds the log target (RevMean + RevSD x the head's output) at
	// scoring: the Config.RevCap quantile of the illicit training rows';
	// +Inf without.
	RevCap float64
	// CalA and CalB calibrate the probability: sigmoid(CalA logit + CalB)
	// (Config.Calibrate); 1 and 0 without calibration.
	CalA, CalB float64
	History    History

	// revIdx are the positions of the revenue inputs among the feature
	// state's features (Config.RevenueInputs).
	revIdx []int
	// baseCol is 1 + the position of the revenue base (Config.RevBase)
	// among the feature state's features; 0 without.
	baseCol int

	sc *scorer.Scorer
	// expl lists the cross-feature trees' paths, which Contributions weighs
	// by the attention (reasons.go).
	expl *explain.Explainer
	// proj is the leaf projections and embeddings scoring uses
	// (net.leafProjections), works the row workspaces of predict.
	proj   []float32
	works  sync.Pool
	leaves leafTable
	net    *net[float32]
	id     string
	// validation is the report on the validation data train was given.
	validation *[2]string
}
