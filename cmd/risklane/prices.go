package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"risklane/ingest/prices"
	"risklane/internal/version"
	"risklane/sink"
)

func init() { rootCmd.AddCommand(newPricesCmd()) }

// newPricesCmd builds the prices command and its subcommands.
func newPricesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prices",
		Short: "Market prices for valuation: collect from shops, import price lists",
		Long: `prices builds a market price table (hs6, product, price, currency, unit, source,
fetched_at) that the market feature group and risklane cluster compare declared unit
values with (BACUDA series 4). See docs/prices.md.`,
	}
	cmd.AddCommand(newPricesCollectCmd(), newPricesImportCmd())
	return cmd
}

// priceOutputs are the flags both subcommands share.
type priceOutputs struct {
	out, rejects, rates, to string
}

func (o *priceOutputs) flags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&o.out, "out", "", "price table to write: .parquet, .csv or .arrow")
	fl.StringVar(&o.rejects, "rejects", "", "CSV of the pages, items or rows that gave no price, with where and why (default: beside --out as NAME.rejects.csv)")
	fl.StringVar(&o.rates, "rates", "", "currency rates table (columns currency, rate: one unit of currency is worth rate units of --to)")
	fl.StringVar(&o.to, "to", "", "currency to convert every price into (with --rates)")
}

func (o *priceOutputs) check(cmd string, inputs []string) error {
	switch {
	case o.out == "":
		return usageError{msg: cmd + ": give --out, the price table to write (.parquet, .csv or .arrow)"}
	case (o.rates == "") != (o.to == ""):
		return usageError{msg: cmd + ": --rates and --to go together: the rates table and the currency to convert into"}
	}
	if o.rejects == "" {
		o.rejects = strings.TrimSuffix(o.out, filepath.Ext(o.out)) + ".rejects.csv"
	}
	if err := checkFormats(cmd, o.out); err != nil {
		return err
	}
	if o.rates != "" {
		inputs = append(inputs, o.rates)
	}
	return preparePaths(cmd, inputs, sink.Path{Flag: "--out", Name: o.out}, sink.Path{Flag: "--rejects", Name: o.rejects})
}

func (o *priceOutputs) readRates() (*prices.Rates, error) {
	if o.rates == "" {
		return nil, nil
	}
	return prices.ReadRates(o.rates, o.to)
}

// write writes the table and the rejects and says what was done.
func (o *priceOutputs) write(w io.Writer, ps []prices.Price, rejects []prices.Reject) error {
	if err := prices.Write(o.out, ps); err != nil {
		return err
	}
	if err := prices.WriteRejects(o.rejects, rejects); err != nil {
		return err
	}
	codes := map[string]bool{}
	for _, p := range ps {
		codes[p.HS6] = true
	}
	fmt.Fprintf(w, "Prices %s: %d prices of %d HS6 codes; %d rejected (%s)\n", o.out, len(ps), len(codes), len(rejects), o.rejects)
	for i, r := range rejects {
		if i == 5 {
			fmt.Fprintf(w, "  ... %d more in %s\n", len(rejects)-i, o.rejects)
			break
		}
		fmt.Fprintf(w, "  %s\n", r.Error())
	}
	return nil
}

func newPricesCollectCmd() *cobra.Command {
	var config, cache string
	var o priceOutputs
	cmd := &cobra.Command{
		Use:   "collect --config sources.yaml --out prices.parquet",
		Short: "Fetch prices from the shops a sources file names",
		Long: `collect fetches the product pages a sources file names and extracts prices with CSS
selectors (HTML) or dotted paths (JSON). It honours robots.txt, waits between requests
to one host (delay, or the robots.txt Crawl-delay), names itself and your contact in
its User-Agent, retries failures that may pass with backoff, times requests out, and
caches pages (--cache) so that a rerun fetches nothing twice. Pages and items that
give no price go to the rejects file with their URL and reason.`,
		Example: `  risklane prices collect --config sources.yaml --out prices.parquet
  risklane prices collect --config sources.yaml --rates rates.csv --to USD --out prices.csv`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if config == "" {
				return usageError{msg: "prices collect: give --config, the sources file"}
			}
			if err := o.check("prices collect", []string{config}); err != nil {
				return err
			}
			cfg, err := prices.LoadConfig(config)
			if err != nil {
				return usageError{msg: "prices collect: " + err.Error()}
			}
			rates, err := o.readRates()
			if err != nil {
				return err
			}
			if cache == "" {
				cache = cfg.Cache
				if cache != "" && !filepath.IsAbs(cache) {
					cache = filepath.Join(filepath.Dir(config), cache)
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			f := prices.NewFetcher(cfg, cache, version.String())
			start := time.Now()
			ps, rejects, err := prices.Collect(ctx, cfg, f, rates)
			if err != nil {
				return err
			}
			st := f.Stats()
			fmt.Fprintf(c.OutOrStdout(), "Fetched %d requests (%d retries), %d pages from the cache, %d URLs refused by robots.txt, in %s\n",
				st.Requests, st.Retried, st.Cached, st.Robots, time.Since(start).Round(time.Millisecond))
			return o.write(c.OutOrStdout(), ps, rejects)
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "sources file (YAML): shops, URL templates, extraction rules, products and their HS6 codes")
	cmd.Flags().StringVar(&cache, "cache", "", "folder of cached pages (default: the sources file's cache key, relative to it; none if unset)")
	o.flags(cmd)
	return cmd
}

func newPricesImportCmd() *cobra.Command {
	var in []string
	var opt prices.ImportOptions
	var date string
	var o priceOutputs
	cmd := &cobra.Command{
		Use:   "import --in list.csv --out prices.parquet",
		Short: "Read price lists (CSV, Parquet, JSON) into the price table",
		Long: `import reads price lists analysts already have into the price table. A list has the
columns (CSV, Parquet, Arrow) or keys (JSON: an array of objects) hs6, product, price,
currency, unit, source and fetched_at (or date); --currency, --unit, --source and
--date fill what a list leaves out. Units are kg, g or t (prices become per kg) or
u/piece/unit (per piece). With --rates and --to every price is converted.`,
		Example: `  risklane prices import --in survey.csv --in shops.json --rates rates.csv --to USD --out prices.parquet`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(in) == 0 {
				return usageError{msg: "prices import: give --in, a price list (CSV, Parquet or JSON); repeat for several"}
			}
			if err := o.check("prices import", in); err != nil {
				return err
			}
			if date != "" {
				d, err := prices.ParseDate(date)
				if err != nil {
					return usageError{msg: "prices import: --date: " + err.Error()}
				}
				opt.Date = d
			}
			var err error
			if opt.Rates, err = o.readRates(); err != nil {
				return err
			}
			var all []prices.Price
			var rejects []prices.Reject
			for _, path := range in {
				ps, rs, err := prices.Import(path, opt)
				if err != nil {
					return err
				}
				all, rejects = append(all, ps...), append(rejects, rs...)
			}
			return o.write(c.OutOrStdout(), all, rejects)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&in, "in", nil, "price list: CSV, Parquet, Arrow or JSON; repeat for several")
	fl.StringVar(&opt.Source, "source", "", "source of rows without one (default: the list's file name)")
	fl.StringVar(&opt.Currency, "currency", "", "currency of rows without one")
	fl.StringVar(&opt.Unit, "unit", "", "unit of rows without one")
	fl.StringVar(&date, "date", "", "date of rows without one (2006-01-02)")
	o.flags(cmd)
	return cmd
}
