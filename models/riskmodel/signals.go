package riskmodel

// The mirror feature group registers itself with the feature layer when its
// package is linked in (the cluster group is linked by DefaultGroups).
// Importing it here lets every program that trains or loads a model (train,
// score, run, report, rules, demo) fit and restore a state that uses it.
import _ "risklane/features/mirror"
