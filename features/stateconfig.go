package features

import "slices"

// Config returns the configuration the state was fitted with (groups,
// folds, seed, smoothing, minimum reference, fraud-rate half-life). Fit with it on the same
// history gives the same state and, with it, the training rows' own
// out-of-fold features, which the state alone cannot give: risklane rules
// measures a model's decision paths on them. A signal configured through
// Config.Signals (mirror statistics) is not part of the result; Fit makes
// each signal group afresh from its registered factory.
func (s *State) Config() Config {
	return Config{Groups: slices.Clone(s.groups), Folds: s.folds, Seed: s.seed, Smoothing: s.smoothing, MinReference: s.minReference, HalfLife: s.halfLife}
}
