package gbdtlr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"

	"risklane/models"
	"risklane/models/date"
)

// Files of a GBDT+LR model folder.
const (
	ManifestFile = models.ManifestFile
	FeaturesFile = "features.json"
	TreesFile    = "trees.json"
	WeightsFile  = "lr.bin"
	MetricsFile  = models.MetricsFile
)

const weightsMagic = "risklane-gbdtlr\x00v1\x00"

// Manifest describes a GBDT+LR model folder.
type Manifest = date.LeafManifest[Config]

// Save writes the model folder dir atomically (models.WriteFolder); an
// existing folder at dir is replaced only if risklane wrote it.
func (m *Model) Save(dir string) error {
	f := &date.LeafFolder[Config, History]{Kind: Kind, Weights: WeightsFile, Config: m.Config, State: m.State, Trees: m.Trees, History: m.History}
	id, err := f.Save(dir, m.marshalWeights())
	if err != nil {
		return err
	}
	m.id = id
	return nil
}

// Load reads and validates a GBDT+LR model folder.
func Load(dir string) (*Model, error) {
	f, err := models.ReadFolder(dir)
	if err != nil {
		return nil, fmt.Errorf("gbdtlr: %w", err)
	}
	return FromFiles(dir, f.Manifest, f.Files)
}

// FromFiles builds a model from the files of a folder whose hashes have been
// checked: manifest is manifest.json, files the others by name; dir is for
// messages. The trees must take the state's features and the weights must
// number the trees' leaves.
func FromFiles(dir string, manifest []byte, files map[string][]byte) (*Model, error) {
	f := &date.LeafFolder[Config, History]{Kind: Kind, Weights: WeightsFile}
	weights, id, err := f.Read(dir, manifest, files)
	if err != nil {
		return nil, err
	}
	c, err := date.NewCross(f.State, f.Trees)
	if err != nil {
		return nil, fmt.Errorf("gbdtlr: model folder %s: %w", dir, err)
	}
	m := &Model{Config: f.Config, Cross: c, History: f.History}
	if m.B, m.W, err = readWeights(weights, c.NumLeaves()); err != nil {
		return nil, fmt.Errorf("gbdtlr: %s: %w", filepath.Join(dir, WeightsFile), err)
	}
	if err := m.explainer(); err != nil {
		return nil, fmt.Errorf("%w (model folder %s)", err, dir)
	}
	m.Config.Threads = 0
	m.id = id
	return m, nil
}

// marshalWeights writes lr.bin, little-endian: the magic, the number of
// leaves (uint32), the intercept and the leaf weights (float64).
func (m *Model) marshalWeights() []byte { return writeWeights(m.B, m.W) }

func writeWeights(bias float64, w []float64) []byte {
	var b bytes.Buffer
	b.WriteString(weightsMagic)
	binary.Write(&b, binary.LittleEndian, uint32(len(w)))
	binary.Write(&b, binary.LittleEndian, bias)
	binary.Write(&b, binary.LittleEndian, w)
	return b.Bytes()
}

// readWeights reads lr.bin for trees of leaves leaves: the intercept and
// the leaf weights. Every size is checked against the trees and the bytes
// there are before anything is allocated.
func readWeights(b []byte, leaves int) (float64, []float64, error) {
	if !bytes.HasPrefix(b, []byte(weightsMagic)) {
		return 0, nil, errors.New("not a risklane GBDT+LR weights file (bad magic)")
	}
	r := b[len(weightsMagic):]
	if len(r) < 4 {
		return 0, nil, fmt.Errorf("truncated at byte %d reading the number of leaves", len(b)-len(r))
	}
	stated := binary.LittleEndian.Uint32(r)
	r = r[4:]
	if leaves < 0 || int64(stated) != int64(leaves) { // int64: an int of 32 bits cannot hold every count
		return 0, nil, fmt.Errorf("weights for %d leaves; the trees file has %d leaves", stated, leaves)
	}
	n := leaves
	if want := 8 * (n + 1); len(r) != want {
		return 0, nil, fmt.Errorf("%d bytes of intercept and weights, want %d (%d leaves)", len(r), want, n)
	}
	v := make([]float64, n+1)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(r[8*i:]))
		if math.IsNaN(v[i]) || math.IsInf(v[i], 0) {
			return 0, nil, fmt.Errorf("weight %d is %v", i, v[i])
		}
	}
	return v[0], v[1:], nil
}
