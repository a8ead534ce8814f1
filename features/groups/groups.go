// Package groups is the one place where risklane's plug-in feature groups
// are registered with package features. A new group is its own package
// (a features.Signal, with features.Worded for its reason phrases) plus one
// line in Register.
package groups

import (
	"sync"

	"risklane/features"
	"risklane/features/anomaly"
	"risklane/features/market"
	"risklane/features/mirror"
	"risklane/features/pricecluster"
)

var once sync.Once

// Register registers every plug-in feature group with package features. It
// may be called any number of times; every program that fits, restores or
// explains a feature state calls it first (package riskmodel does, for every
// command that trains or loads a model).
func Register() {
	once.Do(func() {
		features.Register(pricecluster.GroupName, pricecluster.NewGroup)
		features.Register(mirror.GroupName, mirror.NewGroup)
		features.Register(market.GroupName, market.NewGroup)
		features.Register(anomaly.GroupName, anomaly.NewGroup)
	})
}
