package models

import (
	"fmt"

	"risklane/features"
)

// CheckRowHalfLife refuses a TrainConfig.RowHalfLife that
// features.CheckHalfLife refuses: a half-life is one rule for the fraud
// rates' and the training rows' weights (features.RecencyWeights).
func CheckRowHalfLife(days float64) error {
	if err := features.CheckHalfLife(days); err != nil {
		return fmt.Errorf("--train-halflife %g: want 0 (every training row weighs 1) or a positive number of days: %w", days, err)
	}
	return nil
}
