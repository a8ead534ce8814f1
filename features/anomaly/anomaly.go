// Package anomaly is the anomaly feature group: an isolation forest
// (stats/iforest; Liu, Ting and Zhou, ICDM 2008) fitted on every row of the
// training history, inspected or not, scores each declaration by how easily
// its unit values isolate it among goods of nearby HS6 codes: value per kg,
// value per piece, kg per piece and the HS6 code. No label is used, so the score carries what the
// uninspected rows say about the usual shape of trade into a model that
// learns from the inspected ones (issue 15's semi-supervised option; the
// selection simulator measures it, docs/simulate.md).
package anomaly

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/features/pricecluster"
	"risklane/stats/iforest"
)

// GroupName is the feature group's name: risklane train --features ...,anomaly.
const GroupName = "anomaly"

// Names is the group's one feature: the isolation forest's score in (0, 1],
// near 1 anomalous, below 0.5 ordinary.
var Names = []string{"anomaly_iforest"}

// inputs is the number of columns the forest splits on (see columns).
const inputs = 4

// seed fixes the forest's draws: the same history gives the same forest (a
// Signal's Fit is given no seed).
const seed = 0x616e6f6d616c79

// NewGroup returns the group as package features registers it: unfitted.
func NewGroup() features.Signal { return &Feature{} }

// Feature is the anomaly feature group of package features.
type Feature struct {
	forest *iforest.Forest
	pool   sync.Pool // *pricecluster.Rows
}

// Name returns GroupName.
func (f *Feature) Name() string { return GroupName }

// Features returns Names.
func (f *Feature) Features() []string { return slices.Clone(Names) }

// columns writes the forest's inputs of the rows of rs, row-major: log
// value per kg, log value per piece, log kg per piece, and the HS6 code as a
// number (nearby codes are related goods, and a few splits on it leave the
// rows of one code); NaN where an amount is missing or not positive. The
// size of a shipment (value, mass, quantity alone) is left out: a large
// consignment is unusual without being suspect, and isolating it first
// would hide the unit values.
func columns(rs *pricecluster.Rows, dst []float64) []float64 {
	n := len(rs.Value)
	dst = slices.Grow(dst[:0], n*inputs)[:n*inputs]
	logOf := func(v float64) float64 {
		if v > 0 {
			return math.Log(v)
		}
		return math.NaN()
	}
	for i := range n {
		x := dst[i*inputs : (i+1)*inputs]
		v, m, q := logOf(rs.Value[i]), logOf(rs.Mass[i]), logOf(rs.Qty[i])
		x[0], x[1], x[2] = v-m, v-q, m-q
		x[3] = math.NaN()
		if rs.HS6[i] != pricecluster.NoHS6 {
			x[3] = float64(rs.HS6[i])
		}
	}
	return dst
}

// Fit grows the forest (100 trees of 256 rows, the paper's defaults) on
// every row of the history; labels are not read, so there is nothing to
// leak into the training rows.
func (f *Feature) Fit(batches []arrow.RecordBatch) error {
	var rs pricecluster.Rows
	for _, b := range batches {
		if err := rs.Append(b); err != nil {
			return fmt.Errorf("anomaly: %w", err)
		}
	}
	if len(rs.Value) == 0 {
		return errors.New("anomaly: no training rows")
	}
	x := columns(&rs, nil)
	cfg := iforest.DefaultConfig()
	cfg.Seed = seed
	f.forest = iforest.Fit(x, len(rs.Value), inputs, cfg)
	return nil
}

// Apply writes the anomaly score of every row of rec.
func (f *Feature) Apply(rec arrow.RecordBatch, out [][]float64) error {
	if f.forest == nil {
		return errors.New("anomaly: the anomaly feature is applied before it is fitted")
	}
	n := int(rec.NumRows())
	if err := features.CheckOutput(GroupName, Names, out, n); err != nil {
		return err
	}
	rs, _ := f.pool.Get().(*rowsAndInputs)
	if rs == nil {
		rs = new(rowsAndInputs)
	}
	defer f.pool.Put(rs)
	rs.rows.Reset()
	if err := rs.rows.Append(rec); err != nil {
		return fmt.Errorf("anomaly: %w", err)
	}
	rs.x = columns(&rs.rows, rs.x)
	f.forest.Score(rs.x, n, out[0])
	return nil
}

// rowsAndInputs are the buffers of one Apply.
type rowsAndInputs struct {
	rows pricecluster.Rows
	x    []float64
}

// wire is the saved state.
type wire struct {
	Version int             `json:"version"`
	Forest  *iforest.Forest `json:"forest"`
}

// MarshalJSON saves the forest, so that a loaded model scores new rows with
// the forest it was trained with.
func (f *Feature) MarshalJSON() ([]byte, error) {
	if f.forest == nil {
		return nil, errors.New("anomaly: the anomaly feature is saved before it is fitted")
	}
	return json.Marshal(wire{Version: 1, Forest: f.forest})
}

// UnmarshalJSON restores what MarshalJSON saved.
func (f *Feature) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("anomaly: %w", err)
	}
	if w.Version != 1 {
		return fmt.Errorf("anomaly: saved state version %d, this risklane reads 1", w.Version)
	}
	if w.Forest == nil || w.Forest.Features() != inputs {
		return fmt.Errorf("anomaly: the saved state needs a forest over %d inputs", inputs)
	}
	f.forest = w.Forest
	return nil
}

// Phrases words the feature for officers (features.Worded).
func (f *Feature) Phrases() []features.Phrase {
	score := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	return []features.Phrase{{
		Pattern: "*anomaly_iforest", Topic: "anomaly",
		Say: func(x features.Fact) string {
			return "unit values unusual for its goods among all declarations (isolation score " + score(x.V) + ")"
		},
		Term: features.Fixed("isolation-forest anomaly score", score),
	}}
}
