package xgb

import (
	"bytes"
	"strings"
	"testing"
)

// chain is a model of one tree that is a chain of depth internal nodes,
// each with a leaf on its right: depth+1 levels, 2*depth+1 nodes.
func chain(depth int) *Model {
	n := 2*depth + 1
	t := Tree{
		Left: make([]int32, n), Right: make([]int32, n), Parent: make([]int32, n),
		SplitIndex: make([]int32, n), SplitCondition: make([]float32, n), DefaultLeft: make([]bool, n),
		BaseWeight: make([]float32, n), LossChange: make([]float32, n), SumHessian: make([]float32, n),
	}
	t.Parent[0] = -1
	for i := range n {
		t.Left[i], t.Right[i] = -1, -1
	}
	for d, id := 0, int32(0); d < depth; d++ {
		l, r := int32(2*d+1), int32(2*d+2)
		t.Left[id], t.Right[id] = l, r
		t.Parent[l], t.Parent[r] = id, id
		t.SplitCondition[id] = float32(d)
		id = l
	}
	return &Model{Objective: BinaryLogistic, BaseScore: 0.5, NumFeature: 1, Trees: []Tree{t}}
}

// TestTreeLimits: a tree deeper than MaxDepth (the probe was 1,000,000
// deep; 20,000 keeps the test short) is refused by every reader with a clear error, and one at the limit
// is read.
func TestTreeLimits(t *testing.T) {
	readers := []struct {
		name  string
		write func(*bytes.Buffer, *Model) error
		read  func([]byte) (*Model, error)
	}{
		{"JSON", func(b *bytes.Buffer, m *Model) error { return writeJSON(b, m) },
			func(b []byte) (*Model, error) { return ReadJSON(bytes.NewReader(b)) }},
		{"legacy binary", func(b *bytes.Buffer, m *Model) error { return writeLegacyBinary(b, m) },
			func(b []byte) (*Model, error) { return ReadLegacyBinary(bytes.NewReader(b)) }},
	}
	for _, r := range readers {
		for _, c := range []struct {
			depth int
			want  string
		}{{MaxDepth, ""}, {MaxDepth + 1, "deeper than the 128 levels"}, {20_000, "deeper than the 128 levels"}} {
			var b bytes.Buffer
			if err := r.write(&b, chain(c.depth)); err != nil {
				t.Fatal(err)
			}
			_, err := r.read(b.Bytes())
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("%s, depth %d: err %v, want %q", r.name, c.depth, err, c.want)
			}
		}
	}
}
