package xgb_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"risklane/models/xgb"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// allocatedBy returns the bytes f allocates on the heap.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Offsets in testdata/risklane-logistic.model (see legacy.go for the layout).
const (
	offObjective = 136
	offGBTree    = offObjective + 8 + len("binary:logistic") + 8 + len("gbtree")
	offTree0     = offGBTree + 160
	offNodes0    = offTree0 + 148
)

func TestLegacyBinaryHostile(t *testing.T) {
	good := readTestdata(t, "risklane-logistic.model")
	if _, err := xgb.ReadLegacyBinary(bytes.NewReader(good)); err != nil {
		t.Fatalf("the golden file does not read: %v", err)
	}
	patch := func(off int, v uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	patch64 := func(off int, v uint64) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint64(b[off:], v)
		return b
	}
	node := func(id, field int) int { return offNodes0 + 20*id + 4*field }
	// The file ends with the model's attributes: a count, then each key and
	// value as a length and bytes.
	attrsLen := 8
	for k, v := range map[string]string{"best_iteration": "5", "best_ntree_limit": "6", xgb.LeavesThresholds: xgb.LeavesThresholdsValue} {
		attrsLen += 16 + len(k) + len(v)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty model file"},
		{"text", []byte("this is not a model, just some text that is long enough to fill the learner parameters of an XGBoost binary model, which take one hundred and thirty-six bytes"), "a text file"},
		{"garbage version", func() []byte { b := patch(20, 0x1234567); binary.LittleEndian.PutUint32(b[24:], 0x89abcdef); return b }(), "no XGBoost version"},
		{"zeros", make([]byte, 4096), "num_feature 0 out of range"},
		{"XGBoost 1.1+ header", func() []byte {
			b := patch(20, 2)
			binary.LittleEndian.PutUint32(b[24:], 1)
			return append([]byte("binf"), b...)
		}(), "XGBoost 1.1 or later (version 2.1)"},
		{"XGBoost 0.4x header", append([]byte("binf"), good...), "XGBoost 0.4x"},
		{"memory snapshot", []byte("CONFIG-offset:\x10\x00\x00\x00\x00\x00\x00\x00"), "memory snapshot"},
		{"JSON", []byte(`{"learner": {}}`), "JSON model, not a legacy binary"},
		{"version 1.5 without header", func() []byte { b := patch(20, 1); binary.LittleEndian.PutUint32(b[24:], 5); return b }(), "version 1.5"},
		{"huge objective length", patch64(offObjective, 1<<62), "objective name has length 4611686018427387904"},
		{"unknown objective", bytes.Replace(good, []byte("binary:logistic"), []byte("multi:softmaxx"+"x"), 1), `objective "multi:softmaxx`},
		{"dart", bytes.Replace(good, []byte("\x06\x00\x00\x00\x00\x00\x00\x00gbtree"), []byte("\x06\x00\x00\x00\x00\x00\x00\x00dart\x00\x00"), 1), `booster "dart\x00\x00"`},
		{"absurd tree count", patch(offGBTree, 1<<30), "num_trees 1073741824 out of range"},
		{"tree count beyond the data", patch(offGBTree, 90000), "90000 trees need at least"},
		{"negative tree count", patch(offGBTree, 0xFFFFFFFF), "num_trees -1 out of range"},
		{"two output groups", patch(offGBTree+24, 2), "2 output groups"},
		{"absurd node count", patch(offTree0+4, 0x7FFFFFFF), "num_nodes 2147483647 out of range"},
		{"node count beyond the data", patch(offTree0+4, xgb.MaxNodes), "16777216 nodes needs 603979776 bytes"},
		{"zero nodes", patch(offTree0+4, 0), "num_nodes 0 out of range"},
		{"deleted count", patch(offTree0+8, 3), "3 deleted nodes but 0 are marked"},
		{"NaN threshold", patch(node(0, 4), math.Float32bits(float32(math.NaN()))), "tree 0 node 0: split threshold NaN"},
		{"infinite leaf", patch(node(7, 4), math.Float32bits(float32(math.Inf(-1)))), "tree 0 node 7: leaf value -Inf"},
		{"cycle", patch(node(1, 1), 0), "tree 0 node 1: left child 0 is already reached"},
		{"child out of range", patch(node(0, 2), 1000), "tree 0 node 0: right child 1000 out of range (tree has 15 nodes)"},
		{"split on a missing feature", patch(node(0, 3), 1<<31|6), "tree 0 node 0: splits on feature 6 but the model has 6 features"},
		{"multi-class tree_info", patch(len(good)-attrsLen-4, 1), "tree 5 belongs to output group 1"},
		{"huge attribute count", patch64(len(good)-attrsLen, 1<<40), "1099511627776 attributes cannot fit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := xgb.ReadLegacyBinary(bytes.NewReader(c.data))
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

// Claims of millions of nodes in a file of a few kilobytes must not make the
// reader allocate for them.
func TestLegacyBinaryNoAllocationFromCounts(t *testing.T) {
	good := readTestdata(t, "risklane-logistic.model")
	for _, off := range []int{offGBTree, offTree0 + 4} {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[off:], xgb.MaxNodes)
		var err error
		n := allocatedBy(func() { _, err = xgb.ReadLegacyBinary(bytes.NewReader(b)) })
		if err == nil {
			t.Fatal("no error")
		}
		if n > 1<<20 {
			t.Errorf("offset %d: allocated %d bytes for a %d-byte file", off, n, len(b))
		}
	}
}

func TestTruncatedFiles(t *testing.T) {
	for _, c := range []struct {
		file string
		read func([]byte) error
	}{
		{"risklane-logistic.model", func(b []byte) error { _, err := xgb.ReadLegacyBinary(bytes.NewReader(b)); return err }},
		{"python-1.7.4-logistic.json", func(b []byte) error { _, err := xgb.ReadJSON(bytes.NewReader(b)); return err }},
		{"python-1.7.4-logistic.ubj", func(b []byte) error { _, err := xgb.ReadUBJSON(bytes.NewReader(b)); return err }},
	} {
		data := readTestdata(t, c.file)
		if err := c.read(data); err != nil {
			t.Fatalf("%s does not read: %v", c.file, err)
		}
		// A model is refused when cut anywhere: no prefix is itself valid.
		for n := range len(data) {
			if err := c.read(data[:n]); err == nil {
				t.Fatalf("%s cut to %d of %d bytes reads without error", c.file, n, len(data))
			}
		}
	}
}

// mutateJSON decodes the golden JSON model, lets f change it, and encodes it.
func mutateJSON(t *testing.T, f func(learner map[string]any, tree0 map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(readTestdata(t, "python-1.7.4-logistic.json"), &doc); err != nil {
		t.Fatal(err)
	}
	learner := doc["learner"].(map[string]any)
	gbm := learner["gradient_booster"].(map[string]any)["model"].(map[string]any)
	f(learner, gbm["trees"].([]any)[0].(map[string]any))
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestJSONHostile(t *testing.T) {
	good := readTestdata(t, "python-1.7.4-logistic.json")
	gbm := func(l map[string]any) map[string]any {
		return l["gradient_booster"].(map[string]any)["model"].(map[string]any)
	}
	param := func(l map[string]any) map[string]any { return l["learner_model_param"].(map[string]any) }
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"not JSON", []byte("hello"), "line 1, column 1: invalid JSON"},
		{"array", []byte("[1, 2]"), "line 1, column 1: the document: JSON array does not fit"},
		{"no learner", []byte(`{"version": [1, 7, 4]}`), `no "learner" object`},
		{"UBJSON", readTestdata(t, "python-1.7.4-logistic.ubj"), "this looks like UBJSON"},
		{"NaN threshold", bytes.Replace(good, []byte(`"split_conditions":[`), []byte(`"split_conditions":[NaN,`), 1), "NaN or infinite"},
		{"string for a number", bytes.Replace(good, []byte(`"left_children":[`), []byte(`"left_children":["1",`), 1), "learner.gradient_booster.model.trees.left_children: JSON string does not fit int32"},
		{"huge child id", bytes.Replace(good, []byte(`"left_children":[`), []byte(`"left_children":[99999999999,`), 1), "JSON number 99999999999 does not fit int32"},
		{"bad default_left", bytes.Replace(good, []byte(`"default_left":[`), []byte(`"default_left":[7,`), 1), "default_left entry 7"},
		{"gblinear", mutateJSON(t, func(l, _ map[string]any) { l["gradient_booster"].(map[string]any)["name"] = "gblinear" }), "gblinear boosters are not supported"},
		{"dart", mutateJSON(t, func(l, _ map[string]any) { l["gradient_booster"].(map[string]any)["name"] = "dart" }), "dart boosters are not supported"},
		{"multi-class", mutateJSON(t, func(l, _ map[string]any) { param(l)["num_class"] = "3" }), "multi-class model (3 classes)"},
		{"multi-target", mutateJSON(t, func(l, _ map[string]any) { param(l)["num_target"] = "2" }), "multi-target model (2 targets)"},
		{"vector base score", mutateJSON(t, func(l, _ map[string]any) { param(l)["base_score"] = "[5E-1,4E-1]" }), "has several values"},
		{"bad base score", mutateJSON(t, func(l, _ map[string]any) { param(l)["base_score"] = "half" }), `base_score "half" is not a number`},
		{"base score 1", mutateJSON(t, func(l, _ map[string]any) { param(l)["base_score"] = "1" }), "base_score 1 is not a probability"},
		{"no features", mutateJSON(t, func(l, _ map[string]any) { param(l)["num_feature"] = "0" }), "num_feature 0 out of range"},
		{"softmax", mutateJSON(t, func(l, _ map[string]any) { l["objective"].(map[string]any)["name"] = "multi:softprob" }), `objective "multi:softprob" is not supported`},
		{"tree in group 1", mutateJSON(t, func(l, _ map[string]any) { gbm(l)["tree_info"].([]any)[2] = 1 }), "tree 2 belongs to output group 1"},
		{"tree count", mutateJSON(t, func(l, _ map[string]any) {
			gbm(l)["gbtree_model_param"].(map[string]any)["num_trees"] = "7"
		}), `num_trees is "7" but the model holds 6 trees`},
		{"duplicate tree id", mutateJSON(t, func(_, t0 map[string]any) { t0["id"] = 1 }), "id 1 appears twice"},
		{"node count", mutateJSON(t, func(_, t0 map[string]any) { t0["tree_param"].(map[string]any)["num_nodes"] = "99" }), `tree 0: tree_param.num_nodes is "99"`},
		{"categorical split", mutateJSON(t, func(_, t0 map[string]any) { t0["split_type"].([]any)[0] = 1 }), "categorical splits are not supported"},
		{"multi-target tree", mutateJSON(t, func(_, t0 map[string]any) { t0["tree_param"].(map[string]any)["size_leaf_vector"] = "3" }), "multi-target trees"},
		{"cycle", mutateJSON(t, func(_, t0 map[string]any) { t0["left_children"].([]any)[1] = 0 }), "tree 0 node 1: left child 0 is already reached"},
		{"missing array", mutateJSON(t, func(_, t0 map[string]any) { delete(t0, "parents") }), "tree 0: parents has 0 entries"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := xgb.ReadJSON(bytes.NewReader(c.data))
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestUBJSONHostile(t *testing.T) {
	good := readTestdata(t, "python-1.7.4-logistic.ubj")
	// The float32 typed array of the first tree's split conditions.
	key := []byte("\x10split_conditions[$d#L")
	at := bytes.Index(good, key) + len(key) + 8
	nanThreshold := bytes.Clone(good)
	binary.BigEndian.PutUint32(nanThreshold[at:], math.Float32bits(float32(math.NaN())))
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"huge typed count", []byte("{L\x00\x00\x00\x00\x00\x00\x00\x01a[$d#L\x3f\xff\xff\xff\xff\xff\xff\xff}"), "length 4611686018427387903 out of range (1 bytes left)"},
		{"typed count beyond the data", []byte("{i\x01a[$d#i\x03\x00\x00\x00\x00\x00\x00\x00\x00"), "count 3 needs more than the 8 bytes left"},
		{"huge string", []byte("{L\x00\x00\x00\x00\x00\x00\x00\x01aSL\x7f\xff\xff\xff\xff\xff\xff\xff}"), "length 9223372036854775807 out of range"},
		{"negative length", []byte("{i\xff}"), "length -1 out of range"},
		{"typed nulls", []byte("{i\x01a[$Z#L\x7f\xff\xff\xff\xff\xff\xff\xff}"), "optimized container of type 'Z' is not supported"},
		{"deep nesting", append([]byte("{i\x01a"), bytes.Repeat([]byte("["), 100000)...), "nested more than 64 deep"},
		{"unknown marker", []byte("{i\x01aX}"), "unknown marker 'X'"},
		{"trailing bytes", append(bytes.Clone(good), 'Z'), "1 bytes after the end"},
		{"NaN threshold", nanThreshold, "UBJSON offset " + itoa(at) + " (learner.gradient_booster.model.trees[0].split_conditions[0]): NaN is not accepted"},
		{"bad high-precision number", []byte("{i\x01aHi\x03abc}"), "high-precision number"},
		{"string for object", []byte("{i\x07learnerSi\x011}"), "learner: UBJSON string does not fit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			n := allocatedBy(func() { _, err = xgb.ReadUBJSON(bytes.NewReader(c.data)) })
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to contain %q", err, c.want)
			}
			if limit := uint64(1<<20 + 10*len(c.data)); n > limit {
				t.Errorf("allocated %d bytes for %d bytes of input", n, len(c.data))
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Binary models of XGBoost 1.0 keep loader settings among the attributes;
// they are not the model's and are dropped.
func TestLegacyBinaryAttributes(t *testing.T) {
	m := smallModel()
	m.Attributes = map[string]string{"objective": "{}", "metrics": "auc;", "SAVED_PARAM_predictor": "cpu_predictor", "best_iteration": "3"}
	var buf bytes.Buffer
	if err := xgb.WriteLegacyBinary(&buf, m); err != nil {
		t.Fatal(err)
	}
	back, err := xgb.ReadLegacyBinary(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"best_iteration": "3"}; !reflect.DeepEqual(back.Attributes, want) {
		t.Errorf("attributes %v, want %v", back.Attributes, want)
	}
}

func TestReadFileSniffs(t *testing.T) {
	for _, c := range []struct {
		file string
		want xgb.Format
	}{
		{"python-1.7.4-logistic.json", xgb.JSON},
		{"python-1.7.4-logistic.ubj", xgb.UBJSON},
		{"risklane-logistic.model", xgb.LegacyBinary},
		{"python-1.7.4-logistic.model", xgb.LegacyBinary},
	} {
		if got := xgb.Sniff(readTestdata(t, c.file)); got != c.want {
			t.Errorf("%s: sniffed %v, want %v", c.file, got, c.want)
		}
	}
	_, err := xgb.ReadFile("testdata/no-such-model.json")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
