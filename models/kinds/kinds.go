// Package kinds is the table of model kinds risklane knows, keyed by the
// "kind" a model folder's manifest names. Load reads any model folder
// through it; the train command finds a kind's trainer and parameters here.
//
// Adding a kind is one package that exports a models.Kind value (see
// risklane/models/riskmodel's Kind, and docs/DESIGN.md, "Model folders and
// kinds") plus one line in table below.
package kinds

import (
	"fmt"
	"strings"

	"risklane/models"
	"risklane/models/date"
	"risklane/models/gbdtlr"
	"risklane/models/riskmodel"
)

// table lists the kinds, the default first.
var table = []models.Kind{
	riskmodel.Kind,   // "gbdt": gradient-boosted trees and a revenue head
	date.KindEntry,   // "date": DATE, tree-leaf embeddings with dual attention and heads
	gbdtlr.KindEntry, // "gbdtlr": logistic regression on one-hot tree leaves (DATE's baseline)
}

// Default is the kind `risklane train` trains unless told otherwise, and the
// kind of a folder whose manifest names none.
const Default = models.DefaultKind

// Lookup returns the kind called name.
func Lookup(name string) (models.Kind, error) {
	for _, k := range table {
		if k.Name == name {
			return k, nil
		}
	}
	return models.Kind{}, fmt.Errorf("unknown model kind %q: this risklane knows %s", name, strings.Join(Names(), ", "))
}

// Names lists the kinds, the default first.
func Names() []string {
	out := make([]string, len(table))
	for i, k := range table {
		out[i] = k.Name
	}
	return out
}

// All returns the table.
func All() []models.Kind { return append([]models.Kind(nil), table...) }

// Load reads the model folder dir (models.ReadFolder: regular files under a
// size limit, every SHA-256 checked, the ID computed from the bytes read)
// and builds the model with the code of the kind its manifest names.
func Load(dir string) (models.Model, error) {
	f, err := models.ReadFolder(dir)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	k, err := Lookup(f.Kind)
	if err != nil {
		return nil, fmt.Errorf("model folder %s: %w", dir, err)
	}
	m, err := k.Load(f)
	if err != nil {
		return nil, err
	}
	if m.ID() != f.ID {
		return nil, fmt.Errorf("model folder %s: the %s kind gave the model ID %s, not %s from its files", dir, k.Name, m.ID(), f.ID)
	}
	return m, nil
}
