package date

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"risklane/models/xgb"
)

// tinyModel is a model shell with two trees of three leaves each, enough
// for the weights file: the reader checks the weights against the trees.
func tinyModel() *Model {
	m := &Model{Trees: &xgb.Model{Trees: make([]xgb.Tree, 2)}, leaves: leafTable{Rows: 6}, RevScale: 12.5, RevSD: 12.5, CalA: 1, RevCap: math.Inf(1)}
	m.Arch = Arch{Trees: 2, Leaves: 6, Importers: 3, Items: 2, Dim: 4, Heads: 2, SelfAtt: true}
	m.Params = initParams(m.Arch, 1)
	m.Importers = vocab{"IMP-A": 1, "IMP-B": 2}
	m.Items = vocab{"870323": 1}
	return m
}

// tinyModelV2 is tinyModel with the session-4 parts: two revenue inputs
// (features 0 and 1 of the state) and the trees' margin.
func tinyModelV2() *Model {
	m := tinyModel()
	m.revIdx = []int{0, 1}
	m.Arch.RevIn, m.Arch.Margin = 2, true
	m.Params = initParams(m.Arch, 1)
	return m
}

// tinyModelV3 is tinyModelV2 with the session-7 parts: a revenue tower of
// width 3 and a standardised revenue target.
func tinyModelV3() *Model {
	m := tinyModelV2()
	m.Arch.RevHid = 3
	m.RevMean, m.RevSD, m.CalA, m.CalB = 9.25, 1.5, 0.4, -0.35
	m.Params = initParams(m.Arch, 1)
	return m
}

// tinyModelV4 is tinyModelV3 with session 9's bound on the revenue
// estimate's log target.
func tinyModelV4() *Model {
	m := tinyModelV3()
	m.RevCap = 1.75
	return m
}

func TestWeightsRoundTrip(t *testing.T) {
	for _, m := range []*Model{tinyModel(), tinyModelV2(), tinyModelV3(), tinyModelV4()} {
		roundTrip(t, m)
	}
}

func roundTrip(t *testing.T, m *Model) {
	t.Helper()
	b := m.marshalWeights()
	got := &Model{Trees: m.Trees, leaves: m.leaves, revIdx: m.revIdx}
	if err := got.unmarshalWeights(b); err != nil {
		t.Fatal(err)
	}
	if got.Arch != m.Arch || got.RevScale != m.RevScale || got.RevMean != m.RevMean || got.RevSD != m.RevSD || got.CalA != m.CalA || got.CalB != m.CalB || got.RevCap != m.RevCap || len(got.Params) != len(m.Params) {
		t.Fatalf("read %+v %v %v %v %d params, wrote %+v %v %v %v %d", got.Arch, got.RevScale, got.RevMean, got.RevSD, len(got.Params), m.Arch, m.RevScale, m.RevMean, m.RevSD, len(m.Params))
	}
	for i := range m.Params {
		if got.Params[i] != m.Params[i] {
			t.Fatalf("parameter %d: %v, wrote %v", i, got.Params[i], m.Params[i])
		}
	}
	if got.Importers["IMP-B"] != 2 || got.Items["870323"] != 1 || len(got.Importers) != 2 {
		t.Fatalf("vocabularies %v %v", got.Importers, got.Items)
	}
}

// TestWeightsV1 reads a version 1 file (before the revenue inputs and the
// tree margin): the architecture has neither.
func TestWeightsV1(t *testing.T) {
	m := tinyModel()
	v1 := olderWeights(m, weightsMagicV1, 7)
	got := &Model{Trees: m.Trees, leaves: m.leaves}
	if err := got.unmarshalWeights(v1); err != nil {
		t.Fatal(err)
	}
	if got.Arch != m.Arch || len(got.Params) != len(m.Params) || got.Params[3] != m.Params[3] || got.RevMean != 0 || got.RevSD != m.RevScale {
		t.Fatalf("version 1 read as %+v, %d params; wrote %+v, %d", got.Arch, len(got.Params), m.Arch, len(m.Params))
	}
	// a file whose revenue inputs the configuration does not name is refused
	other := &Model{Trees: m.Trees, leaves: m.leaves}
	if err := other.unmarshalWeights(tinyModelV2().marshalWeights()); err == nil || !strings.Contains(err.Error(), "revenue inputs") {
		t.Fatalf("weights for 2 revenue inputs, none configured: %v", err)
	}
}

// olderWeights writes m (without a revenue tower) as a version 1 or 2
// file: magic, the first fields architecture fields, the revenue scale
// alone.
func olderWeights(m *Model, magic string, fields int) []byte {
	b := m.marshalWeights()
	head := len(weightsMagic) + fields*4
	old := append([]byte(magic), b[len(weightsMagic):head]...)
	scale := len(weightsMagic) + 10*4
	old = append(old, b[scale:scale+8]...)
	return append(old, b[scale+48:]...)
}

// weightsV3 writes m as a version 3 file: all but the bound (RevCap).
func weightsV3(m *Model) []byte {
	b := m.marshalWeights()
	scale := len(weightsMagic) + 10*4
	old := append([]byte(weightsMagicV3), b[len(weightsMagic):scale+40]...)
	return append(old, b[scale+48:]...)
}

// TestWeightsV3 reads a version 3 file (before the bound): the revenue
// estimate is unbounded, the rest as written.
func TestWeightsV3(t *testing.T) {
	m := tinyModelV4()
	got := &Model{Trees: m.Trees, leaves: m.leaves, revIdx: m.revIdx}
	if err := got.unmarshalWeights(weightsV3(m)); err != nil {
		t.Fatal(err)
	}
	if got.Arch != m.Arch || got.RevMean != m.RevMean || got.RevSD != m.RevSD || got.CalA != m.CalA || got.CalB != m.CalB || !math.IsInf(got.RevCap, 1) {
		t.Fatalf("version 3 read as %+v, target %v %v, calibration %v %v, bound %v", got.Arch, got.RevMean, got.RevSD, got.CalA, got.CalB, got.RevCap)
	}
	if r := got.revenueOf(4, 0); math.Abs(r-math.Expm1(9.25+4*1.5)) > 1e-9*r {
		t.Fatalf("revenue output 4 of a version 3 file: %v, want expm1(9.25 + 4 × 1.5) (no bound)", r)
	}
}

// TestWeightsHostileBound checks that a bound that is not a number, -Inf
// or absurd gives an error naming it.
func TestWeightsHostileBound(t *testing.T) {
	b := tinyModelV4().marshalWeights()
	at := len(weightsMagic) + 10*4 + 5*8
	for _, v := range []float64{math.NaN(), math.Inf(-1), 1e4, -1e4} {
		bad := bytes.Clone(b)
		binary.LittleEndian.PutUint64(bad[at:], math.Float64bits(v))
		m := &Model{Trees: &xgb.Model{Trees: make([]xgb.Tree, 2)}, leaves: leafTable{Rows: 6}, revIdx: []int{0, 1}}
		if err := m.unmarshalWeights(bad); err == nil || !strings.Contains(err.Error(), "bound") {
			t.Errorf("bound %v: %v", v, err)
		}
	}
}

// TestWeightsV2 reads a version 2 file (before the revenue tower and the
// standardised target): its revenue output is log1p(revenue) over the
// revenue scale.
func TestWeightsV2(t *testing.T) {
	m := tinyModelV2()
	got := &Model{Trees: m.Trees, leaves: m.leaves, revIdx: m.revIdx}
	if err := got.unmarshalWeights(olderWeights(m, weightsMagicV2, 9)); err != nil {
		t.Fatal(err)
	}
	if got.Arch != m.Arch || len(got.Params) != len(m.Params) || got.Params[5] != m.Params[5] || got.RevMean != 0 || got.RevSD != m.RevScale || got.CalA != 1 || got.CalB != 0 {
		t.Fatalf("version 2 read as %+v, %d params, target %v %v; wrote %+v, %d", got.Arch, len(got.Params), got.RevMean, got.RevSD, m.Arch, len(m.Params))
	}
	if r := got.revenueOf(0.5, 0); math.Abs(r-math.Expm1(0.5*12.5)) > 1e-9*r {
		t.Fatalf("revenue output 0.5 of a version 2 file: %v, want expm1(0.5 × 12.5)", r)
	}
}

// TestWeightsHostile checks that every truncation of a weights file, and
// files that announce more than they hold, give an error, never a panic.
func TestWeightsHostile(t *testing.T) {
	b := tinyModel().marshalWeights()
	for n := range len(b) {
		m := &Model{Trees: &xgb.Model{Trees: make([]xgb.Tree, 2)}, leaves: leafTable{Rows: 6}}
		if err := m.unmarshalWeights(b[:n]); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(b))
		}
	}
	huge := bytes.Clone(b)
	copy(huge[len(weightsMagic)+8:], []byte{0xff, 0xff, 0xff, 0x00}) // importers: 16M rows
	m := &Model{Trees: &xgb.Model{Trees: make([]xgb.Tree, 2)}, leaves: leafTable{Rows: 6}}
	err := m.unmarshalWeights(huge)
	if err == nil || !errors.Is(err, errTruncated) && !strings.Contains(err.Error(), "too large") {
		t.Fatalf("a file announcing 16M importers: %v", err)
	}
}

func FuzzWeights(f *testing.F) {
	f.Add(tinyModel().marshalWeights())
	m0 := tinyModel()
	m0.Arch.SelfAtt = false
	m0.Params = initParams(m0.Arch, 2)
	f.Add(m0.marshalWeights())
	f.Add(tinyModelV2().marshalWeights())
	f.Add(tinyModelV3().marshalWeights())
	f.Add(tinyModelV4().marshalWeights())
	f.Add(weightsV3(tinyModelV4()))
	f.Add(olderWeights(tinyModelV2(), weightsMagicV2, 9))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &Model{Trees: &xgb.Model{Trees: make([]xgb.Tree, 2)}, leaves: leafTable{Rows: 6}, revIdx: []int{0, 1}}
		if err := m.unmarshalWeights(b); err != nil {
			m = &Model{Trees: m.Trees, leaves: m.leaves}
			if err := m.unmarshalWeights(b); err != nil {
				return
			}
		}
		// a file that reads writes back to itself (a version 1 file as
		// version 2, which reads back the same)
		got := m.marshalWeights()
		if bytes.HasPrefix(b, []byte(weightsMagic)) && !bytes.Equal(got, b) {
			t.Fatalf("read and written back differs")
		}
		again := &Model{Trees: m.Trees, leaves: m.leaves, revIdx: m.revIdx}
		if err := again.unmarshalWeights(got); err != nil || again.Arch != m.Arch || !bytes.Equal(again.marshalWeights(), got) {
			t.Fatalf("written back does not read back: %v", err)
		}
	})
}

// TestLoadDamaged checks the folder reader on a changed file and on a
// manifest of another kind.
func TestLoadDamaged(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load(dir); err == nil {
		t.Fatal("an empty folder loaded")
	}
	write(ManifestFile, `{"format":"risklane-model","version":1,"kind":"gbdt","files":{}}`)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `kind "gbdt"`) {
		t.Fatalf("a gbdt manifest: %v", err)
	}
	write(ManifestFile, `{"format":"risklane-model","version":1,"kind":"date","files":{"features.json":"00"}}`)
	write(FeaturesFile, `{}`)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("a changed file: %v", err)
	}
}

// saveLoad saves m into a new folder and loads it back: the folder and the
// model read from it.
func saveLoad(t *testing.T, m *Model) (string, *Model) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "m")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, back
}
