package main

import (
	"strconv"

	"github.com/spf13/pflag"

	"risklane/pipeline/rank"
)

// defaultSeed is every command's --seed default, and the job files' seed
// (rank.DefaultPlan): the same seed unless one is given, wherever it is used.
const defaultSeed = 1

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

// deprecatedAlias keeps an old flag name working as another name for the
// flag now called name: the same value, hidden from --help, and a warning
// on stderr when used ("Flag --threads has been deprecated, use --workers").
// One name per idea (docs/cli.md); scripts written for the old one still run.
func deprecatedAlias(fl *pflag.FlagSet, old, name string) {
	f := fl.Lookup(name)
	if f == nil {
		panic("deprecatedAlias: no flag --" + name)
	}
	fl.AddFlag(&pflag.Flag{Name: old, Usage: "old name of --" + name, Value: f.Value, DefValue: f.DefValue, NoOptDefVal: f.NoOptDefVal})
	if err := fl.MarkDeprecated(old, "use --"+name); err != nil {
		panic(err)
	}
}
