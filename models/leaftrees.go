package models

import (
	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/models/gbdt"
)

// LeafTrees is the part of the training configuration shared by the kinds
// whose inputs are the leaves of a tree ensemble they fit first (DATE and
// GBDT+LR: each declaration falls in one leaf per tree). Their Config types
// embed it, so its fields read and encode as theirs (cfg.Trees, the
// manifest's "Trees"), and their recipes take its defaults, flags and base
// from here.
type LeafTrees struct {
	Features features.Config
	// Trees is the ensemble whose leaves are the cross features.
	Trees gbdt.Params
	// Seed seeds the trees' sampling and the kind's own randomness.
	Seed uint64
}

func (l *LeafTrees) leafTrees() *LeafTrees { return l }

// LeafTreesConfig is a pointer to a kind's training configuration C that
// embeds LeafTrees.
type LeafTreesConfig[C any] interface {
	*C
	leafTrees() *LeafTrees
}

// LeafTreesBase returns a Recipe's Base for such a kind: its defaults with
// the features and seed of the TrainConfig.
func LeafTreesBase[C any, P LeafTreesConfig[C]](defaults func() C) func(TrainConfig) C {
	return func(tc TrainConfig) C {
		cfg := defaults()
		l := P(&cfg).leafTrees()
		l.Features, l.Seed = tc.Features, tc.Seed
		return cfg
	}
}

// LeafTreesSettings declares the trees and tree-depth flags of such a kind,
// with the defaults of def.
func LeafTreesSettings[C any, P LeafTreesConfig[C]](def LeafTrees) []Setting[C] {
	return []Setting[C]{
		{Param: Param{Name: "trees", Doc: "trees whose leaves are the cross features", Default: float64(def.Trees.NumRounds), Min: 1, Max: 4096, Integer: true},
			Set: func(c *C, v float64) { P(c).leafTrees().Trees.NumRounds = int(v) }},
		{Param: Param{Name: "tree-depth", Doc: "depth of those trees", Default: float64(def.Trees.MaxDepth), Min: 1, Max: 12, Integer: true},
			Set: func(c *C, v float64) { P(c).leafTrees().Trees.MaxDepth = int(v) }},
	}
}

// TrainOnly turns the Train of a kind that holds out its own validation
// rows by date into a Recipe's Fit: the validation batches only report.
func TrainOnly[C, M any](train func([]arrow.RecordBatch, C) (M, error)) func(train, valid []arrow.RecordBatch, cfg C) (M, error) {
	return func(batches, _ []arrow.RecordBatch, cfg C) (M, error) { return train(batches, cfg) }
}
