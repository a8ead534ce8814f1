package iforest

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestJSONRoundTrip: a saved and restored forest scores rows exactly as the
// fitted one.
func TestJSONRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n, f = 1000, 4
	x := make([]float64, n*f)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	fr := Fit(x, n, f, Config{Trees: 20, Sample: 64, Seed: 9})
	b, err := json.Marshal(fr)
	if err != nil {
		t.Fatal(err)
	}
	var back Forest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	want, got := make([]float64, n), make([]float64, n)
	fr.Score(x, n, want)
	back.Score(x, n, got)
	if !slices.Equal(want, got) {
		t.Error("the restored forest scores otherwise")
	}
	if back.Features() != f {
		t.Errorf("restored forest has %d features, want %d", back.Features(), f)
	}
}

// TestJSONRefused: saved forests that are not trees over their features.
func TestJSONRefused(t *testing.T) {
	for _, s := range []string{
		`{"version":2,"features":1,"sample":4,"trees":[[[-1,0,0,0,4]]]}`,
		`{"version":1,"features":0,"sample":4,"trees":[[[-1,0,0,0,4]]]}`,
		`{"version":1,"features":1,"sample":4,"trees":[]}`,
		`{"version":1,"features":1,"sample":4,"trees":[[]]}`,
		`{"version":1,"features":1,"sample":4,"trees":[[[0,0.5,0,0,0]]]}`,                           // a split onto itself
		`{"version":1,"features":1,"sample":4,"trees":[[[1,0.5,1,2,0],[-1,0,0,0,2],[-1,0,0,0,2]]]}`, // feature 1 of 1
		`{"version":1,"features":1,"sample":4,"trees":[[[-1,0,0,0,2.5]]]}`,
	} {
		var fr Forest
		if err := json.Unmarshal([]byte(s), &fr); err == nil || !strings.Contains(err.Error(), "iforest") {
			t.Errorf("%s: error %v, want a refusal naming iforest", s, err)
		}
	}
}

// FuzzUnmarshalJSON: whatever a forest file holds, restoring it either fails
// or gives a forest that scores without panicking.
func FuzzUnmarshalJSON(f *testing.F) {
	f.Add(`{"version":1,"features":1,"sample":4,"trees":[[[0,0.5,1,2,0],[-1,0,0,0,2],[-1,0,0,0,2]]]}`)
	f.Add(`{"version":1,"features":2,"sample":4,"trees":[[[1,1e300,1,2,0],[-1,0,0,0,0],[0,-1,3,4,0],[-1,0,0,0,1],[-1,0,0,0,1]]]}`)
	f.Fuzz(func(t *testing.T, s string) {
		var fr Forest
		if json.Unmarshal([]byte(s), &fr) != nil {
			return
		}
		x := []float64{0, 1, -1, 2, 0.5, -0.5}
		n := len(x) / fr.Features()
		fr.Score(x, n, make([]float64, n))
	})
}
