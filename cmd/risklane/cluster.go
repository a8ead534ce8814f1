package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/cobra"

	"risklane/features/market"
	"risklane/features/pricecluster"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/pipeline/run"
	"risklane/sink"
)

func init() { rootCmd.AddCommand(newClusterCmd()) }

// newClusterCmd builds the cluster command with its own flag variables, so
// that tests can run it afresh.
func newClusterCmd() *cobra.Command {
	var (
		in        []string
		prof      string
		out       string
		refPrices string
		market    []string
		modelOut  string
		rejects   string
		top       int
		quiet     bool
		cfg       pricecluster.Config
	)
	cmd := &cobra.Command{
		Use:   "cluster --in FILE --profile P --out clusters.parquet",
		Short: "K-means clustering of unit values per HS6: low clusters, reference prices",
		Long: `cluster groups declarations of the same product by unit value (BACUDA series 12) and
flags those in unusually cheap clusters: the classic screen for undervaluation.

The unit value is the customs value (CIF; FOB when CIF is missing or zero) per kg of
net mass (gross weight when it is missing or zero); when no mass is given, per unit of
quantity. Values per kg and per unit are never mixed. Each HS6 code with at least --min-group-rows rows is its own group; rows
of smaller codes use their HS4 heading (itself fitted when it has that many rows),
and the rest one global group. In each group k-means (k-means++ seeding, several
restarts, deterministic for --seed) clusters the log unit values for every k from
--k-min to --k-max and keeps the k with the highest mean silhouette.

A cluster is low when its centre lies at least max(0.5, 1.5 sigma) below the group's
median log unit value, sigma being the group's robust spread (IQR/1.349): that is,
its typical price is at most 61% of the median and clearly apart from the bulk.

Outputs (through atomic writes; format from the file name):
  --out              one row per declaration: declaration_id, hs_code, group,
                     group_level, basis, unit_value, cluster_rank (0 = cheapest),
                     low_cluster, log_dist_median, uv_percentile
  <out>.groups.<ext> one row per cluster of every group (beside --out)
  --reference-prices one row per HS6 group: hs6, basis, n, median, p10, p25, p75,
                     p90, low_threshold (unit values; a valuation database seed);
                     with --market-prices also market_price, market_source,
                     market_date and median_vs_market (docs/prices.md)
  --clusters         the fitted clusters as JSON, for report --clusters`,
		Example: `  risklane cluster --in ../shared/data/kcs/train.csv --profile kcs --out clusters.parquet --reference-prices prices.csv
  risklane cluster --in declarations.csv --profile date --out clusters.csv --k-max 4 --seed 7`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			inputs := append(slices.Clone(in), args...)
			switch {
			case len(inputs) == 0:
				return usageError{msg: "cluster: give --in FILE, the declarations to cluster"}
			case prof == "":
				return usageError{msg: "cluster: give --profile with one of " + strings.Join(profile.Names(), ", ") + " or a YAML file"}
			case out == "":
				return usageError{msg: "cluster: give --out, the per-declaration table to write (.parquet, .csv or .arrow)"}
			case cfg.KMin < 2 || cfg.KMax < cfg.KMin || cfg.KMax > 20:
				return usageError{msg: fmt.Sprintf("cluster: --k-min %d and --k-max %d must satisfy 2 <= k-min <= k-max <= 20", cfg.KMin, cfg.KMax)}
			case cfg.MinGroupRows < 1:
				return usageError{msg: "cluster: --min-group-rows must be at least 1"}
			case top < 0:
				return usageError{msg: "cluster: --top must be 0 or more"}
			}
			if err := checkFormats("cluster", out, refPrices); err != nil {
				return err
			}
			if err := preparePaths("cluster", inputs, sink.Path{Flag: "--out", Name: out}, sink.Path{Flag: "--out (its group table)", Name: pricecluster.GroupTablePath(out)},
				sink.Path{Flag: "--reference-prices", Name: refPrices}, sink.Path{Flag: "--clusters", Name: modelOut}, sink.Path{Flag: "--rejects", Name: rejects}); err != nil {
				return err
			}
			if len(market) > 0 && refPrices == "" {
				return usageError{msg: "cluster: --market-prices adds market columns to --reference-prices; give that file too"}
			}
			p, err := profile.Resolve(prof)
			if err != nil {
				return err
			}
			return runCluster(c.OutOrStdout(), newProgress(c.ErrOrStderr(), quiet), inputs, p, cfg, clusterOutputs{
				assignments: out, groups: pricecluster.GroupTablePath(out), prices: refPrices, model: modelOut, rejects: rejects, market: market,
			}, top)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&in, "in", nil, "declarations file (CSV, Parquet, Arrow); repeat for several")
	fl.StringVar(&prof, "profile", "", "built-in profile name or a YAML profile file")
	fl.StringVar(&out, "out", "", "per-declaration assignments: .parquet, .csv or .arrow; the group table goes beside it as NAME.groups.EXT")
	fl.StringVar(&refPrices, "reference-prices", "", "write reference unit prices per HS6 to this file (.csv for analysts)")
	fl.StringArrayVar(&market, "market-prices", nil, "price table (risklane prices) whose market price per HS6 is added to --reference-prices (market_price, market_source, market_date, median_vs_market)")
	fl.StringVar(&modelOut, "clusters", "", "write the fitted clusters (JSON) to this file, for report --clusters")
	deprecatedAlias(fl, "model", "clusters")
	fl.StringVar(&rejects, "rejects", "", "write rejected input rows (file,line,column,value,reason) to this CSV")
	fl.IntVar(&cfg.KMin, "k-min", 2, "fewest clusters per group")
	fl.IntVar(&cfg.KMax, "k-max", 5, "most clusters per group")
	fl.IntVar(&cfg.MinGroupRows, "min-group-rows", 30, "rows an HS6 (or HS4) group needs to be fitted on its own")
	fl.Uint64Var(&cfg.Seed, "seed", defaultSeed, "random seed: the same seed and input give the same clusters")
	fl.BoolVar(&cfg.ValueMass, "value-mass", false, "cluster on log unit value, log value and log mass together (standardised)")
	fl.IntVar(&top, "top", 15, "number of suspicious groups to print")
	fl.BoolVar(&quiet, "quiet", false, "no progress bar (shown on stderr when it is a terminal)")
	return cmd
}

type clusterOutputs struct {
	assignments, groups, prices, model, rejects string
	// market are price tables whose market prices join the reference
	// prices.
	market []string
}

// clusterInput holds the columns the clustering needs, and the identifying
// columns of every batch (retained) for the output.
type clusterInput struct {
	ids, hs []arrow.Array
	pricecluster.Rows
}

func (in *clusterInput) release() {
	for _, a := range in.ids {
		a.Release()
	}
	for _, a := range in.hs {
		a.Release()
	}
}

func (in *clusterInput) add(rec arrow.RecordBatch) error {
	ids, hs, err := pricecluster.AssignmentColumns(rec)
	if err != nil {
		return err
	}
	if err := in.Append(rec); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	ids.Retain()
	hs.Retain()
	in.ids = append(in.ids, ids)
	in.hs = append(in.hs, hs)
	return nil
}

// runCluster reads, fits and writes; pr shows the rows read ("read") and
// the groups fitted ("fit").
func runCluster(w io.Writer, pr run.Progress, inputs []string, p *profile.Profile, cfg pricecluster.Config, outs clusterOutputs, top int) error {
	rf, err := createRejects(outs.rejects)
	if err != nil {
		return err
	}
	defer rf.abort()
	r, err := ingest.OpenFiles(inputs, p, ingest.Options{Rejects: rf.sink()})
	if err != nil {
		return err
	}
	defer r.Close()
	var in clusterInput
	defer in.release()
	defer pr.Done()
	pr.Stage("read", -1)
	for r.Next() {
		if err := in.add(r.RecordBatch()); err != nil {
			return err
		}
		pr.Set(r.Stats().Read)
	}
	if err := r.Err(); err != nil {
		return err
	}
	pr.Done()
	st := r.Stats()
	fmt.Fprintf(w, "Read %d rows: %d accepted, %d rejected\n", st.Read, st.Accepted, st.Rejected)

	m, err := pricecluster.FitProgress(in.HS6, in.Value, in.Mass, in.Qty, cfg, func(done, total int) {
		if done == 1 {
			pr.Stage("fit", int64(total))
		}
		pr.Set(int64(done))
	})
	if err != nil {
		return err
	}
	pr.Done()
	var a pricecluster.Assignment
	if err := m.Apply(in.HS6, in.Value, in.Mass, in.Qty, &a); err != nil {
		return err
	}

	if err := writeAssignments(outs.assignments, &in, m, &a); err != nil {
		return err
	}
	mem := memory.DefaultAllocator
	groups := m.GroupTable(mem)
	defer groups.Release()
	if err := sink.WriteTable(outs.groups, groups); err != nil {
		return err
	}
	if outs.prices != "" {
		ref := m.ReferencePrices(mem)
		defer ref.Release()
		if len(outs.market) > 0 {
			t, err := market.ReadTable(outs.market...)
			if err != nil {
				return err
			}
			joined, err := t.WithReferences(mem, ref)
			if err != nil {
				return err
			}
			defer joined.Release()
			ref = joined
		}
		if err := sink.WriteTable(outs.prices, ref); err != nil {
			return err
		}
	}
	if outs.model != "" {
		if err := sink.WriteAtomic(outs.model, m.WriteJSON); err != nil {
			return err
		}
	}
	if err := rf.commit(); err != nil {
		return err
	}
	clusterReport(w, m, &a, top)
	for _, o := range []string{outs.assignments, outs.groups, outs.prices, outs.model, outs.rejects} {
		if o != "" {
			fmt.Fprintf(w, "wrote %s\n", o)
		}
	}
	return nil
}

// writeAssignments writes one output batch per input batch.
func writeAssignments(path string, in *clusterInput, m *pricecluster.Model, a *pricecluster.Assignment) error {
	w, err := sink.Create(path, pricecluster.AssignmentSchema)
	if err != nil {
		return err
	}
	defer w.Abort()
	row := 0
	for bi, ids := range in.ids {
		rec := m.AssignmentTable(memory.DefaultAllocator, ids, in.hs[bi].(*array.String), a, row)
		row += ids.Len()
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return w.Commit()
}

// clusterReport prints the fit's totals and the HS6 groups with the most
// declarations in low clusters.
func clusterReport(w io.Writer, m *pricecluster.Model, a *pricecluster.Assignment, top int) {
	var levels [3]int
	var withLow int
	for i := range m.Groups {
		levels[m.Groups[i].Level]++
		if m.Groups[i].NumLow > 0 {
			withLow++
		}
	}
	var none, low int
	for i, g := range a.Group {
		switch {
		case g < 0:
			none++
		case a.Low[i] == 1:
			low++
		}
	}
	fmt.Fprintf(w, "Fitted %d groups (%d HS6, %d HS4, %d global); %d have a low cluster\n",
		len(m.Groups), levels[pricecluster.LevelHS6], levels[pricecluster.LevelHS4], levels[pricecluster.LevelAll], withLow)
	fmt.Fprintf(w, "%d declarations in low clusters (%.2f%%); %d without a unit value (no positive value, or no mass and no quantity)\n",
		low, 100*float64(low)/float64(max(1, len(a.Group))), none)
	var sus []*pricecluster.Group
	for i := range m.Groups {
		if g := &m.Groups[i]; g.Level == pricecluster.LevelHS6 && g.NumLow > 0 {
			sus = append(sus, g)
		}
	}
	if top == 0 || len(sus) == 0 {
		return
	}
	slices.SortStableFunc(sus, func(x, y *pricecluster.Group) int {
		if c := cmp.Compare(y.LowRows(), x.LowRows()); c != 0 {
			return c
		}
		return cmp.Compare(x.Code, y.Code)
	})
	fmt.Fprintf(w, "\nMost suspicious HS6 groups (most declarations in low clusters):\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "hs6\tper\trows\tk\tmedian\tlow below\tlow rows\tlow share\tlow centres")
	for _, g := range sus[:min(top, len(sus))] {
		thr, _ := g.LowThreshold()
		var centres []string
		for _, c := range g.Centres[:g.NumLow] {
			centres = append(centres, fmt.Sprintf("%.4g", math.Exp(c)))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.4g\t%.4g\t%d\t%.1f%%\t%s\n", g.Name(), g.Basis, g.N, g.K,
			math.Exp(g.Median()), math.Exp(thr), g.LowRows(), 100*float64(g.LowRows())/float64(g.FitRows), strings.Join(centres, " "))
	}
	tw.Flush()
}
