package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"risklane/ingest"
	"risklane/pipeline/choropleth"
	"risklane/sink"
)

func init() { rootCmd.AddCommand(newMapCmd()) }

// newMapCmd builds the map command with its own flag variables, so that
// tests can run it afresh.
func newMapCmd() *cobra.Command {
	var in, out string
	var opt choropleth.Options
	cmd := &cobra.Command{
		Use:   "map --in TABLE --country COL --value COL [--time COL] --out map.html",
		Short: "Interactive world map (choropleth) of any country-level table",
		Long: `map draws a country-level table (a WCO annual survey, trade by partner, seizures by
origin; CSV, Parquet or Arrow) on a world map (BACUDA series 11): one HTML file that
opens offline, countries coloured by --value with a legend, a tooltip showing every
column of the country's row, and a time slider with a step per distinct --time value.

Countries are matched by ISO3, ISO2 or M49 code or by English name. Rows whose
country is not recognised, or too small for the map's outlines, are listed on the
page and printed here, never dropped silently. See docs/maps.md.`,
		Example: `  risklane map --in survey.csv --country country --value seizures --time year --out survey.html`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			switch {
			case in == "":
				return usageError{msg: "map: give --in, the country table to draw (CSV, Parquet or Arrow)"}
			case opt.Country == "" || opt.Value == "":
				return usageError{msg: "map: give --country and --value, the columns holding the country and the number to colour by"}
			case out == "":
				return usageError{msg: "map: give --out, the HTML file to write"}
			}
			if !strings.HasSuffix(strings.ToLower(out), ".html") {
				return usageError{msg: "map: --out " + out + " must end in .html"}
			}
			if err := preparePaths("map", []string{in}, sink.Path{Flag: "--out", Name: out}); err != nil {
				return err
			}
			return runMap(c.OutOrStdout(), in, out, opt)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in, "in", "", "country table: CSV, Parquet or Arrow")
	fl.StringVar(&opt.Country, "country", "", "column holding the country (ISO3, ISO2, M49 code or English name)")
	fl.StringVar(&opt.Value, "value", "", "numeric column that colours the map")
	fl.StringVar(&opt.Time, "time", "", "column whose values become the steps of a time slider (optional)")
	fl.StringVar(&opt.Title, "title", "", "page title (default: VALUE by country)")
	fl.StringVar(&out, "out", "", "HTML file to write")
	return cmd
}

func runMap(w io.Writer, in, out string, opt choropleth.Options) error {
	t, err := ingest.ReadTable(in)
	if err != nil {
		return err
	}
	m, err := choropleth.Build(t, opt)
	if err != nil {
		return err
	}
	if err := choropleth.WriteFile(out, m); err != nil {
		return err
	}
	fmt.Fprintf(w, "Map %s: %d of %d rows drawn", out, m.Placed, m.Rows)
	if opt.Time != "" {
		fmt.Fprintf(w, " over %d steps of %s", len(m.Times), opt.Time)
	}
	fmt.Fprintln(w)
	list := func(what string, ms []choropleth.Miss) {
		for _, x := range ms {
			fmt.Fprintf(w, "  %s: %s (line", what, x.Text)
			if len(x.Lines) > 1 {
				fmt.Fprint(w, "s")
			}
			for i, l := range x.Lines {
				if i > 0 {
					fmt.Fprint(w, ",")
				}
				fmt.Fprintf(w, " %d", l)
			}
			fmt.Fprintln(w, ")")
		}
	}
	list("not recognised", m.Unmatched)
	list("no outline at this scale", m.Unplaced)
	list("no number in "+opt.Value, m.NoValue)
	for _, b := range m.Bad {
		fmt.Fprintf(w, "  unreadable: %s\n", b.Error())
	}
	return nil
}
