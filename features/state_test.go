package features

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/decl"
)

// TestSavedStateScoresIdentically saves a state, loads it and checks that it
// gives bit-identical features, whatever the batch split, column-major or
// row-major.
func TestSavedStateScoresIdentically(t *testing.T) {
	rows := randomRows(500, 9)
	st, _, err := Fit([]arrowBatch{makeBatch(t, rows[:300])}, Config{Groups: BuiltinGroups, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "features.json")
	if err := st.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Names(), loaded.Names()) {
		t.Fatalf("names differ after loading:\n%v\n%v", st.Names(), loaded.Names())
	}
	score := rows[250:]
	want, err := st.Transform(makeBatch(t, score), nil)
	if err != nil {
		t.Fatal(err)
	}
	// the loaded state, in three uneven batches, row-major
	nf := len(st.Names())
	var buf []float64
	at := 0
	for _, part := range [][]row{score[:1], score[1:100], score[100:]} {
		buf, err = loaded.TransformRows(makeBatch(t, part), buf)
		if err != nil {
			t.Fatal(err)
		}
		if len(buf) != len(part)*nf {
			t.Fatalf("TransformRows gave %d values for %d rows x %d features", len(buf), len(part), nf)
		}
		for i := range part {
			for j := range nf {
				if w, g := want[j][at+i], buf[i*nf+j]; math.Float64bits(w) != math.Float64bits(g) && !(math.IsNaN(w) && math.IsNaN(g)) {
					t.Fatalf("row %d feature %s: %v after loading, %v before", at+i, st.Names()[j], g, w)
				}
			}
		}
		at += len(part)
	}
	// saving again gives the same bytes
	a, _ := st.MarshalJSON()
	b, _ := loaded.MarshalJSON()
	if !bytes.Equal(a, b) {
		t.Error("a loaded state does not save to the same JSON")
	}
}

// TestFitIgnoresRowOrder: the state depends on the rows, not their order or
// batching (codes are sorted, folds follow sorted declaration ids).
func TestFitIgnoresRowOrder(t *testing.T) {
	rows := randomRows(300, 4)
	rev := slices.Clone(rows)
	slices.Reverse(rev)
	a, ma, err := Fit([]arrowBatch{makeBatch(t, rows)}, Config{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	b, mb, err := Fit([]arrowBatch{makeBatch(t, rev[:100]), makeBatch(t, rev[100:])}, Config{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := a.MarshalJSON()
	jb, _ := b.MarshalJSON()
	if !bytes.Equal(ja, jb) {
		t.Error("reordered history gives a different state")
	}
	n := len(rows)
	for j := range ma.Cols {
		for i := range n {
			if !same(ma.Cols[j][i], mb.Cols[j][n-1-i]) {
				t.Fatalf("training feature %s of row %d: %v in order, %v reversed", ma.Names[j], i, ma.Cols[j][i], mb.Cols[j][n-1-i])
			}
		}
	}
}

func TestMissingColumnsNamed(t *testing.T) {
	st, _, err := Fit([]arrowBatch{makeBatch(t, randomRows(100, 1))}, Config{Groups: BuiltinGroups})
	if err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: decl.DeclarationID, Type: arrow.BinaryTypes.String},
		{Name: decl.HSCode, Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	rec := b.NewRecordBatch()
	_, err = st.Transform(rec, nil)
	if err == nil {
		t.Fatal("no error for a batch lacking most columns")
	}
	for _, c := range []string{decl.ImporterID, decl.CIFValue, decl.NetMassKg, "channel"} {
		if !strings.Contains(err.Error(), c) {
			t.Errorf("error does not name missing column %s: %v", c, err)
		}
	}
	if strings.Contains(err.Error(), decl.HSCode+",") {
		t.Errorf("error names a column that is present: %v", err)
	}
}

func TestParseGroups(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"", []string{"hs", "unitvalue", "tax", "risk", "freq"}, ""},
		{"hs,risk", []string{"hs", "risk"}, ""},
		{" risk , hs ", []string{"risk", "hs"}, ""},
		{"-tax", []string{"hs", "unitvalue", "risk", "freq"}, ""},
		{"+extras,+date", []string{"hs", "unitvalue", "tax", "risk", "freq", "extras", "date"}, ""},
		{"-date", []string{"hs", "unitvalue", "tax", "risk", "freq"}, ""},
		{"hs,bogus", nil, `unknown feature group "bogus"`},
		{"hs,-risk", nil, "mixes"},
		{"-hs,-unitvalue,-tax,-risk,-freq", nil, "leaves no feature group"},
	} {
		got, err := ParseGroups(tc.in, []string{"hs", "unitvalue", "tax", "risk", "freq"})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseGroups(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseGroups(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestGroupsSelectFeatures: each group alone gives only its own features.
func TestGroupsSelectFeatures(t *testing.T) {
	b := makeBatch(t, randomRows(100, 2))
	all, _, err := Fit([]arrowBatch{b}, Config{Groups: BuiltinGroups})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, g := range BuiltinGroups {
		st, m, err := Fit([]arrowBatch{b}, Config{Groups: []string{g}})
		if err != nil {
			t.Fatalf("group %s: %v", g, err)
		}
		for _, gg := range st.GroupOf() {
			if gg != g {
				t.Errorf("group %s alone has a feature of group %s", g, gg)
			}
		}
		if len(m.Cols) != len(st.Names()) || len(st.Names()) == 0 {
			t.Errorf("group %s: %d columns, %d names", g, len(m.Cols), len(st.Names()))
		}
		total += len(st.Names())
	}
	if total != len(all.Names()) {
		t.Errorf("groups one at a time give %d features, all together %d", total, len(all.Names()))
	}
}

// fakeSignal is a plug-in signal for the tests: the row's quantity times a
// fitted factor, and (OutOfFold) the fold of the row on training rows.
type fakeSignal struct {
	Factor  float64 `json:"factor"`
	oofRows int
}

func (f *fakeSignal) Name() string       { return "fake" }
func (f *fakeSignal) Features() []string { return []string{"fake_qty", "fake_fold"} }
func (f *fakeSignal) Fit(batches []arrow.RecordBatch) error {
	f.Factor = 2
	return nil
}
func (f *fakeSignal) Apply(rec arrow.RecordBatch, out [][]float64) error {
	q, err := readFloats(rec, decl.Quantity, nil)
	if err != nil {
		return err
	}
	for i, v := range q {
		out[0][i] = v * f.Factor
		out[1][i] = -1
	}
	return nil
}
func (f *fakeSignal) ApplyOutOfFold(batches []arrow.RecordBatch, fold []uint8, k int, out [][]float64) error {
	at := 0
	for _, b := range batches {
		if err := f.Apply(b, [][]float64{out[0][at : at+int(b.NumRows())], out[1][at : at+int(b.NumRows())]}); err != nil {
			return err
		}
		at += int(b.NumRows())
	}
	for i, fo := range fold {
		out[1][i] = float64(fo)
	}
	f.oofRows = len(fold)
	return nil
}
func (f *fakeSignal) MarshalJSON() ([]byte, error) {
	type plain fakeSignal
	return json.Marshal((*plain)(f))
}
func (f *fakeSignal) UnmarshalJSON(b []byte) error {
	type plain fakeSignal
	if err := json.Unmarshal(b, (*plain)(f)); err != nil {
		return err
	}
	if f.Factor == 0 {
		return errors.New("no factor")
	}
	return nil
}

func init() { Register("fake", func() Signal { return &fakeSignal{} }) }

func TestSignalPlugIn(t *testing.T) {
	rows := randomRows(50, 8)
	groups, err := ParseGroups("hs,fake", nil)
	if err != nil {
		t.Fatal(err)
	}
	st, m, err := Fit([]arrowBatch{makeBatch(t, rows[:20]), makeBatch(t, rows[20:])}, Config{Groups: groups})
	if err != nil {
		t.Fatal(err)
	}
	qty := col(t, m.Names, m.Cols, "fake_qty")
	fold := col(t, m.Names, m.Cols, "fake_fold")
	for i, r := range rows {
		if qty[i] != 2*r.Qty || fold[i] != float64(m.Fold[i]) {
			t.Fatalf("training row %d: fake_qty %v fake_fold %v, want %v and %d", i, qty[i], fold[i], 2*r.Qty, m.Fold[i])
		}
	}
	b, err := st.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	cols, err := loaded.Transform(makeBatch(t, rows[:3]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := col(t, loaded.Names(), cols, "fake_qty")[2]; got != 2*rows[2].Qty {
		t.Errorf("loaded signal: fake_qty = %v, want %v", got, 2*rows[2].Qty)
	}
	if got := col(t, loaded.Names(), cols, "fake_fold")[0]; got != -1 {
		t.Errorf("scoring rows took the out-of-fold path: %v", got)
	}
	if _, _, err := Fit([]arrowBatch{makeBatch(t, rows)}, Config{Groups: []string{"hs", "nosuch"}}); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("unknown group: %v", err)
	}
}
