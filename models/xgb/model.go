// Package xgb holds a gradient-boosted tree ensemble in XGBoost's own terms
// and reads and writes it in XGBoost's file formats: the JSON schema that
// XGBoost 1.0 and later write with save_model (and reads its UBJSON twin), and
// the legacy binary layout that github.com/dmitryikh/leaves loads.
//
// Every reader validates what it reads before anything else sees it: risklane
// never hands leaves a file it has not checked itself.
package xgb

// Objectives risklane trains (the first two) and scores (all four).
// reg:logistic predicts exactly as binary:logistic (the sigmoid of the
// margin; base_score a probability); binary:logitraw gives the margin itself
// and, from XGBoost 1.4 on, stores base_score as a margin.
const (
	BinaryLogistic  = "binary:logistic"
	RegSquaredError = "reg:squarederror"
	RegLogistic     = "reg:logistic"
	BinaryLogitRaw  = "binary:logitraw"
)

// Objectives lists the objectives risklane scores, for messages.
const Objectives = BinaryLogistic + ", " + RegLogistic + ", " + BinaryLogitRaw + " and " + RegSquaredError

// supported reports whether risklane scores objective.
func supported(objective string) bool {
	switch objective {
	case BinaryLogistic, RegLogistic, BinaryLogitRaw, RegSquaredError:
		return true
	}
	return false
}

// objectiveName maps the names older XGBoost releases used to today's.
func objectiveName(name string) string {
	if name == "reg:linear" { // reg:squarederror before XGBoost 1.0
		return RegSquaredError
	}
	return name
}

// Sigmoid reports whether a prediction is the sigmoid of the margin
// (binary:logistic, reg:logistic), so that the score is a probability and
// BaseScore is a probability too.
func (m *Model) Sigmoid() bool {
	return m.Objective == BinaryLogistic || m.Objective == RegLogistic
}

// Tree is one regression tree as parallel node arrays, indexed by node id,
// exactly as XGBoost's JSON model stores them. Node 0 is the root.
//
// A row goes to Left[n] when its feature SplitIndex[n] is < SplitCondition[n]
// (compared in float32, as XGBoost does), to Right[n] otherwise, and follows
// DefaultLeft[n] when the feature is missing (NaN). A node is a leaf when
// Left[n] == -1; its output is then SplitCondition[n] (already scaled by the
// learning rate).
type Tree struct {
	Left           []int32
	Right          []int32
	Parent         []int32 // -1 for the root (XGBoost writes 2147483647)
	SplitIndex     []int32
	SplitCondition []float32
	DefaultLeft    []bool
	BaseWeight     []float32 // node weight: unscaled for split nodes and a lone root; XGBoost stores leaves made by a split eta-scaled (= the leaf value)
	LossChange     []float32 // gain of the split; 0 for leaves
	SumHessian     []float32 // cover
}

// NewTree returns a tree of n nodes with every array allocated and zero.
func NewTree(n int) Tree {
	return Tree{
		Left:           make([]int32, n),
		Right:          make([]int32, n),
		Parent:         make([]int32, n),
		SplitIndex:     make([]int32, n),
		SplitCondition: make([]float32, n),
		DefaultLeft:    make([]bool, n),
		BaseWeight:     make([]float32, n),
		LossChange:     make([]float32, n),
		SumHessian:     make([]float32, n),
	}
}

// NumNodes returns the number of nodes in the tree.
func (t *Tree) NumNodes() int { return len(t.Left) }

// IsLeaf reports whether node n is a leaf.
func (t *Tree) IsLeaf(n int) bool { return t.Left[n] == -1 }

// Model is a gbtree ensemble with one output group.
type Model struct {
	Objective string
	// BaseScore is the global bias in the output space of the objective
	// (a probability for binary:logistic), as XGBoost's learner_model_param
	// stores it. The margin starts at logit(BaseScore) for binary:logistic and
	// at BaseScore for reg:squarederror.
	BaseScore    float32
	NumFeature   int
	FeatureNames []string // optional; len == NumFeature when present
	Trees        []Tree
	// Attributes are the learner attributes XGBoost keeps with a model, such
	// as best_iteration after early stopping. The file formats carry them
	// through unchanged; scoring ignores them and uses every tree, as
	// XGBoost's Booster.predict does.
	Attributes map[string]string
}
