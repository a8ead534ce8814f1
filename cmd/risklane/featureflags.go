package main

import (
	"github.com/spf13/pflag"

	"risklane/features"
)

// featureFlags are the training settings train and simulate share: the
// out-of-fold folds, the smoothing of the fraud rates and their recency
// half-life (features.Config), and the training rows' recency half-life
// (models.TrainConfig.RowHalfLife; both half-lives follow
// features.RecencyWeights).
type featureFlags struct {
	folds                              int
	smoothing, halfLife, trainHalfLife float64
}

func newFeatureFlags() *featureFlags {
	return &featureFlags{folds: features.DefaultFolds, smoothing: features.DefaultSmoothing}
}

func (f *featureFlags) add(fl *pflag.FlagSet) {
	fl.IntVar(&f.folds, "folds", f.folds, "folds of the out-of-fold fraud rates")
	fl.Float64Var(&f.smoothing, "smoothing", f.smoothing, "weight of the prior in smoothed fraud rates")
	fl.Float64Var(&f.halfLife, "risk-halflife", 0, "half-life in days of a label's weight in the smoothed fraud rates, by its age before the history's last day (0: every label weighs 1)")
	fl.Float64Var(&f.trainHalfLife, "train-halflife", 0, "weight each training row by 0.5^(age/DAYS), age in days before the history's last day (gbdt only; simulate: the --model kind's retrainings, strategies of another kind train unweighted; 0: every row weighs 1)")
}

// config is the features.Config of groups with these settings; an invalid
// half-life is a usage error.
func (f *featureFlags) config(cmd string, groups []string, seed uint64) (features.Config, error) {
	if err := features.CheckHalfLife(f.halfLife); err != nil {
		return features.Config{}, usageError{msg: cmd + ": --risk-halflife: " + err.Error()}
	}
	return features.Config{Groups: groups, Folds: f.folds, Smoothing: f.smoothing, HalfLife: f.halfLife, Seed: seed}, nil
}
