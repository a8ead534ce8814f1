// Package gbdt trains gradient-boosted decision trees the way XGBoost's
// "hist" tree method does, in pure Go, and returns them as an *xgb.Model that
// XGBoost itself can load and score identically.
//
// Training follows XGBoost 1.7's hist updater: every feature is cut into at
// most MaxBin quantile bins (float32 cut points, as XGBoost compares features
// in float32), the training matrix is stored as one uint8 bin code per cell,
// and each tree grows depth-wise from gradient/hessian histograms, building
// the smaller child of every split and deriving its sibling by subtraction.
// Split gain, leaf weights, the tie-breaking between equal gains and the
// learned direction for missing values follow XGBoost's formulas, including
// where XGBoost rounds to float32.
//
// Row weights (Matrix.Weights) follow XGBoost 1.7's DMatrix weight: each
// row's gradient and hessian are multiplied by its weight (and by
// ScalePosWeight for positive rows), so MinChildWeight, the leaf weights and
// the cover are weighted hessian sums; the quantile sketch counts each value
// with its row's weight, a zero-weight row adding nothing; the evaluation
// metrics are weighted (sum of weight x loss over the sum of weights, AUC
// from weighted counts). XGBoost 1.7 never reads the weights for the base
// score; here the automatic reg:squarederror base score is the weighted mean
// label (as XGBoost 2.x's intercept is). The tests check weighted trees,
// covers and training metrics node by node against Python XGBoost 1.7.
//
// Split thresholds are chosen so that "float32(x) < threshold" sends exactly
// the rows of the trained bins to the left: the exported model reproduces the
// margins accumulated during training bit for bit.
//
// Cut points come from a port of the quantile sketch XGBoost 1.7's hist
// method uses (values pushed in row order, summaries merged and pruned in
// float32 rank arithmetic), so the bins are XGBoost's own and, with the same
// parameters and no sampling, so are the trees, up to float rounding in
// near-ties: the tests check this node by node against Python XGBoost 1.7, on
// small columns (exact sketch) and on 20,000-row ones (approximate sketch).
//
// Known differences from XGBoost 1.7 hist:
//   - a feature that has missing values gets at most 255 value bins, the
//     256th uint8 code marking "missing": where XGBoost would cut it into
//     256 bins, the two adjacent bins holding the fewest values are merged
//     and the other cut points are XGBoost's;
//   - row and column sampling use this package's own random stream, so a seed
//     does not reproduce XGBoost's sample;
//   - BaseScore defaults to the mean label for reg:squarederror (XGBoost 1.x
//     uses 0.5, XGBoost 2.x the mean); the value used is written into the model.
//
// Results are bit-identical for a given seed whatever NumThreads is: every
// parallel task writes its own output, and sums are taken in a fixed order.
package gbdt

import (
	"io"

	"risklane/models/xgb"
)

// Evaluation metrics accepted in Params.EvalMetric.
const (
	LogLoss = "logloss" // mean negative log-likelihood (binary:logistic)
	AUC     = "auc"     // area under the ROC curve, ties averaged (binary:logistic)
	RMSE    = "rmse"    // root mean squared error
)

// Params are the training hyper-parameters, named after XGBoost's.
// Start from DefaultParams; the zero values noted below select a default.
type Params struct {
	// Objective is xgb.BinaryLogistic (labels 0 or 1) or xgb.RegSquaredError.
	// "" means binary:logistic.
	Objective string
	// NumRounds is the number of boosting rounds (trees), at least 1.
	NumRounds int
	// MaxDepth is the depth of every tree (the root has depth 0), 1 to 31.
	MaxDepth int
	// MaxBin is the number of histogram bins per feature, 2 to 256; 0 means 256.
	MaxBin int
	// Eta is the learning rate (XGBoost's eta), > 0.
	Eta float64
	// Lambda is the L2 regularisation on leaf weights, >= 0.
	Lambda float64
	// Alpha is the L1 regularisation on leaf weights, >= 0.
	Alpha float64
	// Gamma is the minimum loss reduction a split must bring (min_split_loss), >= 0.
	Gamma float64
	// MinChildWeight is the minimum hessian sum in each child of a split, >= 0.
	MinChildWeight float64
	// Subsample is the fraction of rows drawn (without replacement) for each
	// tree, in (0, 1]; 0 means 1.
	Subsample float64
	// ColsampleByTree, ColsampleByLevel and ColsampleByNode are the fractions
	// of features drawn per tree, then per depth from the tree's set, then per
	// node from the level's set, each in (0, 1]; 0 means 1. A draw keeps
	// max(1, floor(fraction * features)) features, as XGBoost does.
	ColsampleByTree  float64
	ColsampleByLevel float64
	ColsampleByNode  float64
	// ScalePosWeight multiplies the gradient and hessian of positive rows
	// (binary:logistic only), > 0; 0 means 1.
	ScalePosWeight float64
	// BaseScore is the initial prediction in the objective's output space (a
	// probability for binary:logistic). 0 means automatic: 0.5 for
	// binary:logistic, the mean label for reg:squarederror (so a regression
	// cannot ask for exactly 0). The value used is stored in the model.
	BaseScore float64
	// EarlyStoppingRounds stops training when the validation metric has not
	// improved for this many rounds, and keeps only the trees up to the best
	// round. 0 disables early stopping; > 0 needs a validation set.
	EarlyStoppingRounds int
	// EvalMetric is LogLoss, AUC or RMSE; "" means LogLoss for
	// binary:logistic and RMSE for reg:squarederror (XGBoost's defaults).
	EvalMetric string
	// EvalTrain also evaluates the metric on the training rows every round.
	// It costs one more pass over them per round (and a sort for AUC).
	EvalTrain bool
	// Seed drives row and column sampling; the same seed gives the same model.
	Seed uint64
	// NumThreads is the number of goroutines used; 0 means GOMAXPROCS.
	NumThreads int
	// EvalLog, when set, receives the evaluation log XGBoost prints with
	// verbose_eval: "[100]\ttrain-logloss:0.12345\tvalid-logloss:0.23456"
	// for the first round, every EvalLogEvery-th and the last (0-based
	// rounds, as XGBoost numbers them). It does not change the model.
	EvalLog io.Writer `json:"-"`
	// EvalLogEvery is the step of the evaluation log; 0 means 50.
	EvalLogEvery int `json:"-"`
}

// DefaultParams returns XGBoost's defaults: binary:logistic, 100 rounds
// (XGBClassifier's n_estimators; xgb.train's num_boost_round is 10), eta 0.3,
// max_depth 6, max_bin 256, lambda 1, alpha 0, gamma (min_split_loss) 0,
// min_child_weight 1, subsample and every colsample 1, scale_pos_weight 1,
// base_score automatic (0.5 for binary:logistic), eval metric by objective
// (logloss), no early stopping, seed 0, all cores. EvalTrain is on, so the
// report shows the training metric per round.
func DefaultParams() Params {
	return Params{
		Objective:        xgb.BinaryLogistic,
		NumRounds:        100,
		MaxDepth:         6,
		MaxBin:           256,
		Eta:              0.3,
		Lambda:           1,
		Alpha:            0,
		Gamma:            0,
		MinChildWeight:   1,
		Subsample:        1,
		ColsampleByTree:  1,
		ColsampleByLevel: 1,
		ColsampleByNode:  1,
		ScalePosWeight:   1,
		BaseScore:        0,
		EvalMetric:       "",
		EvalTrain:        true,
	}
}

// Matrix is a dense feature matrix stored column by column.
type Matrix struct {
	// Rows is the number of rows; every column has this length.
	Rows int
	// Cols holds one slice per feature; NaN marks a missing value. Values
	// are used as float32, so they must lie within float32's range.
	Cols [][]float64
	// Names optionally names the features (len(Names) == len(Cols)). When
	// empty, features are called f0, f1, ... as in XGBoost.
	Names []string
	// Weights optionally weights the rows (len(Weights) == Rows), as
	// XGBoost's DMatrix weight: each row's gradient and hessian are
	// multiplied by its weight, so MinChildWeight and the cover are
	// weighted hessian sums; the quantile sketch counts each value with its
	// row's weight (a zero-weight row shapes no cut point); the metric is
	// the weighted one (sum of weight x loss over sum of weights; AUC with
	// weighted counts). Weights are finite and >= 0, not all 0, and used as
	// float32. nil means every row weighs 1, bit for bit as without.
	Weights []float64
}

// Report describes a training run.
type Report struct {
	// Metric is the evaluation metric used.
	Metric string
	// Train holds the metric on the training rows after each round; nil
	// unless Params.EvalTrain.
	Train []float64
	// Valid holds the metric on the validation set after each round; nil
	// without a validation set.
	Valid []float64
	// BestIteration is the index of the last round kept: the model holds
	// BestIteration+1 trees. Without early stopping it is the last round.
	BestIteration int
	// Gain, Cover and Splits are per-feature totals over the kept trees:
	// summed loss reduction, summed hessian of the split nodes, and number
	// of splits (XGBoost's total_gain, total_cover and weight importances).
	// Features never split on are absent.
	Gain   map[string]float64
	Cover  map[string]float64
	Splits map[string]int
	// BaseScore is the base score used (see Params.BaseScore).
	BaseScore float64
}

// Train fits a gradient-boosted tree ensemble on train with labels y. valid
// and yValid, both optional (nil), form the validation set used for the
// per-round metric and early stopping. It returns the model, a report of the
// run, or an error that names the offending parameter, column or row.
func Train(train *Matrix, y []float64, valid *Matrix, yValid []float64, p Params) (*xgb.Model, *Report, error) {
	cfg, err := newConfig(p)
	if err != nil {
		return nil, nil, err
	}
	if err := checkData(train, y, valid, yValid, cfg); err != nil {
		return nil, nil, err
	}
	t, err := newTrainer(train, y, valid, yValid, cfg)
	if err != nil {
		return nil, nil, err
	}
	return t.run()
}
