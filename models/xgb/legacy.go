package xgb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// The legacy binary layout is XGBoost's in-memory structs written as they
// are (little-endian), from src/learner.cc, src/gbm/gbtree_model.h and
// include/xgboost/tree_model.h of XGBoost 0.90 and 1.0:
//
//	LearnerModelParam   136 bytes: base_score f32, num_feature u32,
//	                    num_class i32, contain_extra_attrs i32,
//	                    contain_eval_metrics i32, major_version u32,
//	                    minor_version u32 (both 0 before 1.0), reserved
//	objective, booster  strings: u64 length, then the bytes
//	GBTreeModelParam    160 bytes: num_trees i32, num_roots i32,
//	                    num_feature i32, pad i32, num_pbuffer i64,
//	                    num_output_group i32, size_leaf_vector i32, reserved
//	per tree            TreeParam 148 bytes (num_roots, num_nodes,
//	                    num_deleted, max_depth, num_feature,
//	                    size_leaf_vector, reserved), then num_nodes nodes of
//	                    20 bytes (parent i32 with the is-left bit 31,
//	                    left i32, right i32, split index u32 with the
//	                    default-left bit 31, threshold or leaf value f32),
//	                    then num_nodes stats of 16 bytes (loss_chg,
//	                    sum_hess, base_weight f32, leaf_child_cnt i32)
//	tree_info           num_trees i32 (the output group of each tree)
//	attributes          if contain_extra_attrs: u64 count, then pairs of
//	                    strings (1.0 also keeps the objective's settings
//	                    and the eval metrics there)
//	eval metrics        if contain_eval_metrics (0.90): u64 count, strings
//
// Before 1.0 base_score was stored as a margin; 1.0 stores the probability
// and marks itself with major_version 1. XGBoost 1.1 and later prefix the
// same layout with "binf"; leaves reads that prefix as part of base_score,
// every later field shifts by four bytes, and it ends up trusting a string
// length of billions: an out-of-memory crash no recover() catches.
const (
	learnerParamSize = 136
	gbtreeParamSize  = 160
	treeParamSize    = 148
	nodeSize         = 20
	statSize         = 16
	maxNameLen       = 256     // objective and booster names
	maxAttrLen       = 1 << 24 // one attribute key or value
)

// LeavesThresholds is the attribute that marks a legacy binary whose split
// thresholds are stored for leaves' rule (see WriteLegacyBinary);
// ReadLegacyBinary restores XGBoost's thresholds from such a file.
const LeavesThresholds = "risklane_thresholds"

// LeavesThresholdsValue is the value of the LeavesThresholds attribute.
const LeavesThresholdsValue = "float32 below, for value <= threshold"

// WriteLegacyBinary validates m and writes it in XGBoost 0.90's binary
// layout, the one github.com/dmitryikh/leaves loads, so that leaves' own
// XGEnsembleFromFile and PredictDense, given float32 values, predict as
// XGBoost does:
//
//   - leaves sends a value left when value <= threshold, XGBoost when
//     value < threshold. Each split threshold t is stored as the float32
//     just below it, math.Nextafter32(t, -Inf): for every float32 value v,
//     v <= that number exactly when v < t. The file carries the attribute
//     LeavesThresholds so that risklane reads XGBoost's thresholds back.
//     XGBoost itself, loading the file, splits at the lowered threshold: it
//     differs from the model only for a value exactly equal to it (one
//     float32 number below each threshold). XGBoost users get the JSON.
//   - base_score is written as a margin with major_version 0, as XGBoost
//     0.90 does, because leaves adds the stored base_score to the margin as
//     it is; XGBoost 1.x and later read such a file the same way.
func WriteLegacyBinary(w io.Writer, m *Model) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("invalid model: %w", err)
	}
	return writeLegacyBinary(w, m)
}

// writeLegacyBinary writes m, which must hold together structurally; tests
// use it to write models that Validate refuses.
func writeLegacyBinary(w io.Writer, m *Model) error {
	if _, ok := m.Attributes[LeavesThresholds]; ok {
		return fmt.Errorf("the model has an attribute %q, which risklane reserves for the legacy binary it writes", LeavesThresholds)
	}
	attrs := make(map[string]string, len(m.Attributes)+1)
	for k, v := range m.Attributes {
		attrs[k] = v
	}
	attrs[LeavesThresholds] = LeavesThresholdsValue
	bw := bufio.NewWriterSize(w, 1<<16)
	le := binary.LittleEndian

	param := make([]byte, learnerParamSize)
	le.PutUint32(param[0:], math.Float32bits(m.BaseMargin()))
	le.PutUint32(param[4:], uint32(m.NumFeature))
	le.PutUint32(param[12:], 1) // contain_extra_attrs: at least LeavesThresholds
	bw.Write(param)
	writeString(bw, m.Objective)
	writeString(bw, "gbtree")

	gbp := make([]byte, gbtreeParamSize)
	le.PutUint32(gbp[0:], uint32(len(m.Trees)))
	le.PutUint32(gbp[4:], 1) // num_roots
	le.PutUint32(gbp[8:], uint32(m.NumFeature))
	le.PutUint32(gbp[24:], 1) // num_output_group
	bw.Write(gbp)

	var buf []byte
	for i := range m.Trees {
		t := &m.Trees[i]
		n := t.NumNodes()
		buf = slices.Grow(buf[:0], treeParamSize+n*(nodeSize+statSize))[:treeParamSize+n*(nodeSize+statSize)]
		clear(buf[:treeParamSize])
		le.PutUint32(buf[0:], 1) // num_roots
		le.PutUint32(buf[4:], uint32(n))
		le.PutUint32(buf[8:], uint32(t.numDeleted()))
		le.PutUint32(buf[12:], uint32(t.maxDepth()))
		le.PutUint32(buf[16:], uint32(m.NumFeature))
		nodes := buf[treeParamSize:]
		stats := nodes[n*nodeSize:]
		for id := 0; id < n; id++ {
			parent := uint32(0xFFFFFFFF)
			if p := t.Parent[id]; p >= 0 {
				parent = uint32(p)
				if t.Left[p] == int32(id) {
					parent |= 1 << 31
				}
			}
			sindex := uint32(t.SplitIndex[id])
			if t.DefaultLeft[id] {
				sindex |= 1 << 31
			}
			nd := nodes[id*nodeSize:]
			le.PutUint32(nd[0:], parent)
			le.PutUint32(nd[4:], uint32(t.Left[id]))
			le.PutUint32(nd[8:], uint32(t.Right[id]))
			le.PutUint32(nd[12:], sindex)
			cond := t.SplitCondition[id]
			if t.Left[id] != -1 {
				cond = math.Nextafter32(cond, float32(math.Inf(-1)))
			}
			le.PutUint32(nd[16:], math.Float32bits(cond))
			st := stats[id*statSize:]
			le.PutUint32(st[0:], math.Float32bits(t.LossChange[id]))
			le.PutUint32(st[4:], math.Float32bits(t.SumHessian[id]))
			le.PutUint32(st[8:], math.Float32bits(t.BaseWeight[id]))
			le.PutUint32(st[12:], 0)
		}
		bw.Write(buf)
	}
	bw.Write(make([]byte, 4*len(m.Trees))) // tree_info: all in group 0

	{
		keys := make([]string, 0, len(attrs))
		for k := range attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys) // XGBoost writes a std::map, in key order
		var n [8]byte
		le.PutUint64(n[:], uint64(len(keys)))
		bw.Write(n[:])
		for _, k := range keys {
			writeString(bw, k)
			writeString(bw, attrs[k])
		}
	}
	return bw.Flush() // bufio keeps the first write error and returns it here
}

func writeString(w *bufio.Writer, s string) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
	w.Write(n[:])
	w.WriteString(s)
}

// ErrOldBinary is returned (wrapped) for a binary model saved by XGBoost
// 0.4x (it starts with "binf" but carries no version), which risklane does
// not read.
var ErrOldBinary = errors.New(`binary model saved by XGBoost 0.4x ("binf" without a version)`)

// ErrNewerBinary is returned (wrapped) for a binary model saved by XGBoost
// 1.1 or later, which risklane does not read.
var ErrNewerBinary = errors.New("binary model saved by XGBoost 1.1 or later")

// ReadLegacyBinary reads a model in the binary layout XGBoost 0.90 and 1.0
// write with save_model (see WriteLegacyBinary) and validates it.
//
// Every count and length is checked against the bytes actually left before
// anything is allocated for it, so a corrupt or hostile file gives an error,
// never a huge allocation. A binary saved by XGBoost 1.1 or later (it starts
// with "binf") is refused with ErrNewerBinary and advice to save it as JSON.
func ReadLegacyBinary(r io.Reader) (*Model, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	return decodeLegacy(data)
}

// binfError explains a binary that starts with "binf". XGBoost 1.1 and
// later write it before the learner parameters, which then carry their
// version; XGBoost 0.4x wrote it too, before parameters whose version
// fields were still reserved (zero).
func binfError(data []byte) error {
	le := binary.LittleEndian
	if len(data) < 4+28 {
		return errors.New(`starts with "binf" like an XGBoost binary model but is truncated`)
	}
	major, minor := le.Uint32(data[4+20:]), le.Uint32(data[4+24:])
	switch {
	case major == 0 && minor == 0:
		return fmt.Errorf("%w: risklane reads binary models of XGBoost 0.90 and 1.0; load it with the XGBoost that saved it, then save it from XGBoost 1.0 or later as JSON with booster.save_model(\"model.json\")", ErrOldBinary)
	case plausibleVersion(major, minor):
		return fmt.Errorf("%w (version %d.%d): load it in Python XGBoost and save it as JSON with booster.save_model(\"model.json\")", ErrNewerBinary, major, minor)
	}
	return fmt.Errorf(`starts with "binf" like an XGBoost binary model but its learner parameters hold no XGBoost version (bytes % x): not a model file`, data[4+20:4+28])
}

// plausibleVersion reports whether major.minor can be an XGBoost release
// that writes binary models (1.0 to 3.x, with room to grow).
func plausibleVersion(major, minor uint32) bool {
	return major >= 1 && major <= 9 && minor < 100
}

// textModel names a text file given where a model is expected (a tree dump,
// an XGBoost4J-Spark metadata file, any other text), or returns "". A
// legacy binary starts with base_score, a float32 whose bytes are not all
// printable.
func textModel(data []byte) string {
	head := data[:min(len(data), 64)]
	for _, c := range head {
		if c >= 0x7f || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			return ""
		}
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case bytes.HasPrefix(trimmed, []byte("[")) && bytes.Contains(data, []byte(`"nodeid"`)):
		return `a tree dump (booster.dump_model(..., dump_format="json")), which XGBoost writes for reading, not loading: save the model itself with booster.save_model("model.json")`
	case bytes.HasPrefix(trimmed, []byte("booster[")):
		return `a text tree dump (booster.dump_model), which XGBoost writes for reading, not loading: save the model itself with booster.save_model("model.json")`
	case bytes.Contains(head, []byte("xgboost4j")) || bytes.Contains(head, []byte(`"class"`)):
		return sparkMetadata
	}
	return fmt.Sprintf("a text file (it starts with %q), not an XGBoost model", head[:min(len(head), 24)])
}

const sparkMetadata = `an XGBoost4J-Spark metadata file, not a model: the booster is in the model folder's data/ part; save it with nativeBooster.saveModel("model.json")`

type legacyReader struct {
	data []byte
	pos  int
}

func (b *legacyReader) fail(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", b.pos, fmt.Sprintf(format, args...))
}

func (b *legacyReader) take(n int, what string) ([]byte, error) {
	if n < 0 || n > len(b.data)-b.pos {
		return nil, b.fail("%s needs %d bytes but only %d are left (file truncated?)", what, n, len(b.data)-b.pos)
	}
	p := b.data[b.pos : b.pos+n]
	b.pos += n
	return p, nil
}

func (b *legacyReader) str(what string, maxLen int) (string, error) {
	p, err := b.take(8, what+" length")
	if err != nil {
		return "", err
	}
	n := binary.LittleEndian.Uint64(p)
	if n > uint64(maxLen) || n > uint64(len(b.data)-b.pos) {
		b.pos -= 8
		return "", b.fail("%s has length %d, more than the %d bytes left or the %d allowed", what, n, len(b.data)-b.pos-8, maxLen)
	}
	s, err := b.take(int(n), what)
	return string(s), err
}

func decodeLegacy(data []byte) (*Model, error) {
	le := binary.LittleEndian
	switch {
	case bytes.HasPrefix(data, []byte("binf")):
		return nil, binfError(data)
	case bytes.HasPrefix(data, []byte("CONFIG-offset:")):
		return nil, errors.New(`an XGBoost memory snapshot (pickle or save_raw), not a model file: save the model with booster.save_model("model.json")`)
	case bytes.HasPrefix(data, []byte("bs64")):
		return nil, errors.New("a base64 model of XGBoost before 0.6, which no current XGBoost reads")
	case looksUBJSON(data):
		return nil, errors.New("an XGBoost UBJSON model, not a legacy binary: read it with ReadUBJSON or ReadFile")
	case len(data) > 0 && data[0] == '{':
		return nil, errors.New("an XGBoost JSON model, not a legacy binary: read it with ReadJSON or ReadFile")
	}

	if what := textModel(data); what != "" {
		return nil, errors.New(what)
	}
	b := &legacyReader{data: data}
	p, err := b.take(learnerParamSize, "learner parameters")
	if err != nil {
		return nil, err
	}
	baseScore := math.Float32frombits(le.Uint32(p[0:]))
	numFeature := le.Uint32(p[4:])
	numClass := int32(le.Uint32(p[8:]))
	extraAttrs := le.Uint32(p[12:]) != 0
	evalMetrics := le.Uint32(p[16:]) != 0
	major, minor := le.Uint32(p[20:]), le.Uint32(p[24:])
	switch {
	case major == 0 && minor == 0:
	case major == 1 && minor == 0:
	case plausibleVersion(major, minor):
		return nil, fmt.Errorf("learner parameters give XGBoost version %d.%d: risklane reads binary models of XGBoost 1.0 and earlier; save newer models as JSON", major, minor)
	default:
		return nil, fmt.Errorf("not an XGBoost binary model (its learner parameters hold no XGBoost version; it starts with bytes % x)", data[:8])
	}
	if numFeature < 1 || numFeature > MaxFeatures {
		return nil, fmt.Errorf("num_feature %d out of range (1 to %d): not an XGBoost binary model?", numFeature, MaxFeatures)
	}
	if numClass > 1 {
		return nil, fmt.Errorf("a multi-class model (%d classes) is not supported: risklane scores binary and regression models", numClass)
	}
	if numClass < 0 {
		return nil, fmt.Errorf("num_class %d is negative: not an XGBoost binary model?", numClass)
	}
	objective, err := b.str("objective name", maxNameLen)
	if err != nil {
		return nil, err
	}
	booster, err := b.str("booster name", maxNameLen)
	if err != nil {
		return nil, err
	}
	objective = objectiveName(objective)
	if !supported(objective) {
		return nil, fmt.Errorf("objective %q is not supported (risklane scores %s)", objective, Objectives)
	}
	if err := checkBooster("booster", booster); err != nil {
		return nil, err
	}
	m := &Model{Objective: objective, NumFeature: int(numFeature)}
	if major == 0 {
		// XGBoost before 1.0 stored the margin; turn it back into the
		// objective's output space with XGBoost's own PredTransform.
		m.BaseScore = baseScore
		if m.Sigmoid() {
			m.BaseScore = Sigmoid(baseScore)
		}
	} else {
		m.BaseScore = baseScore
	}

	p, err = b.take(gbtreeParamSize, "gbtree parameters")
	if err != nil {
		return nil, err
	}
	numTrees := int32(le.Uint32(p[0:]))
	numRoots := int32(le.Uint32(p[4:]))
	groups := int32(le.Uint32(p[24:]))
	leafVector := int32(le.Uint32(p[28:]))
	if numTrees < 0 || numTrees > MaxTrees {
		return nil, fmt.Errorf("gbtree parameters: num_trees %d out of range (0 to %d)", numTrees, MaxTrees)
	}
	if numRoots != 1 {
		return nil, fmt.Errorf("gbtree parameters: num_roots %d, want 1", numRoots)
	}
	if groups > 1 {
		return nil, fmt.Errorf("a model with %d output groups (multi-class) is not supported", groups)
	}
	if leafVector != 0 {
		return nil, fmt.Errorf("gbtree parameters: size_leaf_vector %d, want 0", leafVector)
	}
	if minBytes := int64(numTrees) * (treeParamSize + nodeSize + statSize + 4); minBytes > int64(len(data)-b.pos) {
		return nil, b.fail("%d trees need at least %d bytes but only %d are left (file truncated?)", numTrees, minBytes, len(data)-b.pos)
	}

	m.Trees = make([]Tree, numTrees)
	for i := range m.Trees {
		if err := b.tree(&m.Trees[i]); err != nil {
			return nil, fmt.Errorf("tree %d: %w", i, err)
		}
	}
	p, err = b.take(4*int(numTrees), "tree_info")
	if err != nil {
		return nil, err
	}
	for i := range int(numTrees) {
		if g := int32(le.Uint32(p[4*i:])); g != 0 {
			return nil, fmt.Errorf("tree %d belongs to output group %d: multi-class models are not supported", i, g)
		}
	}
	if extraAttrs {
		if m.Attributes, err = b.attributes(); err != nil {
			return nil, err
		}
		if _, ok := m.Attributes[LeavesThresholds]; ok {
			// Written by risklane for leaves: XGBoost's threshold is the
			// float32 just above the stored one.
			for i := range m.Trees {
				t := &m.Trees[i]
				for id, l := range t.Left {
					if l != -1 {
						t.SplitCondition[id] = math.Nextafter32(t.SplitCondition[id], float32(math.Inf(1)))
					}
				}
			}
			delete(m.Attributes, LeavesThresholds)
			if len(m.Attributes) == 0 {
				m.Attributes = nil
			}
		}
	}
	if evalMetrics && major == 0 {
		if err := b.metrics(); err != nil {
			return nil, err
		}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func (b *legacyReader) tree(t *Tree) error {
	le := binary.LittleEndian
	p, err := b.take(treeParamSize, "tree parameters")
	if err != nil {
		return err
	}
	numRoots := int32(le.Uint32(p[0:]))
	numNodes := int32(le.Uint32(p[4:]))
	numDeleted := int32(le.Uint32(p[8:]))
	leafVector := int32(le.Uint32(p[20:]))
	if numRoots != 1 {
		return b.fail("num_roots %d, want 1", numRoots)
	}
	if numNodes < 1 || numNodes > MaxNodes {
		return b.fail("num_nodes %d out of range (1 to %d)", numNodes, MaxNodes)
	}
	if leafVector != 0 {
		return b.fail("size_leaf_vector %d, want 0", leafVector)
	}
	n := int(numNodes)
	p, err = b.take(n*(nodeSize+statSize), fmt.Sprintf("%d nodes", n))
	if err != nil {
		return err
	}
	*t = NewTree(n)
	stats := p[n*nodeSize:]
	for id := range n {
		nd := p[id*nodeSize:]
		parent := int32(le.Uint32(nd[0:]))
		if parent != -1 {
			parent &= 1<<31 - 1
		}
		sindex := le.Uint32(nd[12:])
		t.Parent[id] = parent
		t.Left[id] = int32(le.Uint32(nd[4:]))
		t.Right[id] = int32(le.Uint32(nd[8:]))
		t.SplitIndex[id] = int32(sindex & (1<<31 - 1))
		t.DefaultLeft[id] = sindex>>31 != 0
		t.SplitCondition[id] = math.Float32frombits(le.Uint32(nd[16:]))
		st := stats[id*statSize:]
		t.LossChange[id] = math.Float32frombits(le.Uint32(st[0:]))
		t.SumHessian[id] = math.Float32frombits(le.Uint32(st[4:]))
		t.BaseWeight[id] = math.Float32frombits(le.Uint32(st[8:]))
	}
	if d := t.numDeleted(); int32(d) != numDeleted {
		return fmt.Errorf("tree parameters say %d deleted nodes but %d are marked deleted", numDeleted, d)
	}
	return nil
}

func (b *legacyReader) attributes() (map[string]string, error) {
	p, err := b.take(8, "attribute count")
	if err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(p)
	if n > uint64(len(b.data)-b.pos)/16 {
		b.pos -= 8
		return nil, b.fail("%d attributes cannot fit in the %d bytes left", n, len(b.data)-b.pos-8)
	}
	attrs := make(map[string]string, n)
	for range n {
		k, err := b.str("attribute name", maxAttrLen)
		if err != nil {
			return nil, err
		}
		v, err := b.str("attribute value", maxAttrLen)
		if err != nil {
			return nil, err
		}
		if !loaderAttribute(k) {
			attrs[k] = v
		}
	}
	if len(attrs) == 0 {
		return nil, nil
	}
	return attrs, nil
}

// loaderAttribute reports whether an attribute of a binary model is
// configuration XGBoost's loader consumes (the objective's settings, eval
// metrics, saved parameters) rather than an attribute of the model.
func loaderAttribute(key string) bool {
	switch key {
	case "objective", "metrics", "count_poisson_max_delta_step":
		return true
	}
	return strings.HasPrefix(key, "SAVED_PARAM_")
}

// metrics checks the list of evaluation metric names XGBoost 0.90 appends;
// risklane does not use them.
func (b *legacyReader) metrics() error {
	p, err := b.take(8, "metric count")
	if err != nil {
		return err
	}
	n := binary.LittleEndian.Uint64(p)
	if n > uint64(len(b.data)-b.pos)/8 {
		b.pos -= 8
		return b.fail("%d metric names cannot fit in the %d bytes left", n, len(b.data)-b.pos-8)
	}
	for range n {
		if _, err := b.str("metric name", maxNameLen); err != nil {
			return err
		}
	}
	return nil
}

// checkBooster refuses every booster but gbtree, naming it as what (the
// JSON and the legacy format call it differently).
func checkBooster(what, name string) error {
	switch name {
	case "gbtree":
		return nil
	case "dart":
		return errors.New("dart boosters are not supported: retrain with booster='gbtree'")
	case "gblinear":
		return errors.New("gblinear boosters are not supported: risklane scores tree ensembles (booster='gbtree')")
	}
	return fmt.Errorf("%s %q is not supported (want gbtree)", what, name)
}
