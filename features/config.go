package features

import (
	"fmt"
	"slices"
	"strings"
)

// Built-in feature groups.
const (
	GroupHS        = "hs"
	GroupUnitValue = "unitvalue"
	GroupTax       = "tax"
	GroupRisk      = "risk"
	GroupFreq      = "freq"
	GroupTraders   = "traders"
	GroupDate      = "date"
	GroupExtras    = "extras"
)

// BuiltinGroups lists the groups this package computes itself, in output
// order. Signal groups follow them.
var BuiltinGroups = []string{GroupHS, GroupUnitValue, GroupTax, GroupRisk, GroupFreq, GroupTraders, GroupDate, GroupExtras}

// DefaultGroups are the groups Fit computes unless told otherwise: every
// built-in group. A model's default selection is a modelling choice made
// elsewhere (risklane/models/riskmodel.DefaultGroups). Registered signals
// (cluster, mirror) need data or settings of their own and are added by name.
var DefaultGroups = BuiltinGroups

// Defaults of Config.
const (
	DefaultFolds        = 5
	DefaultSmoothing    = 10
	DefaultMinReference = 5
)

// Config controls Fit.
type Config struct {
	// Groups are the feature groups to compute: built-in names and the names
	// of registered signals. Nil means DefaultGroups.
	Groups []string
	// Folds is K, the number of folds of the out-of-fold statistics; 0 means
	// DefaultFolds. At least 2.
	Folds int
	// Seed draws the folds.
	Seed uint64
	// Smoothing is m, the weight of the prior in a smoothed fraud rate
	// (sum + m * prior) / (count + m): a key seen m times is halfway between
	// its own rate and its parent's. 0 means DefaultSmoothing.
	Smoothing float64
	// MinReference is the number of unit values an HS6 (or HS6 by origin)
	// reference needs; sparser codes use the HS4, then HS2, then the global
	// reference. 0 means DefaultMinReference.
	MinReference int
	// HalfLife, in days, weighs each labelled row's part in every smoothed
	// fraud rate (the whole history's, the prior, and the training rows'
	// out-of-fold rates) by 0.5^(age/HalfLife), age the days between the
	// history's latest date and the row's (RecencyWeights): rates follow a
	// pattern that changed lately instead of the history's mean. Counts
	// (freq) and unit-value references stay unweighted. 0 means off: every
	// row weighs 1. Positive up to MaxHalfLife; it needs the date column.
	HalfLife float64
	// Signals are configured plug-in signals to fit, for groups whose signal
	// needs settings or data a bare Register factory cannot supply (a mirror
	// signal needs trade statistics). A requested signal group without an
	// entry here is made by its registered factory.
	Signals []Signal
}

func (c Config) withDefaults() Config {
	if c.Groups == nil {
		c.Groups = DefaultGroups
	}
	if c.Folds == 0 {
		c.Folds = DefaultFolds
	}
	if c.Smoothing == 0 {
		c.Smoothing = DefaultSmoothing
	}
	if c.MinReference == 0 {
		c.MinReference = DefaultMinReference
	}
	return c
}

func (c Config) validate() error {
	if c.Folds < 2 || c.Folds > 255 {
		return fmt.Errorf("features: folds = %d; use 2 to 255", c.Folds)
	}
	if !(c.Smoothing > 0) || c.Smoothing > 1e9 {
		return fmt.Errorf("features: smoothing = %v; use a positive number", c.Smoothing)
	}
	if err := CheckHalfLife(c.HalfLife); err != nil {
		return err
	}
	if c.MinReference < 1 {
		return fmt.Errorf("features: min reference = %d; use 1 or more", c.MinReference)
	}
	if len(c.Groups) == 0 {
		return fmt.Errorf("features: no feature group selected; choose from %s", strings.Join(AvailableGroups(), ","))
	}
	seen := map[string]bool{}
	for _, g := range c.Groups {
		if seen[g] {
			return fmt.Errorf("features: group %q given twice", g)
		}
		seen[g] = true
		if !slices.Contains(BuiltinGroups, g) && !isRegistered(g) && !hasSignal(c.Signals, g) {
			return fmt.Errorf("features: unknown feature group %q; choose from %s", g, strings.Join(AvailableGroups(), ","))
		}
	}
	for _, s := range c.Signals {
		if !seen[s.Name()] {
			return fmt.Errorf("features: signal %q is configured but its group is not selected", s.Name())
		}
	}
	return nil
}

// CheckHalfLife says whether h is a valid Config.HalfLife: 0 (off) or a
// positive number of days up to MaxHalfLife.
func CheckHalfLife(h float64) error {
	if !(h >= 0) || h > MaxHalfLife {
		return fmt.Errorf("features: half-life = %v days; use 0 (off) or a positive number of days up to %g", h, float64(MaxHalfLife))
	}
	return nil
}

func hasSignal(sigs []Signal, name string) bool {
	for _, s := range sigs {
		if s.Name() == name {
			return true
		}
	}
	return false
}

// ParseGroups reads a comma-separated list of group names ("hs,risk,freq").
// A list of changes instead removes groups from base ("-date,-extras") or
// adds them ("+cluster"). An empty string means base.
func ParseGroups(s string, base []string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return slices.Clone(base), nil
	}
	parts := strings.Split(s, ",")
	relative := strings.HasPrefix(strings.TrimSpace(parts[0]), "-") || strings.HasPrefix(strings.TrimSpace(parts[0]), "+")
	var out []string
	if relative {
		out = slices.Clone(base)
	}
	known := AvailableGroups()
	for _, p := range parts {
		p = strings.TrimSpace(p)
		op := byte(0)
		if p != "" && (p[0] == '-' || p[0] == '+') {
			op, p = p[0], p[1:]
		}
		if (op != 0) != relative {
			return nil, fmt.Errorf("features: %q mixes a plain group list with +/- changes; write either \"hs,risk\" or \"-date,+cluster\"", s)
		}
		if !slices.Contains(known, p) {
			return nil, fmt.Errorf("features: unknown feature group %q; choose from %s", p, strings.Join(known, ","))
		}
		switch op {
		case '-':
			out = slices.DeleteFunc(out, func(g string) bool { return g == p })
		default:
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("features: %q leaves no feature group", s)
	}
	return out, nil
}

// AvailableGroups returns the built-in groups followed by the registered
// signal groups.
func AvailableGroups() []string {
	return append(slices.Clone(BuiltinGroups), Registered()...)
}
