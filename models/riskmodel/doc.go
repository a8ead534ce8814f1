// Package riskmodel is a trained risk model: the fitted feature state, a
// gradient-boosted classifier that gives each declaration its probability of
// being illicit, and a revenue head that predicts the revenue an inspection
// would raise, so that a declaration's expected revenue is P(illicit) times
// that prediction (the dual task of the DATE paper).
//
// A model lives in a folder (docs/DESIGN.md, "Model folders and kinds"):
//
//	model.json     classifier, XGBoost JSON (loads in Python XGBoost)
//	model.bin      classifier, XGBoost legacy binary (loads in leaves)
//	revenue.json   revenue head, XGBoost JSON (absent when there was no
//	revenue.bin    revenue to learn from), and legacy binary
//	features.json  the fitted feature state (package risklane/features)
//	metrics.json   training and validation metrics, feature importance
//	manifest.json  versions, creation time, feature names, parameters and
//	               the SHA-256 of every other file
//
// Save writes the folder atomically; Load checks every hash and that the
// trees take exactly the features the state computes.
//
// This is the "gbdt" model kind: Model implements the model seam
// (risklane/models.Model and its capabilities) and Kind is its entry in the
// table of kinds (risklane/models/kinds).
package riskmodel
