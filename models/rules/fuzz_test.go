package rules

import (
	"encoding/json"
	"math"
	"testing"

	"risklane/models/gbdt"
	"risklane/models/xgb"
)

// fuzzValues are the feature values and thresholds fuzz inputs pick from:
// ordinary numbers, float32 edge cases, missing and infinite values.
var fuzzValues = []float64{0, 1, -1, 0.5, 2, 8703, 1e-40, math.MaxFloat32, -math.MaxFloat32, 1e300,
	math.Inf(1), math.Inf(-1), nan, 3.0000001, 3}

// bytesReader hands out fuzz bytes, zeros once they run out.
type bytesReader struct{ b []byte }

func (r *bytesReader) next() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// fuzzCase builds a model of full trees and a small data set from fuzz
// bytes. Thresholds may be infinite or NaN: Validate must refuse those.
func fuzzCase(data []byte) (*xgb.Model, *gbdt.Matrix, []float64, Options) {
	r := &bytesReader{data}
	nfeat := 1 + int(r.next()%4)
	m := &xgb.Model{Objective: xgb.BinaryLogistic, BaseScore: 0.5, NumFeature: nfeat}
	for range 1 + int(r.next()%3) {
		depth := int(r.next() % 4)
		var nodes []node
		internal := 1<<depth - 1
		for id := range 1<<(depth+1) - 1 {
			if id < internal {
				nodes = append(nodes, node{int32(2*id + 1), int32(r.next()) % int32(nfeat), float32(fuzzValues[int(r.next())%len(fuzzValues)]), r.next()%2 == 0})
			} else {
				nodes = append(nodes, leafNode(float32(int8(r.next()))/64))
			}
		}
		m.Trees = append(m.Trees, buildTree(nodes))
	}
	rows := 1 + int(r.next()%40)
	X := &gbdt.Matrix{Rows: rows, Cols: make([][]float64, nfeat)}
	for j := range nfeat {
		X.Cols[j] = make([]float64, rows)
		for i := range rows {
			X.Cols[j][i] = fuzzValues[int(r.next())%len(fuzzValues)]
		}
	}
	y := make([]float64, rows)
	for i := range y {
		y[i] = []float64{0, 1, nan}[r.next()%3]
	}
	opts := Options{Top: int(r.next() % 5), MinSupport: float64(r.next()%4) / 8, Similarity: float64(r.next()%5) / 4,
		Rank: []Rank{ByZ, ByRate, ByValue}[r.next()%3], Threads: 1 + int(r.next()%2)}
	if r.next()%2 == 0 {
		opts.Namer = Names([]string{"hs4", "log_uv_kg", "risk_importer", "weekday"}[:nfeat])
	}
	return m, X, y, opts
}

// FuzzExtract builds models and data from fuzz bytes: Extract never panics,
// and what it returns is consistent: supports within the labelled rows,
// rates within [0, 1], every rule's rows meeting its conditions, text and
// JSON written.
func FuzzExtract(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{2, 1, 2, 0, 5, 1, 1, 6, 0, 9, 40, 200, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})
	seed := make([]byte, 256)
	for i := range seed {
		seed[i] = byte(i * 37)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, X, y, opts := fuzzCase(data)
		rs, err := Extract(m, X, y, opts)
		if err != nil {
			return
		}
		labelled := 0
		for _, v := range y {
			if v == v {
				labelled++
			}
		}
		perTree := map[int]int{}
		for _, r := range rs {
			if r.Support < 1 || r.Support > labelled || r.Illicit > r.Support || !(r.FraudRate >= 0 && r.FraudRate <= 1) ||
				math.IsNaN(r.Lift) || math.IsNaN(r.Score) {
				t.Fatalf("rule %+v", r)
			}
			perTree[r.Tree] += r.Support
			n := 0
			for i := range X.Rows {
				if y[i] == y[i] && r.Matches(X, i) {
					n++
				}
			}
			if n != r.Support {
				t.Fatalf("rule %s: %d labelled rows meet its conditions, support %d", r, n, r.Support)
			}
			if r.String() == "" {
				t.Fatal("empty text")
			}
		}
		for tree, s := range perTree {
			if s > labelled {
				t.Fatalf("tree %d: supports add up to %d of %d rows", tree, s, labelled)
			}
		}
		if _, err := json.Marshal(rs); err != nil {
			t.Fatal(err)
		}
	})
}
