package riskmodel

import (
	"risklane/features"
	"risklane/models/gbdt"
	"risklane/models/xgb"
)

// Config controls Train.
type Config struct {
	// Features configures the feature layer (groups, folds, smoothing).
	Features features.Config
	// Classifier are the hyper-parameters of the probability model; its
	// objective is always binary:logistic.
	Classifier gbdt.Params
	// Revenue are the hyper-parameters of the revenue head; its objective is
	// always reg:squarederror (on log1p of revenue).
	Revenue gbdt.Params
	// NoRevenueHead skips the revenue head: expected revenue is then 0.
	NoRevenueHead bool
	// Profile and Inputs describe the training data in the manifest.
	Profile string
	Inputs  []string
}

// Default hyper-parameters of the classifier, chosen by time-ordered cross
// validation on the KCS training year alone, never on the validation file:
// train on the months before a quarter of 2020 and score that quarter, for
// Q2, Q3 and Q4, and average. Mean AUC / Precision@5% / Precision@10% with
// the DefaultGroups features:
//
//	depth 6, eta 0.05, 500 rounds   0.8295 / 0.889 / 0.766
//	depth 8, eta 0.05, 300 rounds   0.8328 / 0.883 / 0.769
//	depth 8, eta 0.05, 500 rounds   0.8343 / 0.880 / 0.780
//	depth 10, eta 0.05, 300 rounds  0.8356 / 0.893 / 0.784
//	depth 10, eta 0.05, 400 rounds  0.8364 / 0.893 / 0.785  <- default
//	depth 10, eta 0.05, 500 rounds  0.8366 / 0.893 / 0.786
//	depth 12, eta 0.05, 400 rounds  0.8379 / 0.884 / 0.790
//
// all with subsample 0.8, colsample_bytree 0.8, min_child_weight 1. Earlier
// rounds of the same search (all groups) found eta 0.1 with 200 to 300
// rounds 0.004 to 0.005 AUC worse than eta 0.05, and min_child_weight 3 or
// colsample_bytree 0.5 within 0.002. Deeper trees than XGBoost's default 6
// capture the interactions of fraud rates, unit-value position and tax;
// depth 10 has the best Precision@5% and is within 0.002 AUC of the best.
const (
	DefaultRounds          = 400
	DefaultMaxDepth        = 10
	DefaultEta             = 0.05
	DefaultSubsample       = 0.8
	DefaultColsampleByTree = 0.8
	DefaultMinChildWeight  = 1
)

// DefaultGroups are the feature groups of a model unless told otherwise:
// all built-in groups but date and extras. In the same time-ordered
// cross-validation on the KCS training year, removing them raised the mean
// AUC from 0.8282 to 0.8343 (date alone 0.8322, extras alone 0.8308) at an
// equal Precision@5% (0.884 / 0.880): a model trained on one year learns
// calendar effects and profile-specific codes that do not carry over to the
// next. Both can be added back ("+date,+extras").
var DefaultGroups = []string{features.GroupHS, features.GroupUnitValue, features.GroupTax, features.GroupRisk, features.GroupFreq}

// MinRevenueRows is the fewest illicit training rows with a known revenue
// the revenue head is trained on; with fewer there is no revenue head.
const MinRevenueRows = 20

// DefaultConfig returns the documented defaults: the feature groups
// DefaultGroups with 5 folds, smoothing 10 and seed 0; the classifier with the
// Default* hyper-parameters above and XGBoost's defaults otherwise (lambda 1,
// gamma 0, 256 bins); a revenue head of 200 rounds, depth 6, eta 0.1,
// subsample 0.8. No early stopping: a validation set only reports.
func DefaultConfig() Config {
	c := gbdt.DefaultParams()
	c.Objective = xgb.BinaryLogistic
	c.NumRounds = DefaultRounds
	c.MaxDepth = DefaultMaxDepth
	c.Eta = DefaultEta
	c.Subsample = DefaultSubsample
	c.ColsampleByTree = DefaultColsampleByTree
	c.MinChildWeight = DefaultMinChildWeight

	r := gbdt.DefaultParams()
	r.Objective = xgb.RegSquaredError
	r.NumRounds = 200
	r.MaxDepth = 6
	r.Eta = 0.1
	r.Subsample = 0.8
	return Config{Features: features.Config{Groups: DefaultGroups}, Classifier: c, Revenue: r}
}
