package gbdtlr

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
	"risklane/models/riskmodel"
)

// KindEntry is this package's entry in the table of model kinds
// (risklane/models/kinds).
var KindEntry = models.Kind{
	Name:   Kind,
	Doc:    "GBDT+LR: logistic regression with L2 on the one-hot leaves of a tree ensemble (DATE's baseline)",
	Load:   func(f *models.Folder) (models.Model, error) { return FromFiles(f.Dir, f.Manifest, f.Files) },
	Train:  recipe.Train,
	Params: recipe.Params(),
	Groups: riskmodel.DefaultGroups,
}

// recipe trains on the training batches; valid is only reported on.
var recipe = models.Recipe[Config, *Model]{
	Kind:     Kind,
	Settings: paramTable(),
	Base:     models.LeafTreesBase[Config](DefaultConfig),
	Check:    Config.check,
	Fit:      models.TrainOnly(Train),
	Report: func(m *Model, valid []arrow.RecordBatch) error {
		r, err := m.Evaluate(valid)
		if err == nil {
			s := r.String()
			m.validation = &s
		}
		return err
	},
}

type param = models.Setting[Config]

// paramTable declares GBDT+LR's training parameters once; the defaults are
// DefaultConfig's. trees, tree-depth and valid-fraction are the same flags
// as DATE's.
func paramTable() []param {
	d := DefaultConfig()
	return append(models.LeafTreesSettings[Config](d.LeafTrees), []param{
		{Param: models.Param{Name: "l2", Doc: "L2 penalty of the regression on one-hot leaves (0: chosen on the latest training rows by date)", Default: d.L2, Min: 0, Max: 1e9},
			Set: func(c *Config, v float64) { c.L2 = v }},
		{Param: models.Param{Name: "valid-fraction", Doc: "share of rows, the latest by date, held out to choose the L2 penalty", Default: d.ValidFraction, Min: 0.01, Max: 0.5},
			Set: func(c *Config, v float64) { c.ValidFraction = v }},
	}...)
}

// ConfigOf turns a kind-neutral training configuration into Config.
func ConfigOf(tc models.TrainConfig) (Config, error) { return recipe.Config(tc) }

// WriteSummary writes what training produced, as `risklane train` prints it.
func (m *Model) WriteSummary(w io.Writer, _ int) {
	h := m.History
	fmt.Fprintf(w, "GBDT+LR: %d trees of depth %d, %d leaves as one-hot features\n", m.NumTrees(), m.Config.Trees.MaxDepth, m.NumLeaves())
	if len(h.Grid) > 0 {
		fmt.Fprintf(w, "L2 chosen on %d rows from %s:", h.ValidRows, h.ValidFrom)
		for i, l := range h.Grid {
			fmt.Fprintf(w, " %g (AUC %.4f)", l, h.GridAUC[i])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Trained on %d labelled rows: L2 %g, %d L-BFGS iterations (%.0f passes over the rows in all), mean log loss + penalty %.5f\n", h.TrainRows, h.L2, h.Iterations, h.Passes, h.Loss)
	if m.validation != nil {
		fmt.Fprintf(w, "Validation data, ranked by probability:\n%s\n", *m.validation)
	}
	fmt.Fprintf(w, "Trained in %.1fs\n", h.Seconds)
}

var (
	_ models.Trained    = (*Model)(nil)
	_ models.Summarizer = (*Model)(nil)
)
