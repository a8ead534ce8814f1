package rules

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
	"risklane/models"
	"risklane/models/gbdt"
)

// ModelData computes what a risk model's rules are measured on: the
// features of batches (columns named as the model's features) and their
// labels (1 illicit, 0 clean, NaN not inspected).
//
// When batches are the model's training history, the rows get the
// out-of-fold features the trees were trained on, and training is true: the
// feature layer is fitted again with the model's own configuration, and used
// only if it gives back the model's state byte for byte (same rows, same
// settings, no signal that needs data the folder lacks). Otherwise the rows
// get the features the model computes when it scores, fraud rates from the
// whole history included; on the training rows themselves those rates have
// seen each row's own label and flatter the rules.
func ModelData(m models.Ensemble, batches []arrow.RecordBatch) (X *gbdt.Matrix, y []float64, training bool, err error) {
	st := m.FeatureState()
	names := st.Names()
	X = &gbdt.Matrix{Names: names}
	var labels []int8
	for _, b := range batches {
		X.Rows += int(b.NumRows())
		if labels, err = features.ReadLabels(b, labels); err != nil {
			return nil, nil, false, fmt.Errorf("rules: %w", err)
		}
	}
	y = make([]float64, len(labels))
	for i, l := range labels {
		y[i] = float64(l)
		if l < 0 {
			y[i] = math.NaN()
		}
	}
	if X.Rows == m.TrainRows() {
		if fitted, fm, err := features.Fit(batches, st.Config()); err == nil && sameState(fitted, st) {
			X.Cols = fm.Cols
			return X, y, true, nil
		}
	}
	X.Cols = make([][]float64, len(names))
	var cols [][]float64
	for _, b := range batches {
		if cols, err = st.Transform(b, cols); err != nil {
			return nil, nil, false, err
		}
		for j := range X.Cols {
			X.Cols[j] = append(X.Cols[j], cols[j]...)
		}
	}
	return X, y, false, nil
}

// sameState reports whether two feature states save to the same bytes.
func sameState(a, b *features.State) bool {
	ja, errA := a.MarshalJSON()
	jb, errB := b.MarshalJSON()
	return errA == nil && errB == nil && string(ja) == string(jb)
}
