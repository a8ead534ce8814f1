package riskmodel

import (
	"testing"

	"risklane/models"
	"risklane/models/modeltest"
)

// FuzzLoadFiles replaces one file of a real gbdt model folder (model.json,
// revenue.json, features.json, metrics.json or the manifest) with arbitrary
// bytes (modeltest.FuzzFolder).
func FuzzLoadFiles(f *testing.F) {
	all, good := savedModel(f, 3)
	modeltest.FuzzFolder(f, good, all[len(all)-1].NewSlice(0, 50),
		func(g *models.Folder) (models.Trained, error) {
			m, err := load(g)
			if err != nil {
				return nil, err
			}
			return m, nil
		},
		func(dir string) (models.Model, error) { return Load(dir) })
}
