package riskmodel

import (
	"testing"

	"risklane/models/modeltest"
)

// FuzzLoadFiles replaces one file of a real gbdt model folder (model.json,
// revenue.json, features.json, metrics.json or the manifest) with arbitrary
// bytes (modeltest.FuzzFolder).
func FuzzLoadFiles(f *testing.F) {
	all, m, _ := savedModel(f, 3)
	modeltest.FuzzFolder(f, m, all[len(all)-1].NewSlice(0, 50), load, Load)
}
