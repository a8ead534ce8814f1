package score

import (
	"github.com/apache/arrow-go/v18/arrow"

	"risklane/models"
)

// Worker is the per-row work of a scoring run (features, prediction,
// reasons) for a caller that distributes it itself, such as the Beam
// pipeline (docs/beam.md): Score and Join run the same code. A Worker is not
// safe for concurrent use; make one per goroutine.
type Worker struct {
	w *scoreWorker
}

// NewWorker prepares a Worker for m, ranking by by ("" means
// models.ByProbability).
func NewWorker(m models.Model, by models.RankBy) (*Worker, error) {
	if by == "" {
		by = models.ByProbability
	}
	if err := models.CheckRankBy(m, by); err != nil {
		return nil, err
	}
	cfg := &Config{Model: m, Reasoner: NewReasoner(m.FeatureNames()), RankBy: by}
	return &Worker{w: newScoreWorker(cfg, explainerOf(cfg), nil, nil)}, nil
}

// Score fills, for each row of rec, the model's probability as a float32
// (the ranked file's score), the expected revenue and the ranking score
// that rank.MakeKey packs (the probability, or the expected revenue when
// ranking by it). start is the ordinal of rec's first row, for errors.
func (wk *Worker) Score(rec arrow.RecordBatch, start int, prob []float32, rev []float64, key []float32) error {
	w := wk.w
	n := int(rec.NumRows())
	for i := 0; i < n; i += subBatch {
		j := min(i+subBatch, n)
		sub := rec.NewSlice(int64(i), int64(j))
		err := w.predict(sub, start+i)
		sub.Release()
		if err != nil {
			return err
		}
		for t := range j - i {
			prob[i+t], rev[i+t], key[i+t] = float32(w.prob[t]), w.rev[t], float32(w.prob[t])
			if w.byRevenue {
				key[i+t] = float32(w.rev[t])
			}
		}
	}
	return nil
}

// Reasons returns the reasons of the given rows of rec (0-based,
// ascending), as Join words them. start is the ordinal of rec's first row,
// for errors.
func (wk *Worker) Reasons(rec arrow.RecordBatch, start int, rows []int) ([]string, error) {
	out := make([]string, 0, len(rows))
	n := int(rec.NumRows())
	k := 0
	for i := 0; i < n && k < len(rows); i += subBatch {
		j := min(i+subBatch, n)
		var in []int
		for ; k < len(rows) && rows[k] < j; k++ {
			in = append(in, rows[k]-i)
		}
		if len(in) == 0 {
			continue
		}
		sub := rec.NewSlice(int64(i), int64(j))
		err := wk.w.explain(sub, start+i, in, func(_ int, text []byte) { out = append(out, string(text)) })
		sub.Release()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
