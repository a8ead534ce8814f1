package features

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// A Signal is a feature group computed outside this package, such as k-means
// price clusters or mirror-statistics gaps. Fit calls Fit once on the
// training batches (labels included), then Apply on every batch; the fitted
// signal is saved in the feature state through its JSON methods and restored
// by the factory given to Register.
//
// A signal that learns from labels must not leak them into the training
// rows: it implements OutOfFold as well.
type Signal interface {
	// Name is the group name used by --features ("cluster", "mirror").
	Name() string
	// Features names the columns Apply writes, in order. It must not change
	// after Fit or after UnmarshalJSON.
	Features() []string
	// Fit learns the signal's state from the training history.
	Fit(batches []arrow.RecordBatch) error
	// Apply writes the signal's values for every row of rec: out[j][i] is
	// feature j of row i, NaN when unknown. len(out) == len(Features()) and
	// every out[j] has rec.NumRows() elements.
	Apply(rec arrow.RecordBatch, out [][]float64) error
	json.Marshaler
	json.Unmarshaler
}

// OutOfFold is implemented by a Signal whose values depend on labels. Fit
// then asks it for the training rows' values instead of calling Apply:
// fold[i] (0 to k-1) is the fold of row i of the concatenated batches, and
// row i's values must come only from rows of other folds. out is as for
// Apply, over all training rows.
type OutOfFold interface {
	ApplyOutOfFold(batches []arrow.RecordBatch, fold []uint8, k int, out [][]float64) error
}

var registry struct {
	sync.Mutex
	m map[string]func() Signal
}

// Register makes a signal group available under name. newSignal returns an
// unfitted signal with default settings; it is used to fit the group when
// Config.Signals has no configured instance, and to restore a saved state.
// Register panics if name is empty, a built-in group or registered twice:
// that is a programming error, found at init time.
func Register(name string, newSignal func() Signal) {
	registry.Lock()
	defer registry.Unlock()
	if name == "" || slices.Contains(BuiltinGroups, name) {
		panic(fmt.Sprintf("features: cannot register signal %q", name))
	}
	if _, dup := registry.m[name]; dup {
		panic(fmt.Sprintf("features: signal %q registered twice", name))
	}
	if registry.m == nil {
		registry.m = map[string]func() Signal{}
	}
	registry.m[name] = newSignal
}

// Registered returns the names of the registered signal groups, sorted.
func Registered() []string {
	registry.Lock()
	defer registry.Unlock()
	var out []string
	for n := range registry.m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func isRegistered(name string) bool {
	registry.Lock()
	defer registry.Unlock()
	_, ok := registry.m[name]
	return ok
}

func newRegistered(name string) (Signal, bool) {
	registry.Lock()
	f, ok := registry.m[name]
	registry.Unlock()
	if !ok {
		return nil, false
	}
	return f(), true
}

// CheckOutput verifies the shape of the out argument of Signal.Apply: one
// column per feature name, each rows long. Signals call it first, so the
// contract is checked in one place with one message.
func CheckOutput(group string, names []string, out [][]float64, rows int) error {
	if len(out) != len(names) {
		return fmt.Errorf("%s: %d output columns for %d %s features", group, len(out), len(names), group)
	}
	for j := range out {
		if len(out[j]) != rows {
			return fmt.Errorf("%s: output column %s has %d rows for a batch of %d", group, names[j], len(out[j]), rows)
		}
	}
	return nil
}
