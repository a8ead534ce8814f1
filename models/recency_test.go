package models

import (
	"math"
	"strings"
	"testing"
)

// TestCheckRowHalfLife: the training rows' half-life is refused where the
// fraud rates' is (features.CheckHalfLife), and named by its flag.
func TestCheckRowHalfLife(t *testing.T) {
	for _, h := range []float64{0, 0.5, 14, 3650} {
		if err := CheckRowHalfLife(h); err != nil {
			t.Errorf("%v days: %v", h, err)
		}
	}
	for _, h := range []float64{-3, math.NaN(), math.Inf(1), 1e13} {
		if err := CheckRowHalfLife(h); err == nil || !strings.Contains(err.Error(), "--train-halflife") {
			t.Errorf("%v days: error %v, want a refusal naming --train-halflife", h, err)
		}
	}
}
