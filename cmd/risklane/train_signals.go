package main

import (
	"fmt"
	"io"
	"os"
	"slices"

	"risklane/features"
	"risklane/features/market"
	"risklane/features/mirror"
)

// mirrorFlags are the flags of risklane train that feed the mirror feature
// group.
type mirrorFlags struct {
	trade    []string
	reporter string
	tariffs  string
	// market are the price tables of the market feature group
	// (--market-prices; docs/prices.md).
	market []string
}

// base returns the default feature groups: the model's, plus mirror when
// trade statistics are given.
func (f mirrorFlags) base(defaults []string) []string {
	out := slices.Clone(defaults)
	if len(f.trade) > 0 {
		out = append(out, mirror.GroupName)
	}
	if len(f.market) > 0 {
		out = append(out, market.GroupName)
	}
	return out
}

// marketSignal returns the market group to fit, if any.
func (f mirrorFlags) marketSignal(groups []string) ([]features.Signal, error) {
	want := slices.Contains(groups, market.GroupName)
	switch {
	case len(f.market) == 0 && want:
		return nil, usageError{msg: "train: the market feature group needs a price table: give --market-prices FILE (risklane prices writes one)"}
	case len(f.market) > 0 && !want:
		return nil, usageError{msg: "train: --market-prices gives the market features, but --features leaves the market group out; add market to the list or drop --market-prices"}
	case len(f.market) == 0:
		return nil, nil
	}
	return []features.Signal{market.NewFeature(f.market...)}, nil
}

// signals checks the flags against the chosen groups and returns the mirror
// group to fit, if any, and what the tariff table rejected.
func (f mirrorFlags) signals(groups []string) ([]features.Signal, []mirror.Reject, error) {
	mkt, err := f.marketSignal(groups)
	if err != nil {
		return nil, nil, err
	}
	sigs, rejects, err := f.mirrorSignal(groups)
	return append(sigs, mkt...), rejects, err
}

// mirrorSignal returns the mirror group to fit, if any, and what the tariff
// table rejected.
func (f mirrorFlags) mirrorSignal(groups []string) ([]features.Signal, []mirror.Reject, error) {
	want := slices.Contains(groups, mirror.GroupName)
	switch {
	case len(f.trade) == 0 && want:
		return nil, nil, usageError{msg: "train: the mirror feature group needs trade statistics: give --trade FILE (Comtrade CSV, repeat for several) and --reporter ISO3"}
	case len(f.trade) == 0 && (f.reporter != "" || f.tariffs != ""):
		return nil, nil, usageError{msg: "train: --reporter and --tariffs go with --trade, the trade statistics of the mirror features"}
	case len(f.trade) == 0:
		return nil, nil, nil
	case !want:
		return nil, nil, usageError{msg: "train: --trade gives the mirror features, but --features leaves the mirror group out; add mirror to the list or drop --trade"}
	case f.reporter == "":
		return nil, nil, usageError{msg: "train: give --reporter, the ISO3 code of the importing country whose trade statistics --trade holds (e.g. KEN)"}
	}
	cfg := mirror.DefaultConfig(f.reporter)
	cfg.MinValue = mirror.FeatureMinValue
	var rejects []mirror.Reject
	if f.tariffs != "" {
		r, err := os.Open(f.tariffs)
		if err != nil {
			return nil, nil, fmt.Errorf("train: tariffs: %w", err)
		}
		defer r.Close()
		if cfg.Tariffs, rejects, err = mirror.ReadTariffs(r, f.tariffs); err != nil {
			return nil, nil, err
		}
	}
	return []features.Signal{mirror.NewFeature(cfg, f.trade...)}, rejects, nil
}

// reportTariffRejects prints the rows of the tariff table that were not
// used.
func reportTariffRejects(w io.Writer, path string, rejects []mirror.Reject) {
	if len(rejects) == 0 {
		return
	}
	fmt.Fprintf(w, "Tariff table %s: %d rows rejected:\n", path, len(rejects))
	for i, r := range rejects {
		if i == 5 {
			fmt.Fprintf(w, "  ... %d more\n", len(rejects)-i)
			break
		}
		fmt.Fprintf(w, "  %s\n", r.Error())
	}
}

// reportSignals prints what the fitted mirror group read: statistics rows
// used and rejected (with the first reasons), and the flows it pairs.
func reportSignals(w io.Writer, sigs []features.Signal) {
	for _, s := range sigs {
		f, ok := s.(*mirror.Feature)
		if !ok || f.Gaps() == nil {
			continue
		}
		g := f.Gaps()
		sum := g.Summary
		fmt.Fprintf(w, "Mirror features: %d trade-statistics rows read, %d used, %d rejected; %d HS6 flows of %s, %d signal entries (origin x HS x year)\n",
			sum.Read, sum.Used, sum.Rejected, len(g.Flows), sum.Reporter, f.Signals().Len())
		for i, r := range g.Rejects {
			if i == 5 {
				fmt.Fprintf(w, "  ... %d more rejected rows (risklane mirror --rejects FILE lists them all)\n", len(g.Rejects)-i)
				break
			}
			fmt.Fprintf(w, "  %s\n", r.Error())
		}
	}
}
