package date

import (
	"fmt"
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
	"risklane/models/riskmodel"
)

// KindEntry is this package's entry in the table of model kinds
// (risklane/models/kinds).
var KindEntry = models.Kind{
	Name:   Kind,
	Doc:    "DATE (KDD 2020): tree-leaf embeddings attended by importer x HS code, with a classifier and a revenue head",
	Load:   func(f *models.Folder) (models.Model, error) { return FromFiles(f.Dir, f.Manifest, f.Files) },
	Train:  recipe.Train,
	Params: recipe.Params(),
	Groups: riskmodel.DefaultGroups,
}

// recipe trains DATE on the training batches; DATE holds out its own
// validation period by date for early stopping, so valid is only reported
// on.
var recipe = models.Recipe[Config, *Model]{
	Kind:     Kind,
	Settings: paramTable(),
	Base:     models.LeafTreesBase[Config](DefaultConfig),
	Check:    Config.check,
	Fit:      models.TrainOnly(Train),
	Report: func(m *Model, valid []arrow.RecordBatch) error {
		p, r, err := m.Evaluate(valid)
		if err == nil {
			m.validation = &[2]string{p.String(), r.String()}
		}
		return err
	},
}

// param binds one declared parameter to the Config field it sets.
type param = models.Setting[Config]

// paramTable declares DATE's training parameters once; the defaults are
// DefaultConfig's.
func paramTable() []param {
	d := DefaultConfig()
	return append(models.LeafTreesSettings[Config](d.LeafTrees), []param{
		{Param: models.Param{Name: "tree-eta", Doc: "learning rate of those trees", Default: d.Trees.Eta, Min: 1e-6, Max: 1},
			Set: func(c *Config, v float64) { c.Trees.Eta = v }},
		{Param: models.Param{Name: "tree-min-child-weight", Doc: "least hessian sum in a leaf of those trees (larger: fewer, better supported leaves)", Default: d.Trees.MinChildWeight, Min: 0, Max: 1e6},
			Set: func(c *Config, v float64) { c.Trees.MinChildWeight = v }},
		{Param: models.Param{Name: "dim", Doc: "embedding and hidden width", Default: float64(d.Dim), Min: 1, Max: 256, Integer: true},
			Set: func(c *Config, v float64) { c.Dim = int(v) }},
		{Param: models.Param{Name: "self-attention", Doc: "refine the leaf embeddings by multi-head self-attention (slow)", Default: 0, Min: 0, Max: 1, Bool: true},
			Set: func(c *Config, v float64) { c.SelfAtt = v != 0 }},
		{Param: models.Param{Name: "tree-margin", Doc: "add the cross-feature trees' margin, learnedly weighed, to the classifier's logit", Default: 1, Min: 0, Max: 1, Bool: true},
			Set: func(c *Config, v float64) { c.TreeMargin = v != 0 }},
		{Param: models.Param{Name: "margin-folds", Doc: "train on out-of-fold tree margins from this many fold models (0: off; about K times the trees' cost)", Default: 0, Min: 0, Max: 255, Integer: true},
			Set: func(c *Config, v float64) { c.MarginFolds = int(v) }},
		{Param: models.Param{Name: "heads", Doc: "self-attention heads (a divisor of dim)", Default: float64(d.Heads), Min: 1, Max: 256, Integer: true},
			Set: func(c *Config, v float64) { c.Heads = int(v) }},
		{Param: models.Param{Name: "alpha", Doc: "weight of the revenue head's loss", Default: d.Alpha, Min: 0, Max: 1e6},
			Set: func(c *Config, v float64) { c.Alpha = v }},
		{Param: models.Param{Name: "rev-hidden", Doc: "width of the revenue head's own hidden layer (0: none, the head on the classifier's)", Default: float64(d.RevHidden), Min: 0, Max: 256, Integer: true},
			Set: func(c *Config, v float64) { c.RevHidden = int(v) }},
		{Param: models.Param{Name: "rev-standard", Doc: "standardise the revenue target (mean and sd of log revenue) instead of dividing it by its maximum", Default: 0, Min: 0, Max: 1, Bool: true},
			Set: func(c *Config, v float64) { c.RevStandard = v != 0 }},
		{Param: models.Param{Name: "calibrate", Doc: "calibrate the probability on the validation period (Platt scaling) before it weighs the revenue", Default: 0, Min: 0, Max: 1, Bool: true},
			Set: func(c *Config, v float64) { c.Calibrate = v != 0 }},
		{Param: models.Param{Name: "rev-weight", Doc: "weigh each illicit row's cross-entropy by its revenue to this power (0: unweighed, 1: revenue share)", Default: d.RevWeight, Min: 0, Max: 2},
			Set: func(c *Config, v float64) { c.RevWeight = v }},
		{Param: models.Param{Name: "label-smooth", Doc: "smooth the classifier's labels to y(1-s)+s/2 (0: none)", Default: d.LabelSmooth, Min: 0, Max: 0.5},
			Set: func(c *Config, v float64) { c.LabelSmooth = v }},
		{Param: models.Param{Name: "rev-all-rows", Doc: "train the revenue head on every row, licit ones towards a revenue of 0 (as DATE's code does)", Default: 0, Min: 0, Max: 1, Bool: true},
			Set: func(c *Config, v float64) { c.RevAllRows = v != 0 }},
		{Param: models.Param{Name: "rev-over-duty", Doc: "train the revenue head on log revenue less log duty at stake, the estimate the row's own duty times it", Default: 0, Min: 0, Max: 1, Bool: true},
			Set: func(c *Config, v float64) { c.RevBase = setBase(c.RevBase, "log_duty", v != 0) }},
		{Param: models.Param{Name: "rev-over-value", Doc: "train the revenue head on log revenue less log declared value, the estimate the row's own value times it", Default: 0, Min: 0, Max: 1, Bool: true},
			Set: func(c *Config, v float64) { c.RevBase = setBase(c.RevBase, "log_value", v != 0) }},
		{Param: models.Param{Name: "rev-cap", Doc: "bound the revenue estimate's log target at this quantile of the illicit training rows' (0: none; 0.5-1)", Default: d.RevCap, Min: 0, Max: 1},
			Set: func(c *Config, v float64) { c.RevCap = v }},
		{Param: models.Param{Name: "rev-uv-inputs", Doc: "also give the revenue head the unit value's z-scores (within HS6, HS6 x origin) and the duty rate", Default: 0, Min: 0, Max: 1, Bool: true},
			Set: func(c *Config, v float64) { c.RevenueInputs = setInputs(c.RevenueInputs, uvRevInputs, v != 0) }},
		{Param: models.Param{Name: "prob-power", Doc: "rank by probability^a x revenue estimate, the dual score (1: DATE's p x estimate; stored with the model)", Default: 1, Min: minProbPower, Max: maxProbPower},
			Set: func(c *Config, v float64) {
				c.ProbPower = v
				if v == 1 {
					c.ProbPower = 0
				}
			}},
		{Param: models.Param{Name: "lr", Doc: "Adam learning rate", Default: d.Adam.LR, Min: 1e-9, Max: 10},
			Set: func(c *Config, v float64) { c.Adam.LR = v }},
		{Param: models.Param{Name: "weight-decay", Doc: "L2 weight decay", Default: d.Adam.WeightDecay, Min: 0, Max: 10},
			Set: func(c *Config, v float64) { c.Adam.WeightDecay = v }},
		{Param: models.Param{Name: "epochs", Doc: "most passes over the training rows", Default: float64(d.Epochs), Min: 1, Max: 10000, Integer: true},
			Set: func(c *Config, v float64) { c.Epochs = int(v) }},
		{Param: models.Param{Name: "batch", Doc: "mini-batch rows", Default: float64(d.BatchSize), Min: 1, Max: 1 << 20, Integer: true},
			Set: func(c *Config, v float64) { c.BatchSize = int(v) }},
		{Param: models.Param{Name: "patience", Doc: "epochs without a better validation AUC before stopping", Default: float64(d.Patience), Min: 1, Max: 10000, Integer: true},
			Set: func(c *Config, v float64) { c.Patience = int(v) }},
		{Param: models.Param{Name: "stop-on-revenue", Doc: "stop early on the validation revenue the dual score captures at 1% and 2%, not on the AUC", Default: 0, Min: 0, Max: 1, Bool: true},
			Set: func(c *Config, v float64) { c.StopOnRevenue = v != 0 }},
		{Param: models.Param{Name: "valid-fraction", Doc: "share of rows, the latest by date, held out for early stopping", Default: d.ValidFraction, Min: 0.01, Max: 0.5},
			Set: func(c *Config, v float64) { c.ValidFraction = v }},
		{Param: models.Param{Name: "min-count", Doc: "occurrences an importer or HS code needs for its own embedding", Default: float64(d.MinCount), Min: 1, Max: 1 << 30, Integer: true},
			Set: func(c *Config, v float64) { c.MinCount = int(v) }},
	}...)
}

// setBase is Config.RevBase after a revenue-base flag for base: base when
// on; when off, none if it was base, else unchanged.
func setBase(cur, base string, on bool) string {
	switch {
	case on:
		return base
	case cur == base:
		return ""
	}
	return cur
}

// setInputs is the revenue inputs cur with names added (on) or removed
// (off), each once.
func setInputs(cur, names []string, on bool) []string {
	out := slices.DeleteFunc(slices.Clone(cur), func(s string) bool { return slices.Contains(names, s) })
	if on {
		out = append(out, names...)
	}
	return out
}

// ConfigOf turns a kind-neutral training configuration into Config.
func ConfigOf(tc models.TrainConfig) (Config, error) { return recipe.Config(tc) }

// WriteSummary writes what training produced, as `risklane train` prints it.
func (m *Model) WriteSummary(w io.Writer, _ int) {
	h := m.History
	fmt.Fprintf(w, "DATE: %d trees of depth %d as cross features, %d leaves; dim %d, self-attention %v\n",
		len(m.Trees.Trees), m.Config.Trees.MaxDepth, m.Arch.Leaves, m.Arch.Dim, m.Arch.SelfAtt)
	fmt.Fprintf(w, "Tree margin in the logit: %v; revenue head's direct inputs: %d %v\n", m.Arch.Margin, m.Arch.RevIn, m.Config.RevenueInputs)
	fmt.Fprintf(w, "Embeddings: %d importers, %d HS codes (and the unseen row of each)\n", m.Arch.Importers-1, m.Arch.Items-1)
	fmt.Fprintf(w, "Trained on %d labelled rows, early stopping on %d from %s: best epoch %d of %d, validation AUC %.4f\n",
		h.TrainRows, h.ValidRows, h.ValidFrom, h.BestEpoch, len(h.Loss), at(h.ValidAUC, h.BestEpoch-1))
	if m.validation != nil {
		dual := "DATE's dual score"
		if a := m.Config.ProbPower; a != 0 && a != 1 {
			dual = fmt.Sprintf("DATE's dual score, probability^%v x revenue", a)
		}
		fmt.Fprintf(w, "Validation data, ranked by probability:\n%s\nranked by expected revenue (%s):\n%s\n", m.validation[0], dual, m.validation[1])
	}
	fmt.Fprintf(w, "Trained in %.1fs\n", h.Seconds)
}

func at(x []float64, i int) float64 {
	if i < 0 || i >= len(x) {
		return 0
	}
	return x[i]
}

var (
	_ models.Trained    = (*Model)(nil)
	_ models.Summarizer = (*Model)(nil)
)
