package features

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
)

// TestAssembleEqualsFit cuts a generated history into shards of uneven
// size, tallies them apart, merges the tallies in reverse order, and wants
// the state Assemble builds to be Fit's, byte for byte in features.json,
// for every built-in group and for the default model groups.
func TestAssembleEqualsFit(t *testing.T) {
	cfg := synth.DefaultConfig()
	cfg.Rows, cfg.Seed, cfg.BatchSize = 6000, 5, 700
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var batches []arrow.RecordBatch
	for {
		b, err := g.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b)
	}
	var shards []*Tally
	values := map[UnitValueKey][]float64{}
	for i, b := range batches {
		if i%3 == 0 {
			shards = append(shards, NewTally())
		}
		err := shards[len(shards)-1].Add(b, func(k UnitValueKey, x float64) { values[k] = append(values[k], x) })
		if err != nil {
			t.Fatal(err)
		}
	}
	all := NewTally()
	for i := len(shards) - 1; i >= 0; i-- {
		if err := all.Merge(shards[i]); err != nil {
			t.Fatal(err)
		}
	}
	var refs []Reference
	for k, v := range values {
		refs = append(refs, ReferenceOf(k, v))
	}
	if len(refs) < 50 {
		t.Fatalf("only %d unit-value references: the test data has too few HS codes to test them", len(refs))
	}
	for _, groups := range [][]string{BuiltinGroups, {GroupHS, GroupUnitValue, GroupRisk}} {
		fc := Config{Groups: groups, Seed: 3, MinReference: 4}
		want, _, err := Fit(batches, fc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Assemble(all, refs, fc)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(want)
		b, _ := json.Marshal(got)
		if !bytes.Equal(a, b) {
			i := 0
			for i < min(len(a), len(b)) && a[i] == b[i] {
				i++
			}
			t.Errorf("groups %v: Assemble's state differs from Fit's at byte %d of %d:\nfit:      %.200s\nassemble: %.200s", groups, i, len(a), a[max(0, i-80):], b[max(0, i-80):])
		}
	}
}
