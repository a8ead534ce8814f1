package features

import (
	"bytes"
	"strings"
	"testing"
)

// TestReadRejectsDamage: each damage to a valid state is refused with an
// error that says what is wrong.
func TestReadRejectsDamage(t *testing.T) {
	st, _, err := Fit([]arrowBatch{makeBatch(t, randomRows(60, 1))}, Config{Groups: BuiltinGroups})
	if err != nil {
		t.Fatal(err)
	}
	good, _ := st.MarshalJSON()
	if _, err := Read(bytes.NewReader(good)); err != nil {
		t.Fatalf("valid state refused: %v", err)
	}
	for _, tc := range []struct{ from, to, want string }{
		{`"format":"risklane-features"`, `"format":"other"`, "format"},
		{`"version":1`, `"version":2`, "version"},
		{`"folds":5`, `"folds":1`, "folds"},
		{`"prior":`, `"prior":-`, "prior"},
		{`"groups":["hs",`, `"groups":["hs","hs",`, "twice"},
		{`"groups":["hs",`, `"groups":["bogus",`, "bogus"},
		{`"features":["hs2",`, `"features":["hs3",`, "do not match"},
		{`"name":"office","values":["O0",`, `"name":"office","values":["O9",`, "sorted"},
		{`"columns":["date",`, `"columns":["illicit",`, "illicit"},
		{`"rate":[`, `"rate":[7,`, "rates"},
		{`"basis":"kg","level":"hs6"`, `"basis":"unit","level":"hs6"`, "reference"},
		{`}`, `}}`, "after"},
		{`"seed":0`, `"seed":0,"extra":1`, "unknown field"},
		{`"min_reference":5`, `"min_reference":5,"half_life":-1`, "half-life"},
		{`"min_reference":5`, `"min_reference":5,"half_life":1e13`, "half-life"},
	} {
		bad := strings.Replace(string(good), tc.from, tc.to, 1)
		if bad == string(good) {
			t.Fatalf("damage %q not applied: %q not in the state", tc.to, tc.from)
		}
		_, err := Read(strings.NewReader(bad))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("damage %q: error %v, want one mentioning %q", tc.to, err, tc.want)
		}
	}
}

// FuzzRead feeds the features.json loader arbitrary bytes: it must return a
// state or an error, never panic, and a state it accepts must transform a
// batch without failing on its own tables.
func FuzzRead(f *testing.F) {
	rows := randomRows(40, 2)
	st, _, err := Fit([]arrowBatch{makeBatch(f, rows)}, Config{Groups: BuiltinGroups})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := st.MarshalJSON()
	f.Add(good)
	small, _, err := Fit([]arrowBatch{makeBatch(f, rows[:6])}, Config{Groups: []string{GroupUnitValue, GroupRisk}, MinReference: 2})
	if err != nil {
		f.Fatal(err)
	}
	b, _ := small.MarshalJSON()
	f.Add(b)
	weighted, _, err := Fit([]arrowBatch{makeBatch(f, rows)}, Config{Groups: []string{GroupRisk, GroupTraders}, HalfLife: 28})
	if err != nil {
		f.Fatal(err)
	}
	b, _ = weighted.MarshalJSON()
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"format":"risklane-features","version":1,"groups":["hs"],"columns":["hs_code"],"extras":[],"features":["hs2","hs4","hs6"],"folds":5,"seed":0,"smoothing":10,"min_reference":5,"rows":1,"labelled":1,"prior":0,"keys":[],"unit_value_references":[],"signals":[]}`))
	f.Add([]byte(`{"format":"risklane-features","version":1,"groups":["hs"],"columns":["hs_code"],"extras":[],"features":["hs2","hs4","hs6"],"folds":5,"seed":0,"smoothing":10,"min_reference":5,"half_life":28,"rows":1,"labelled":1,"prior":0,"keys":[],"unit_value_references":[],"signals":[]}`))
	probe := makeBatch(f, rows)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		if s.Check(probe.Schema()) != nil {
			return // the state wants columns the probe lacks
		}
		cols, err := s.Transform(probe, nil)
		if err != nil {
			t.Fatalf("accepted state cannot transform: %v", err)
		}
		if len(cols) != len(s.Names()) {
			t.Fatalf("%d columns for %d names", len(cols), len(s.Names()))
		}
		if _, err := s.MarshalJSON(); err != nil {
			t.Fatalf("accepted state cannot be saved: %v", err)
		}
	})
}
