package main

import (
	"strconv"

	"risklane/pipeline/rank"
)

// rateFlag is a flag holding a share that cannot be a count (a rejected-rows
// limit): "2%" or "0.02", read by rank.ParseRate like the job files' keys
// (docs/cli.md).
type rateFlag struct{ v *float64 }

func (r rateFlag) String() string {
	if r.v == nil {
		return ""
	}
	return strconv.FormatFloat(*r.v*100, 'g', -1, 64) + "%"
}

func (r rateFlag) Set(s string) error {
	v, err := rank.ParseRate(s)
	if err != nil {
		return err
	}
	*r.v = v
	return nil
}

func (rateFlag) Type() string { return "share" }
