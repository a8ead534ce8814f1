package date

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"

	"risklane/models"
)

// Files of a DATE model folder.
const (
	ManifestFile = models.ManifestFile
	FeaturesFile = "features.json"
	TreesFile    = "trees.json"
	WeightsFile  = "date.bin"
	MetricsFile  = models.MetricsFile
)

// The weights file's magic: version 2 adds the revenue head's direct
// inputs and the tree margin to the architecture; version 3 the revenue
// tower's width, the revenue target's mean and standard deviation and the
// probability's calibration; version 4 the revenue estimate's bound
// (RevCap, +Inf for none).
// Version 1, 2 and 3 files still load (no tower; the target over its
// maximum; no bound).
const (
	weightsMagic   = "risklane-date\x00v4\x00\x00\x00"
	weightsMagicV3 = "risklane-date\x00v3\x00\x00\x00"
	weightsMagicV2 = "risklane-date\x00v2\x00\x00\x00"
	weightsMagicV1 = "risklane-date\x00v1\x00\x00\x00"
)

// Manifest describes a DATE model folder.
type Manifest = LeafManifest[Config]

// folder is the model's folder contents (LeafFolder: the files DATE and
// GBDT+LR share).
func (m *Model) folder() *LeafFolder[Config, History] {
	return &LeafFolder[Config, History]{Kind: Kind, Weights: WeightsFile, Config: m.Config, State: m.State, Trees: m.Trees, History: m.History}
}

// Save writes the model folder dir atomically (a temporary folder renamed
// into place, models.WriteFolder); an existing folder at dir is replaced
// only if risklane wrote it.
func (m *Model) Save(dir string) error {
	id, err := m.folder().Save(dir, m.marshalWeights())
	if err != nil {
		return err
	}
	m.id = id
	return nil
}

// Load reads and validates a DATE model folder: models.ReadFolder checks
// every file's size and SHA-256 and the model ID, FromFiles the trees, the
// feature state, and the weights against the trees and the architecture
// they state.
func Load(dir string) (*Model, error) {
	f, err := models.ReadFolder(dir)
	if err != nil {
		return nil, fmt.Errorf("date: %w", err)
	}
	return FromFiles(dir, f.Manifest, f.Files)
}

// FromFiles builds a model from the files of a folder whose hashes have
// been checked: manifest is manifest.json, files the other files by name.
// dir is for messages.
func FromFiles(dir string, manifest []byte, files map[string][]byte) (*Model, error) {
	f := &LeafFolder[Config, History]{Kind: Kind, Weights: WeightsFile}
	weights, id, err := f.Read(dir, manifest, files)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: f.Config, State: f.State, Trees: f.Trees, History: f.History}
	if err := m.Config.checkMarginFolds(); err != nil {
		return nil, fmt.Errorf("%w (model folder %s)", err, dir)
	}
	if err := m.Config.checkRevTarget(); err != nil {
		return nil, fmt.Errorf("%w (model folder %s)", err, dir)
	}
	if err := m.prepareTrees(); err != nil {
		return nil, fmt.Errorf("%w (model folder %s)", err, dir)
	}
	m.revIdx = revInputIndex(m.State.Names(), m.Config.RevenueInputs)
	if m.baseCol, err = baseColumn(m.State.Names(), m.Config.RevBase); err != nil {
		return nil, fmt.Errorf("%w (model folder %s)", err, dir)
	}
	if err := m.unmarshalWeights(weights); err != nil {
		return nil, fmt.Errorf("date: %s: %w", filepath.Join(dir, WeightsFile), err)
	}
	m.Config.Threads = 0
	m.id = id
	return m, nil
}

// marshalWeights writes date.bin, little-endian: the magic, the
// architecture (trees, leaves, importers, items, dim, heads, self-attention,
// revenue inputs, tree margin, revenue tower as uint32), RevScale, RevMean,
// RevSD, CalA, CalB and RevCap (float64), the parameters (float32, in layout order)
// and the two vocabularies (for rows 1..n, a uint32 length and the bytes).
func (m *Model) marshalWeights() []byte {
	var b bytes.Buffer
	b.WriteString(weightsMagic)
	a := m.Arch
	sa := 0
	if a.SelfAtt {
		sa = 1
	}
	mg := 0
	if a.Margin {
		mg = 1
	}
	for _, v := range []int{a.Trees, a.Leaves, a.Importers, a.Items, a.Dim, a.Heads, sa, a.RevIn, mg, a.RevHid} {
		binary.Write(&b, binary.LittleEndian, uint32(v))
	}
	for _, v := range []float64{m.RevScale, m.RevMean, m.RevSD, m.CalA, m.CalB, m.RevCap} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	binary.Write(&b, binary.LittleEndian, m.Params)
	for _, v := range []vocab{m.Importers, m.Items} {
		keys := make([]string, len(v))
		for s, i := range v {
			keys[i-1] = s
		}
		for _, s := range keys {
			binary.Write(&b, binary.LittleEndian, uint32(len(s)))
			b.WriteString(s)
		}
	}
	return b.Bytes()
}

// weightsReader reads date.bin, checking every size against what is left
// before allocating.
type weightsReader struct {
	b   []byte
	off int
}

var errTruncated = errors.New("truncated")

func (r *weightsReader) u32(what string) (int, error) {
	if len(r.b)-r.off < 4 {
		return 0, fmt.Errorf("%w at byte %d reading %s", errTruncated, r.off, what)
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return int(v), nil
}

func (m *Model) unmarshalWeights(b []byte) error {
	fields := []string{"trees", "leaves", "importers", "items", "dim", "heads", "self-attention", "revenue inputs", "tree margin", "revenue tower"}
	scales := []string{"the revenue scale", "the revenue target's mean", "the revenue target's standard deviation",
		"the calibration's slope", "the calibration's intercept", "the revenue estimate's bound"}
	switch {
	case bytes.HasPrefix(b, []byte(weightsMagic)):
	case bytes.HasPrefix(b, []byte(weightsMagicV3)):
		scales = scales[:5]
	case bytes.HasPrefix(b, []byte(weightsMagicV2)):
		fields, scales = fields[:9], scales[:1]
	case bytes.HasPrefix(b, []byte(weightsMagicV1)):
		fields, scales = fields[:7], scales[:1]
	default:
		return errors.New("not a risklane DATE weights file (bad magic)")
	}
	r := &weightsReader{b: b, off: len(weightsMagic)}
	var v [10]int
	for i, what := range fields {
		var err error
		if v[i], err = r.u32(what); err != nil {
			return err
		}
	}
	if v[6] > 1 || v[8] > 1 {
		return fmt.Errorf("self-attention flag %d, tree margin flag %d: want 0 or 1", v[6], v[8])
	}
	a := Arch{Trees: v[0], Leaves: v[1], Importers: v[2], Items: v[3], Dim: v[4], Heads: v[5], SelfAtt: v[6] == 1, RevIn: v[7], Margin: v[8] == 1, RevHid: v[9]}
	if err := a.check(); err != nil {
		return err
	}
	if a.RevIn != len(m.revIdx) {
		return fmt.Errorf("weights for %d revenue inputs; the configuration names %d features the feature state computes (%v)", a.RevIn, len(m.revIdx), m.Config.RevenueInputs)
	}
	if a.Trees != len(m.Trees.Trees) || a.Leaves != m.leaves.Rows {
		return fmt.Errorf("weights for %d trees with %d leaves; the trees file has %d trees with %d leaves", a.Trees, a.Leaves, len(m.Trees.Trees), m.leaves.Rows)
	}
	sv := [6]float64{0, 0, 0, 1, 0, math.Inf(1)}
	for i, what := range scales {
		if len(b)-r.off < 8 {
			return fmt.Errorf("%w at byte %d reading %s", errTruncated, r.off, what)
		}
		sv[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[r.off:]))
		r.off += 8
		if i == 5 { // the bound: a log revenue (ratio), or +Inf for none
			if math.IsNaN(sv[i]) || math.IsInf(sv[i], -1) || math.Abs(sv[i]) > 1e3 && !math.IsInf(sv[i], 1) {
				return fmt.Errorf("%s is %v: want a log revenue within ±1000, or +Inf for none", what, sv[i])
			}
			continue
		}
		if math.IsNaN(sv[i]) || math.IsInf(sv[i], 0) || (i != 1 && i != 4 && !(sv[i] > 0)) {
			return fmt.Errorf("%s is %v: want a finite number, positive but for the mean and the intercept", what, sv[i])
		}
	}
	m.RevScale, m.RevMean, m.RevSD, m.CalA, m.CalB, m.RevCap = sv[0], sv[1], sv[2], sv[3], sv[4], sv[5]
	if len(scales) == 1 { // versions 1 and 2: the target over its maximum
		m.RevMean, m.RevSD = 0, m.RevScale
	}
	_, size := a.layout()
	if (len(b)-r.off)/4 < size {
		return fmt.Errorf("%w: %d parameters announced, %d bytes left", errTruncated, size, len(b)-r.off)
	}
	m.Params = make([]float32, size)
	for i := range m.Params {
		x := math.Float32frombits(binary.LittleEndian.Uint32(b[r.off:]))
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("parameter %d is %v", i, x)
		}
		m.Params[i] = x
		r.off += 4
	}
	for _, vc := range []struct {
		what string
		n    int
		dst  *vocab
	}{{"importer", a.Importers, &m.Importers}, {"HS code", a.Items, &m.Items}} {
		*vc.dst = vocab{}
		for i := 1; i < vc.n; i++ {
			l, err := r.u32(vc.what)
			if err != nil {
				return err
			}
			if l > len(b)-r.off {
				return fmt.Errorf("%w: %s %d has %d bytes, %d left", errTruncated, vc.what, i, l, len(b)-r.off)
			}
			s := string(b[r.off : r.off+l])
			r.off += l
			if _, dup := (*vc.dst)[s]; dup || s == "" {
				return fmt.Errorf("%s %d (%q) is empty or repeated", vc.what, i, s)
			}
			(*vc.dst)[s] = int32(i)
		}
	}
	if r.off != len(b) {
		return fmt.Errorf("%d bytes after the vocabularies", len(b)-r.off)
	}
	m.Arch = a
	m.net = m.newNet()
	m.ready()
	return nil
}
