package models

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/features"
)

// Kind is one kind of model: its name in manifests, how to read a folder it
// wrote and how to train one. A kind's package exports one Kind value and
// package risklane/models/kinds lists it in its table; nothing else in
// risklane names the kind.
type Kind struct {
	// Name is the manifest's "kind" and the train command's --model value.
	Name string
	// Doc is one line for help texts.
	Doc string
	// Load builds the model from a folder ReadFolder has read and checked
	// (regular files, sizes, SHA-256): it validates the model once and
	// prepares everything scoring needs. The model's ID must be f.ID.
	Load func(f *Folder) (Model, error)
	// Train fits a model on labelled batches; valid, which may be nil, is a
	// validation set that only reports. Nil when the kind cannot be trained
	// by risklane.
	Train func(train, valid []arrow.RecordBatch, cfg TrainConfig) (Trained, error)
	// Params declares the kind's training parameters, once: the train
	// command's flags, their help and their validation read this table.
	Params []Param
	// Groups are the feature groups the kind trains on unless told
	// otherwise; nil means features.DefaultGroups.
	Groups []string
}

// Trained is a freshly trained model that can write its folder (with
// WriteFolder; Save fills the model's ID).
type Trained interface {
	Model
	Save(dir string) error
}

// TrainConfig is what every kind's Train gets.
type TrainConfig struct {
	// Features configures the feature layer (groups, folds, smoothing, seed,
	// configured signals).
	Features features.Config
	// Seed seeds the model's own randomness (row and column sampling,
	// initial weights).
	Seed uint64
	// Params are the values of the kind's Params given by the user, by
	// name, already checked against their ranges (Kind.ParseParams);
	// parameters not given keep their defaults.
	Params map[string]float64
	// Profile and Inputs describe the training data in the manifest.
	Profile string
	Inputs  []string
	// EvalLog, when set, receives a kind's per-round evaluation log (the
	// gbdt classifier's "[100]\ttrain-logloss:...\tvalid-logloss:..."); it
	// does not change the model.
	EvalLog io.Writer
	// NoDiagnostics skips what only describes the model, not what it
	// predicts (per-round training metrics, in-sample evaluation): the model
	// is the same. For callers that train many models and read none of it,
	// such as the selection simulator.
	NoDiagnostics bool
	// RowHalfLife, in days, weights every training row by 0.5^(age /
	// RowHalfLife), age being the days from the latest date of the training
	// history (features.RecencyWeights, the rule the fraud rates' half-life
	// follows too): recent labels count more, as concept drift practice
	// weights them. 0 (the default) weighs every row 1. Only
	// kinds whose Recipe sets RowWeights take it; the others refuse a
	// non-zero value.
	RowHalfLife float64
}

// Param declares one training parameter of a kind, as XGBoost's
// DMLC_DECLARE_FIELD does: name, default, valid range and doc, in one place.
type Param struct {
	// Name is the flag name ("max-depth").
	Name string
	// Doc is the flag's help.
	Doc string
	// Default is the value when the parameter is not given.
	Default float64
	// Min and Max bound the value, inclusive.
	Min, Max float64
	// Integer asks for a whole number; Bool for a switch (0 or 1, a flag
	// without value).
	Integer, Bool bool
}

// Setting binds one declared parameter to the field of a kind's training
// configuration C that it sets; a kind declares its parameters once, as a
// []Setting[C], and takes Kind.Params from ParamsOf and its configuration
// from Apply.
type Setting[C any] struct {
	Param
	Set func(c *C, v float64)
}

// ParamsOf returns the declarations of settings, for Kind.Params.
func ParamsOf[C any](settings []Setting[C]) []Param {
	out := make([]Param, len(settings))
	for i, s := range settings {
		out[i] = s.Param
	}
	return out
}

// Apply sets in cfg each parameter given in params (values ParseParams
// has checked); the others keep their value in cfg.
func Apply[C any](settings []Setting[C], params map[string]float64, cfg *C) {
	for _, s := range settings {
		if v, ok := params[s.Name]; ok {
			s.Set(cfg, v)
		}
	}
}

// Recipe is how a kind that risklane trains goes from a TrainConfig to a
// model M through its own training configuration C. Its Config is the
// kind's ConfigOf, its Train the Kind's Train and its Params the Kind's
// Params, so every kind checks, applies and reports alike.
type Recipe[C any, M Trained] struct {
	// Kind names the kind in errors.
	Kind string
	// Settings declares the kind's parameters, once.
	Settings []Setting[C]
	// Base returns the kind's defaults with tc's kind-neutral fields
	// (features, seed, ...) set; the parameters given are applied on it.
	Base func(tc TrainConfig) C
	// RowWeights says the kind trains on per-row weights and so takes
	// TrainConfig.RowHalfLife (its Base passes it on); Config refuses a
	// non-zero RowHalfLife for a kind without.
	RowWeights bool
	// Check, when set, vets the configuration once the parameters are
	// applied.
	Check func(C) error
	// Fit trains a model with the configuration.
	Fit func(train, valid []arrow.RecordBatch, cfg C) (M, error)
	// Report, when set, has a model Fit returned report on the validation
	// batches, when there are any, for its summary; its error reads
	// "KIND: validation data: ...".
	Report func(m M, valid []arrow.RecordBatch) error
}

// Params returns the declarations of the recipe's settings.
func (r Recipe[C, M]) Params() []Param { return ParamsOf(r.Settings) }

// Config checks the parameters tc gives against their declarations, then
// returns Base with them applied, and Check's verdict on it.
func (r Recipe[C, M]) Config(tc TrainConfig) (C, error) {
	if err := (Kind{Name: r.Kind, Params: r.Params()}).ParseParams(tc.Params); err != nil {
		var zero C
		return zero, err
	}
	if err := CheckRowHalfLife(tc.RowHalfLife); err != nil {
		var zero C
		return zero, err
	}
	if tc.RowHalfLife != 0 && !r.RowWeights {
		var zero C
		return zero, fmt.Errorf("--train-halflife %g: %s models cannot weight their training rows; use the %s kind or leave it at 0", tc.RowHalfLife, r.Kind, DefaultKind)
	}
	cfg := r.Base(tc)
	Apply(r.Settings, tc.Params, &cfg)
	if r.Check != nil {
		return cfg, r.Check(cfg)
	}
	return cfg, nil
}

// Train builds the configuration, fits the model and has it report on
// valid.
func (r Recipe[C, M]) Train(train, valid []arrow.RecordBatch, tc TrainConfig) (Trained, error) {
	cfg, err := r.Config(tc)
	if err != nil {
		return nil, err
	}
	m, err := r.Fit(train, valid, cfg)
	if err != nil {
		return nil, err
	}
	if r.Report != nil && len(valid) > 0 {
		if err := r.Report(m, valid); err != nil {
			return nil, fmt.Errorf("%s: validation data: %w", r.Kind, err)
		}
	}
	return m, nil
}

// Check refuses v when it is outside the parameter's range or not of its
// type.
func (p Param) Check(v float64) error {
	switch {
	case math.IsNaN(v):
		return fmt.Errorf("--%s: not a number", p.Name)
	case (p.Integer || p.Bool) && v != math.Trunc(v):
		return fmt.Errorf("--%s %g: want a whole number", p.Name, v)
	case v < p.Min || v > p.Max:
		return fmt.Errorf("--%s %g: want %s to %s", p.Name, v, p.Format(p.Min), p.Format(p.Max))
	}
	return nil
}

// Format writes v as the parameter's flag takes it.
func (p Param) Format(v float64) string {
	if p.Bool {
		return strconv.FormatBool(v != 0)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Param returns the declaration of the parameter called name.
func (k Kind) Param(name string) (Param, bool) {
	for _, p := range k.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// ParseParams checks the given values (by name) against the kind's table.
func (k Kind) ParseParams(given map[string]float64) error {
	for name, v := range given {
		p, ok := k.Param(name)
		if !ok {
			return fmt.Errorf("--%s is not a parameter of %s models", name, k.Name)
		}
		if err := p.Check(v); err != nil {
			return err
		}
	}
	return nil
}

// Value returns the value of the parameter name in cfg: the one given,
// else the table's default. It panics when the kind does not declare name,
// a programming error.
func (k Kind) Value(cfg TrainConfig, name string) float64 {
	if v, ok := cfg.Params[name]; ok {
		return v
	}
	p, ok := k.Param(name)
	if !ok {
		panic("models: " + k.Name + " declares no parameter " + name)
	}
	return p.Default
}
