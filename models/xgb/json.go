package xgb

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// MaxFileSize is the largest model file risklane reads (2 GiB). Readers
// never allocate more than a small multiple of what they actually read.
const MaxFileSize int64 = 2 << 30

// The JSON schema as XGBoost 1.0 to 3.x write it (doc/model.schema,
// src/learner.cc, src/gbm/gbtree_model.cc, src/tree/tree_model.cc). Fields
// risklane does not need are left out and ignored on reading.
type jsonModel struct {
	Learner *jsonLearner `json:"learner"`
}

type jsonLearner struct {
	Attributes      map[string]string `json:"attributes"`
	FeatureNames    []string          `json:"feature_names"`
	GradientBooster *jsonBooster      `json:"gradient_booster"`
	ModelParam      *jsonLearnerParam `json:"learner_model_param"`
	Objective       *struct {
		Name string `json:"name"`
	} `json:"objective"`
}

type jsonLearnerParam struct {
	BaseScore  string `json:"base_score"`
	NumClass   string `json:"num_class"`
	NumFeature string `json:"num_feature"`
	NumTarget  string `json:"num_target"`
}

type jsonBooster struct {
	Name  string       `json:"name"`
	Model *jsonGBTrees `json:"model"`
}

type jsonGBTrees struct {
	Param struct {
		NumTrees       string `json:"num_trees"`
		SizeLeafVector string `json:"size_leaf_vector"`
	} `json:"gbtree_model_param"`
	Trees    []jsonTree `json:"trees"`
	TreeInfo []int64    `json:"tree_info"`
}

type jsonTree struct {
	ID    *int64 `json:"id"`
	Param struct {
		NumNodes       string `json:"num_nodes"`
		SizeLeafVector string `json:"size_leaf_vector"`
	} `json:"tree_param"`
	Left            []int32    `json:"left_children"`
	Right           []int32    `json:"right_children"`
	Parent          []int32    `json:"parents"`
	SplitIndex      []int32    `json:"split_indices"`
	SplitCondition  []float32  `json:"split_conditions"`
	DefaultLeft     []jsonBool `json:"default_left"`
	BaseWeight      []float32  `json:"base_weights"`
	LossChange      []float32  `json:"loss_changes"`
	SumHessian      []float32  `json:"sum_hessian"`
	SplitType       []int32    `json:"split_type"`
	CategoriesNodes []int32    `json:"categories_nodes"`
}

// jsonBool reads default_left entries, which XGBoost 1.0 writes as JSON
// booleans and later versions as 0 or 1.
type jsonBool bool

func (b *jsonBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", "1":
		*b = true
	case "false", "0":
		*b = false
	default:
		return fmt.Errorf("default_left entry %s is not 0, 1, true or false", data)
	}
	return nil
}

// ErrCategorical is returned (possibly wrapped) for a model with
// categorical splits (XGBoost 1.5 and later with enable_categorical).
var ErrCategorical = errors.New("categorical splits are not supported (train with numerical features only, or one-hot encode the categories)")

// categoricalJSON reports whether a model's JSON text (possibly one that
// does not decode) has a tree with categorical splits: a non-empty
// "categories_nodes" array, which XGBoost 1.5 to 3.x write for such trees.
func categoricalJSON(data []byte) bool {
	key := []byte(`"categories_nodes"`)
	for {
		i := bytes.Index(data, key)
		if i < 0 {
			return false
		}
		data = data[i+len(key):]
		rest := bytes.TrimLeft(data, " \t\r\n")
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		rest = bytes.TrimLeft(rest[1:], " \t\r\n")
		if len(rest) == 0 || rest[0] != '[' {
			continue
		}
		if rest = bytes.TrimLeft(rest[1:], " \t\r\n"); len(rest) > 0 && rest[0] != ']' {
			return true
		}
	}
}

// xgbRootParent is the parent id XGBoost writes for the root node
// (kInvalidNodeId with its "is left child" bit masked off).
const xgbRootParent = 1<<31 - 1

// ReadJSON reads a model in the JSON format that XGBoost 1.0 to 3.x write
// with save_model("model.json") and validates it. Multi-class and
// multi-target models, categorical splits, gblinear and dart boosters are
// refused with a message saying so.
func ReadJSON(r io.Reader) (*Model, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	return decodeJSON(data)
}

func decodeJSON(data []byte) (*Model, error) {
	var jm jsonModel
	if err := json.Unmarshal(data, &jm); err != nil {
		if categoricalJSON(data) {
			// XGBoost writes NaN as the threshold of a categorical split:
			// say that categorical splits are the problem, not the NaN.
			return nil, ErrCategorical
		}
		return nil, jsonError(data, err)
	}
	if jm.Learner == nil && bytes.Contains(data, []byte("xgboost4j")) {
		return nil, errors.New(sparkMetadata)
	}
	m, err := jm.model()
	if err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// jsonError places a decoding error at its line and column.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(data, syn.Offset)
		msg := fmt.Sprintf("line %d, column %d: invalid JSON: %v", line, col, syn)
		if looksUBJSON(data) {
			msg += " (this looks like UBJSON: read it with ReadUBJSON or ReadFile)"
		} else if at := min(max(int(syn.Offset)-1, 0), len(data)); bytes.HasPrefix(data[at:], []byte("NaN")) || bytes.HasPrefix(data[at:], []byte("Infinity")) {
			msg += " (the model holds NaN or infinite values, which risklane does not accept)"
		}
		return errors.New(msg)
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset)
		field := typ.Field
		if field == "" {
			field = "the document"
		}
		return fmt.Errorf("line %d, column %d: %s: JSON %s does not fit %s", line, col, field, typ.Value, typ.Type)
	}
	return fmt.Errorf("invalid model JSON: %w", err)
}

// lineCol locates the byte before offset: encoding/json reports the offset
// just after the byte it stumbled on.
func lineCol(data []byte, offset int64) (line, col int) {
	offset = min(max(offset-1, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

func (jm *jsonModel) model() (*Model, error) {
	l := jm.Learner
	if l == nil {
		return nil, errors.New(`no "learner" object: not an XGBoost model`)
	}
	if l.Objective == nil || l.Objective.Name == "" {
		return nil, errors.New("learner.objective.name is missing")
	}
	if l.ModelParam == nil {
		return nil, errors.New("learner.learner_model_param is missing")
	}
	gb := l.GradientBooster
	if gb == nil {
		return nil, errors.New("learner.gradient_booster is missing")
	}
	if err := checkBooster("gradient booster", gb.Name); err != nil {
		return nil, err
	}
	if gb.Model == nil {
		return nil, errors.New("learner.gradient_booster.model is missing")
	}
	p := l.ModelParam
	if n, err := optionalInt(p.NumClass, "learner_model_param.num_class"); err != nil {
		return nil, err
	} else if n > 1 {
		return nil, fmt.Errorf("a multi-class model (%d classes) is not supported: risklane scores binary and regression models", n)
	}
	if n, err := optionalInt(p.NumTarget, "learner_model_param.num_target"); err != nil {
		return nil, err
	} else if n > 1 {
		return nil, fmt.Errorf("a multi-target model (%d targets) is not supported", n)
	}
	objective := objectiveName(l.Objective.Name)
	if !supported(objective) {
		return nil, fmt.Errorf("objective %q is not supported (risklane scores %s)", objective, Objectives)
	}
	baseScore, err := parseBaseScore(p.BaseScore)
	if err != nil {
		return nil, err
	}
	numFeature, err := strconv.ParseInt(strings.TrimSpace(p.NumFeature), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("learner_model_param.num_feature %q is not an integer", p.NumFeature)
	}
	if numFeature < 1 || numFeature > MaxFeatures {
		return nil, fmt.Errorf("learner_model_param.num_feature %d out of range (1 to %d)", numFeature, MaxFeatures)
	}
	m := &Model{
		Objective:  objective,
		BaseScore:  baseScore,
		NumFeature: int(numFeature),
	}
	if len(l.FeatureNames) > 0 {
		m.FeatureNames = l.FeatureNames
	}
	if len(l.Attributes) > 0 {
		m.Attributes = l.Attributes
	}
	m.Trees, err = gb.Model.trees()
	if err != nil {
		return nil, err
	}
	return m, nil
}

func optionalInt(s, what string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not an integer", what, s)
	}
	return n, nil
}

// parseBaseScore reads learner_model_param.base_score: a number ("5E-1",
// "0.500000") up to XGBoost 2.x, and a one-element vector ("[5E-1]") from
// 3.x on.
func parseBaseScore(s string) (float32, error) {
	v := strings.TrimSpace(s)
	if strings.HasPrefix(v, "[") || strings.HasPrefix(v, "(") {
		if !strings.HasSuffix(v, "]") && !strings.HasSuffix(v, ")") {
			return 0, fmt.Errorf("learner_model_param.base_score %q is not a number or a vector", s)
		}
		v = strings.TrimSpace(v[1 : len(v)-1])
		if strings.Contains(v, ",") {
			return 0, fmt.Errorf("learner_model_param.base_score %q has several values: a multi-output model is not supported", s)
		}
	}
	f, err := strconv.ParseFloat(v, 32)
	if err != nil {
		return 0, fmt.Errorf("learner_model_param.base_score %q is not a number", s)
	}
	return float32(f), nil
}

func (g *jsonGBTrees) trees() ([]Tree, error) {
	n := len(g.Trees)
	if n > MaxTrees {
		return nil, fmt.Errorf("%d trees: more than the %d risklane accepts", n, MaxTrees)
	}
	if s := g.Param.NumTrees; s != "" {
		if k, err := strconv.Atoi(strings.TrimSpace(s)); err != nil || k != n {
			return nil, fmt.Errorf("gbtree_model_param.num_trees is %q but the model holds %d trees", s, n)
		}
	}
	if k, err := optionalInt(g.Param.SizeLeafVector, "gbtree_model_param.size_leaf_vector"); err != nil {
		return nil, err
	} else if k > 1 {
		return nil, fmt.Errorf("gbtree_model_param.size_leaf_vector is %d: multi-target trees are not supported", k)
	}
	if len(g.TreeInfo) != n {
		return nil, fmt.Errorf("tree_info has %d entries for %d trees", len(g.TreeInfo), n)
	}
	for i, group := range g.TreeInfo {
		if group != 0 {
			return nil, fmt.Errorf("tree %d belongs to output group %d: multi-class models are not supported", i, group)
		}
	}
	trees := make([]Tree, n)
	placed := make([]bool, n)
	for i := range g.Trees {
		jt := &g.Trees[i]
		// XGBoost places each tree by its id, not by its position.
		at := i
		if jt.ID != nil {
			if *jt.ID < 0 || *jt.ID >= int64(n) {
				return nil, fmt.Errorf("tree %d: id %d out of range (model has %d trees)", i, *jt.ID, n)
			}
			at = int(*jt.ID)
		}
		if placed[at] {
			return nil, fmt.Errorf("tree %d: id %d appears twice", i, at)
		}
		placed[at] = true
		t, err := jt.tree()
		if err != nil {
			return nil, fmt.Errorf("tree %d%w", at, err)
		}
		trees[at] = t
	}
	return trees, nil
}

func (jt *jsonTree) tree() (Tree, error) {
	if k, err := optionalInt(jt.Param.SizeLeafVector, "tree_param.size_leaf_vector"); err != nil {
		return Tree{}, fmt.Errorf(": %w", err)
	} else if k > 1 {
		return Tree{}, fmt.Errorf(": tree_param.size_leaf_vector is %d: multi-target trees are not supported", k)
	}
	n := len(jt.Left)
	if s := jt.Param.NumNodes; s != "" {
		if k, err := strconv.Atoi(strings.TrimSpace(s)); err != nil || k != n {
			return Tree{}, fmt.Errorf(": tree_param.num_nodes is %q but left_children has %d entries", s, n)
		}
	}
	if slices.ContainsFunc(jt.SplitType, func(v int32) bool { return v != 0 }) || len(jt.CategoriesNodes) > 0 {
		return Tree{}, fmt.Errorf(": %w", ErrCategorical)
	}
	t := Tree{
		Left:           jt.Left,
		Right:          jt.Right,
		Parent:         jt.Parent,
		SplitIndex:     jt.SplitIndex,
		SplitCondition: jt.SplitCondition,
		DefaultLeft:    make([]bool, len(jt.DefaultLeft)),
		BaseWeight:     jt.BaseWeight,
		LossChange:     jt.LossChange,
		SumHessian:     jt.SumHessian,
	}
	for i, b := range jt.DefaultLeft {
		t.DefaultLeft[i] = bool(b)
	}
	if len(t.Parent) > 0 && t.Parent[0] == xgbRootParent {
		t.Parent[0] = -1
	}
	return t, nil
}

// readAll reads a whole model file, refusing one larger than MaxFileSize.
func readAll(r io.Reader) ([]byte, error) {
	if b, ok := r.(*bytes.Reader); ok && int64(b.Len()) <= MaxFileSize {
		// Sized at once: io.ReadAll's doubling clears and copies a large
		// model several times.
		data := make([]byte, b.Len())
		n, _ := b.Read(data)
		if data = data[:n]; len(data) == 0 {
			return nil, errors.New("empty model file")
		}
		return data, nil
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > MaxFileSize {
		return nil, fmt.Errorf("model file larger than %d bytes", MaxFileSize)
	}
	if len(data) == 0 {
		return nil, errors.New("empty model file")
	}
	return data, nil
}

// xgbVersion is the XGBoost release whose JSON layout WriteJSON follows.
var xgbVersion = [3]int{1, 7, 4}

// WriteJSON validates m and writes it in XGBoost's JSON model format, as
// XGBoost 1.7 writes it, so that XGBoost 1.7 and later load it with
// Booster(model_file=...) and predict exactly as risklane does.
func WriteJSON(w io.Writer, m *Model) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("invalid model: %w", err)
	}
	return writeJSON(w, m)
}

// writeJSON writes m, which must hold together structurally; tests use it
// to write models that Validate refuses.
func writeJSON(w io.Writer, m *Model) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	b := make([]byte, 0, 1<<12)
	b = append(b, `{"learner":{"attributes":{`...)
	keys := make([]string, 0, len(m.Attributes))
	for k := range m.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m.Attributes[k])
	}
	b = append(b, `},"feature_names":[`...)
	for i, name := range m.FeatureNames {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, name)
	}
	b = append(b, `],"feature_types":[`...)
	for i := range m.FeatureNames {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `"float"`...)
	}
	b = append(b, `],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"`...)
	b = strconv.AppendInt(b, int64(len(m.Trees)), 10)
	b = append(b, `","size_leaf_vector":"0"},"tree_info":[`...)
	for i := range m.Trees {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '0')
	}
	b = append(b, `],"trees":[`...)
	for i := range m.Trees {
		if i > 0 {
			b = append(b, ',')
		}
		b = m.Trees[i].appendJSON(b, i, m.NumFeature)
		if len(b) > 1<<15 {
			if _, err := bw.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	b = append(b, `]},"name":"gbtree"},"learner_model_param":{"base_score":"`...)
	b = appendFloat(b, m.BaseScore)
	b = append(b, `","boost_from_average":"1","num_class":"0","num_feature":"`...)
	b = strconv.AppendInt(b, int64(m.NumFeature), 10)
	b = append(b, `","num_target":"1"},"objective":{"name":`...)
	b = appendString(b, m.Objective)
	b = append(b, `,"reg_loss_param":{"scale_pos_weight":"1"}}},"version":[`...)
	for i, v := range xgbVersion {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	b = append(b, "]}\n"...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}

func (t *Tree) appendJSON(b []byte, id, numFeature int) []byte {
	floats := func(b []byte, key string, v []float32) []byte {
		b = append(b, `"`+key+`":[`...)
		for i, f := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendFloat(b, f)
		}
		return append(b, "],"...)
	}
	ints := func(b []byte, key string, v []int32) []byte {
		b = append(b, `"`+key+`":[`...)
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(x), 10)
		}
		return append(b, "],"...)
	}
	n := t.NumNodes()
	b = append(b, '{')
	b = floats(b, "base_weights", t.BaseWeight)
	b = append(b, `"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[`...)
	for i, d := range t.DefaultLeft {
		if i > 0 {
			b = append(b, ',')
		}
		if d {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
	}
	b = append(b, `],"id":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, ',')
	b = ints(b, "left_children", t.Left)
	b = floats(b, "loss_changes", t.LossChange)
	b = append(b, `"parents":[`...)
	for i, p := range t.Parent {
		if i > 0 {
			b = append(b, ',')
		}
		if p == -1 {
			p = xgbRootParent
		}
		b = strconv.AppendInt(b, int64(p), 10)
	}
	b = append(b, "],"...)
	b = ints(b, "right_children", t.Right)
	b = floats(b, "split_conditions", t.SplitCondition)
	b = ints(b, "split_indices", t.SplitIndex)
	b = append(b, `"split_type":[`...)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '0')
	}
	b = append(b, "],"...)
	b = floats(b, "sum_hessian", t.SumHessian)
	b = append(b, `"tree_param":{"num_deleted":"`...)
	b = strconv.AppendInt(b, int64(t.numDeleted()), 10)
	b = append(b, `","num_feature":"`...)
	b = strconv.AppendInt(b, int64(numFeature), 10)
	b = append(b, `","num_nodes":"`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `","size_leaf_vector":"0"}}`...)
	return b
}

// appendFloat writes a float32 in the shortest form that reads back to the
// same float32, always with an exponent: XGBoost's JSON reader takes a
// number without '.' or 'e' for an integer and then refuses it where it
// expects a float.
// Validate has ruled out NaN and infinities, which JSON cannot hold.
func appendFloat(b []byte, f float32) []byte {
	return strconv.AppendFloat(b, float64(f), 'E', -1, 32)
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
