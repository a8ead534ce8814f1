package gbdt

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"

	"risklane/models/xgb"
)

// config is Params with defaults applied and every value checked. The float
// parameters are held as XGBoost holds them (float32 in TrainParam), widened
// back to float64 where XGBoost computes in double.
type config struct {
	objective                  string
	metric                     string
	rounds, depth, maxBin      int
	eta                        float32
	lambda, alpha, minChild    float64
	gamma                      float32
	subsample                  float64
	colTree, colLevel, colNode float32
	scalePos                   float32
	baseScore                  float64 // 0 = automatic
	earlyStop                  int
	evalTrain                  bool
	seed                       uint64
	threads                    int
	evalLog                    io.Writer
	evalLogEvery               int
}

func newConfig(p Params) (config, error) {
	c := config{
		objective: p.Objective,
		metric:    p.EvalMetric,
		rounds:    p.NumRounds,
		depth:     p.MaxDepth,
		maxBin:    p.MaxBin,
		earlyStop: p.EarlyStoppingRounds,
		evalTrain: p.EvalTrain,
		seed:      p.Seed,
		threads:   p.NumThreads,
		baseScore: p.BaseScore,

		evalLog:      p.EvalLog,
		evalLogEvery: p.EvalLogEvery,
	}
	if c.objective == "" {
		c.objective = xgb.BinaryLogistic
	}
	if c.objective != xgb.BinaryLogistic && c.objective != xgb.RegSquaredError {
		return c, fmt.Errorf("gbdt: Objective %q is not supported; use %q or %q", p.Objective, xgb.BinaryLogistic, xgb.RegSquaredError)
	}
	if c.metric == "" {
		c.metric = LogLoss
		if c.objective == xgb.RegSquaredError {
			c.metric = RMSE
		}
	}
	switch c.metric {
	case RMSE:
	case LogLoss, AUC:
		if c.objective != xgb.BinaryLogistic {
			return c, fmt.Errorf("gbdt: EvalMetric %q needs objective %q; use %q for %s", c.metric, xgb.BinaryLogistic, RMSE, c.objective)
		}
	default:
		return c, fmt.Errorf("gbdt: EvalMetric %q is not supported; use %q, %q or %q", p.EvalMetric, LogLoss, AUC, RMSE)
	}
	if c.rounds < 1 {
		return c, fmt.Errorf("gbdt: NumRounds is %d; it must be at least 1", p.NumRounds)
	}
	if c.depth < 1 || c.depth > 31 {
		return c, fmt.Errorf("gbdt: MaxDepth is %d; it must be between 1 and 31", p.MaxDepth)
	}
	if c.maxBin == 0 {
		c.maxBin = 256
	}
	if c.maxBin < 2 || c.maxBin > 256 {
		return c, fmt.Errorf("gbdt: MaxBin is %d; it must be between 2 and 256 (bins are stored as uint8)", p.MaxBin)
	}
	if !(float32(p.Eta) > 0) || p.Eta > math.MaxFloat32 {
		return c, fmt.Errorf("gbdt: Eta is %v; it must be a positive number (XGBoost's default is 0.3)", p.Eta)
	}
	c.eta = float32(p.Eta)
	for _, v := range []struct {
		name string
		val  float64
	}{{"Lambda", p.Lambda}, {"Alpha", p.Alpha}, {"Gamma", p.Gamma}, {"MinChildWeight", p.MinChildWeight}} {
		if !(v.val >= 0) || v.val > math.MaxFloat32 {
			return c, fmt.Errorf("gbdt: %s is %v; it must be a number >= 0 within float32's range", v.name, v.val)
		}
	}
	c.lambda = float64(float32(p.Lambda))
	c.alpha = float64(float32(p.Alpha))
	c.gamma = float32(p.Gamma)
	c.minChild = float64(float32(p.MinChildWeight))
	fraction := func(name string, v float64) (float64, error) {
		if v == 0 {
			return 1, nil
		}
		if !(v > 0 && v <= 1) {
			return 0, fmt.Errorf("gbdt: %s is %v; it must be in (0, 1] (0 means 1)", name, v)
		}
		return v, nil
	}
	var err error
	if c.subsample, err = fraction("Subsample", p.Subsample); err != nil {
		return c, err
	}
	for _, v := range []struct {
		name string
		val  float64
		dst  *float32
	}{{"ColsampleByTree", p.ColsampleByTree, &c.colTree}, {"ColsampleByLevel", p.ColsampleByLevel, &c.colLevel}, {"ColsampleByNode", p.ColsampleByNode, &c.colNode}} {
		f, err := fraction(v.name, v.val)
		if err != nil {
			return c, err
		}
		*v.dst = float32(f)
	}
	switch {
	case p.ScalePosWeight == 0:
		c.scalePos = 1
	case !(p.ScalePosWeight > 0) || p.ScalePosWeight > math.MaxFloat32:
		return c, fmt.Errorf("gbdt: ScalePosWeight is %v; it must be a positive number (0 means 1)", p.ScalePosWeight)
	default:
		c.scalePos = float32(p.ScalePosWeight)
	}
	if c.scalePos != 1 && c.objective != xgb.BinaryLogistic {
		return c, fmt.Errorf("gbdt: ScalePosWeight %v applies to %s only", p.ScalePosWeight, xgb.BinaryLogistic)
	}
	switch {
	case math.IsNaN(c.baseScore) || math.IsInf(c.baseScore, 0) || math.Abs(c.baseScore) > math.MaxFloat32:
		return c, fmt.Errorf("gbdt: BaseScore is %v; it must be a finite float32 (0 means automatic)", p.BaseScore)
	case c.objective == xgb.BinaryLogistic && c.baseScore != 0 && !(c.baseScore > 0 && c.baseScore < 1):
		return c, fmt.Errorf("gbdt: BaseScore is %v; for %s it is a probability in (0, 1) (0 means 0.5)", p.BaseScore, xgb.BinaryLogistic)
	case c.objective == xgb.BinaryLogistic && c.baseScore != 0 && (float32(c.baseScore) <= 0 || float32(c.baseScore) >= 1):
		return c, fmt.Errorf("gbdt: BaseScore %v rounds to %v in float32; use a probability further from 0 and 1", p.BaseScore, float32(c.baseScore))
	}
	if c.earlyStop < 0 {
		return c, fmt.Errorf("gbdt: EarlyStoppingRounds is %d; it must be >= 0", p.EarlyStoppingRounds)
	}
	if c.threads < 0 {
		return c, fmt.Errorf("gbdt: NumThreads is %d; it must be >= 0 (0 means GOMAXPROCS)", p.NumThreads)
	}
	if c.threads == 0 {
		c.threads = runtime.GOMAXPROCS(0)
	}
	return c, nil
}

// checkData validates shapes, labels and feature values before any work.
func checkData(train *Matrix, y []float64, valid *Matrix, yValid []float64, c config) error {
	if train == nil {
		return fmt.Errorf("gbdt: no training matrix")
	}
	if err := checkMatrix("training", train); err != nil {
		return err
	}
	if train.Rows == 0 {
		return fmt.Errorf("gbdt: the training matrix has no rows")
	}
	if len(y) != train.Rows {
		return fmt.Errorf("gbdt: %d training labels for %d training rows", len(y), train.Rows)
	}
	if err := checkLabels("training", y, c.objective); err != nil {
		return err
	}
	if valid == nil {
		if len(yValid) != 0 {
			return fmt.Errorf("gbdt: %d validation labels but no validation matrix", len(yValid))
		}
		if c.earlyStop > 0 {
			return fmt.Errorf("gbdt: EarlyStoppingRounds is %d but there is no validation set to stop on", c.earlyStop)
		}
		return nil
	}
	if err := checkMatrix("validation", valid); err != nil {
		return err
	}
	if len(valid.Cols) != len(train.Cols) {
		return fmt.Errorf("gbdt: the validation matrix has %d columns, the training matrix %d", len(valid.Cols), len(train.Cols))
	}
	if len(valid.Names) > 0 && len(train.Names) > 0 {
		for j := range valid.Names {
			if valid.Names[j] != train.Names[j] {
				return fmt.Errorf("gbdt: validation column %d is %q, training column %d is %q", j, valid.Names[j], j, train.Names[j])
			}
		}
	}
	if valid.Rows == 0 {
		return fmt.Errorf("gbdt: the validation matrix has no rows; pass nil for no validation set")
	}
	if len(yValid) != valid.Rows {
		return fmt.Errorf("gbdt: %d validation labels for %d validation rows", len(yValid), valid.Rows)
	}
	return checkLabels("validation", yValid, c.objective)
}

func checkMatrix(which string, m *Matrix) error {
	if m.Rows < 0 {
		return fmt.Errorf("gbdt: the %s matrix has %d rows", which, m.Rows)
	}
	if uint64(m.Rows) >= math.MaxUint32 {
		return fmt.Errorf("gbdt: the %s matrix has %d rows; at most %d are supported", which, m.Rows, uint64(math.MaxUint32-1))
	}
	if len(m.Cols) == 0 {
		return fmt.Errorf("gbdt: the %s matrix has no feature columns", which)
	}
	if len(m.Names) != 0 && len(m.Names) != len(m.Cols) {
		return fmt.Errorf("gbdt: the %s matrix has %d names for %d columns", which, len(m.Names), len(m.Cols))
	}
	seen := make(map[string]int, len(m.Names))
	for j, name := range m.Names {
		// The model carries the names into XGBoost's files, which refuse
		// these characters and repeated names.
		if strings.ContainsAny(name, "[]<") {
			return fmt.Errorf("gbdt: %s column %d is named %q; XGBoost refuses '[', ']' and '<' in feature names", which, j, name)
		}
		if k, ok := seen[name]; ok {
			return fmt.Errorf("gbdt: %s columns %d and %d are both named %q", which, k, j, name)
		}
		seen[name] = j
	}
	if err := checkWeights(which, m); err != nil {
		return err
	}
	for j, col := range m.Cols {
		if len(col) != m.Rows {
			return fmt.Errorf("gbdt: %s column %s has %d values for %d rows", which, colName(m, j), len(col), m.Rows)
		}
		for i, v := range col {
			if math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
				return fmt.Errorf("gbdt: %s column %s row %d: value %v is outside float32's range (XGBoost compares features as float32); mark it missing (NaN) or rescale the column", which, colName(m, j), i, v)
			}
		}
	}
	return nil
}

// checkWeights refuses weights XGBoost refuses ("Weights must be positive
// values": negative, NaN or infinite), weights beyond float32, in which
// XGBoost keeps them, and weights that are all 0, which leave nothing to fit.
func checkWeights(which string, m *Matrix) error {
	if m.Weights == nil {
		return nil
	}
	if len(m.Weights) != m.Rows {
		return fmt.Errorf("gbdt: the %s matrix has %d weights for %d rows", which, len(m.Weights), m.Rows)
	}
	positive := false
	for i, w := range m.Weights {
		if !(w >= 0) || w > math.MaxFloat32 {
			return fmt.Errorf("gbdt: %s row %d has weight %v; weights must be finite numbers >= 0 within float32's range", which, i, w)
		}
		positive = positive || float32(w) > 0
	}
	if !positive && m.Rows > 0 {
		return fmt.Errorf("gbdt: every %s weight is 0 (in float32): there is nothing to fit or measure", which)
	}
	return nil
}

func colName(m *Matrix, j int) string {
	if len(m.Names) == len(m.Cols) {
		return fmt.Sprintf("%d (%q)", j, m.Names[j])
	}
	return fmt.Sprintf("%d", j)
}

func checkLabels(which string, y []float64, objective string) error {
	for i, v := range y {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return fmt.Errorf("gbdt: %s label %d is %v; labels must be finite (drop unlabelled rows first)", which, i, v)
		case objective == xgb.BinaryLogistic && v != 0 && v != 1:
			return fmt.Errorf("gbdt: %s label %d is %v; %s needs labels 0 or 1", which, i, v, objective)
		case math.Abs(v) > math.MaxFloat32:
			return fmt.Errorf("gbdt: %s label %d is %v, outside float32's range (XGBoost stores labels as float32)", which, i, v)
		}
	}
	return nil
}
