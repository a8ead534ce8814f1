package riskmodel

// The price-cluster and mirror feature groups register themselves with the
// feature layer when their packages are linked in. Importing them here lets
// every program that trains or loads a model (train, score, run, report,
// rules, demo) fit and restore a state that uses them.
import (
	_ "risklane/features/mirror"
	_ "risklane/features/pricecluster"
)
