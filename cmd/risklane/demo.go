package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/cobra"

	"risklane/datasets/demo"
	"risklane/features/mirror"
	"risklane/features/pricecluster"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models"
	"risklane/models/riskmodel"
	"risklane/pipeline/rank"
	"risklane/pipeline/report"
	"risklane/pipeline/run"
	"risklane/sink"
)

func init() { rootCmd.AddCommand(newDemoCmd()) }

// The demo's files, beside the embedded ones (demo.Files) in --dir.
const (
	demoTrain    = "train.csv"
	demoTest     = "test.csv"
	demoModel    = "model"
	demoPrices   = "prices.csv"
	demoGaps     = "gaps.csv"
	demoRanked   = "ranked.parquet"
	demoManifest = "ranked.manifest.json"
	demoReport   = "report.html"
	demoReporter = "KEN"
)

// demoSplit is the first day of the "new" declarations: the demo learns from
// January to September 2024 and scores October to December, as an
// administration learns from its history and scores what comes next.
var demoSplit = time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC)

func newDemoCmd() *cobra.Command {
	var (
		dir      string
		dataOnly bool
	)
	cmd := &cobra.Command{
		Use:   "demo [--dir DIR]",
		Short: "Run the whole pipeline on the embedded demo data and write an HTML report",
		Long: `demo needs no files and no network: it unpacks the 20,000 synthetic declarations of 2024
embedded in risklane (with planted fraud), then runs every step an analyst would,
saying in a few plain lines what each one found:

  1. data      declarations.csv, trade.csv, truth.csv, tariffs.csv, and the
               declarations split into train.csv (January to September: the
               history) and test.csv (October to December: the new declarations)
  2. train     a model learnt from the history            -> model/
  3. evaluate  how well it ranks the new declarations     (as risklane evaluate)
  4. cluster   k-means of unit values per HS6             -> prices.csv
  5. mirror    imports against partners' exports          -> gaps.csv
  6. score     the new declarations as a nightly run      -> ranked.parquet, ranked.csv
  7. report    everything above in one offline HTML page  -> report.html

--data-only stops after step 1, for the workshop lessons (notebooks/).`,
		Example: `  risklane demo
  risklane demo --dir workshop --data-only`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError{msg: "demo: --dir must name a folder"}
			}
			_, err := runDemo(c.Context(), c.OutOrStdout(), dir, dataOnly)
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "risklane-demo", "folder to write the demo's files into (created if needed)")
	cmd.Flags().BoolVar(&dataOnly, "data-only", false, "only unpack the data files (step 1)")
	return cmd
}

// demoResult is what a demo run made.
type demoResult struct {
	Report *report.Data
	Model  *riskmodel.Model
	// Eval is the evaluation of step 3, as risklane evaluate computes it.
	Eval riskmodel.Evaluation
}

// demoStep prints a step's first line and, when done, its timing.
type demoStep struct {
	w     io.Writer
	n     int
	start time.Time
}

func (s *demoStep) begin(what string) {
	s.n++
	s.start = time.Now()
	fmt.Fprintf(s.w, "\n%d/7 %s\n", s.n, what)
}

func (s *demoStep) say(format string, args ...any) {
	fmt.Fprintf(s.w, "    "+format+"\n", args...)
}

func (s *demoStep) done(out string) {
	if out == "" {
		fmt.Fprintf(s.w, "    (%.1fs)\n", time.Since(s.start).Seconds())
		return
	}
	fmt.Fprintf(s.w, "    -> %s (%.1fs)\n", out, time.Since(s.start).Seconds())
}

func runDemo(ctx context.Context, w io.Writer, dir string, dataOnly bool) (*demoResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	start := time.Now()
	fmt.Fprintf(w, "risklane demo: the whole pipeline on %s synthetic declarations of 2024 with planted fraud.\n",
		thousandsInt(int(demo.Config().Rows)))
	st := &demoStep{w: w}
	path := func(name string) string { return filepath.Join(dir, name) }

	st.begin("Data: unpack the embedded files and split them into history and new declarations")
	if _, err := demo.WriteTo(dir); err != nil {
		return nil, err
	}
	nTrain, nTest, err := splitDemo(path(demo.DeclarationsFile), path(demoTrain), path(demoTest), demoSplit)
	if err != nil {
		return nil, err
	}
	st.say("declarations.csv: %s declarations, each labelled: inspected and found clean or fraudulent", thousandsInt(nTrain+nTest))
	st.say("trade.csv: trade statistics as UN Comtrade publishes them; truth.csv: the flows planted as under-declared")
	st.say("train.csv: %s declarations from January to September (the history to learn from)", thousandsInt(nTrain))
	st.say("test.csv: %s declarations from October to December (the new ones to rank)", thousandsInt(nTest))
	st.done(dir + string(filepath.Separator))
	if dataOnly {
		where := dir
		if filepath.Clean(dir) == "." {
			where = "this folder"
		}
		fmt.Fprintf(w, "\nThe data files are in %s. The lessons in notebooks/ take it from here.\n", where)
		return &demoResult{}, nil
	}

	canonical := profile.Canonical()
	train, _, err := ingest.ReadAll([]string{path(demoTrain)}, canonical, ingest.Options{})
	if err != nil {
		return nil, err
	}
	defer ingest.Release(train)
	test, _, err := ingest.ReadAll([]string{path(demoTest)}, canonical, ingest.Options{})
	if err != nil {
		return nil, err
	}
	defer ingest.Release(test)

	st.begin("Train: learn what fraud looks like from the history")
	cfg := riskmodel.DefaultConfig()
	cfg.Profile, cfg.Inputs = canonical.Name, []string{path(demoTrain)}
	// The seed risklane train uses by default, so that the demo's model is
	// the one the lessons train on the same files.
	cfg.Features.Seed, cfg.Classifier.Seed, cfg.Revenue.Seed = defaultSeed, defaultSeed, defaultSeed
	m, err := riskmodel.Train(train, test, cfg)
	if err != nil {
		return nil, err
	}
	if err := m.Save(path(demoModel)); err != nil {
		return nil, err
	}
	st.say("%s trees over %d features (importer and HS code fraud rates, unit values against the usual price, taxes, ...)",
		thousandsInt(m.Metrics.Train.Trees), m.Metrics.Train.Features)
	st.say("learnt from %s labelled declarations, %s of them frauds", thousandsInt(m.Metrics.Train.Labelled), thousandsInt(m.Metrics.Train.Illicit))
	st.done(path(demoModel))

	st.begin("Evaluate: rank the new declarations and check against what inspection found")
	ev, err := m.Evaluate(test, models.ByProbability)
	if err != nil {
		return nil, err
	}
	fraudRate := float64(ev.Illicit) / float64(ev.N)
	for _, a := range ev.AtRates {
		if a.Rate != 5 {
			continue
		}
		st.say("inspecting the top 5%% (%s of %s declarations) finds %s frauds: precision %.1f%%, against %.1f%% for random inspection",
			thousandsInt(a.K), thousandsInt(ev.N), thousandsInt(a.Hits), 100*a.Precision, 100*fraudRate)
		st.say("those inspections catch %.1f%% of all the frauds and recover %.1f%% of the fraud revenue; AUC %.3f",
			100*a.Recall, 100*a.Revenue, ev.AUC)
	}
	st.done("")

	st.begin("Cluster: k-means of unit values per HS6 code, to find prices that are too low")
	cols, err := report.ReadColumns(test)
	if err != nil {
		return nil, err
	}
	pm, err := report.FitClusters(cols, pricecluster.Config{})
	if err != nil {
		return nil, err
	}
	var asg pricecluster.Assignment
	if err := pm.Apply(cols.HS6, cols.Value, cols.Mass, cols.Qty, &asg); err != nil {
		return nil, err
	}
	low, lowFraud, withLow := 0, 0, 0
	for i := range asg.Low {
		if asg.Low[i] == 1 {
			low++
			if cols.Labels[i] == 1 {
				lowFraud++
			}
		}
	}
	for i := range pm.Groups {
		if pm.Groups[i].NumLow > 0 {
			withLow++
		}
	}
	ref := pm.ReferencePrices(memory.DefaultAllocator)
	err = sink.WriteTable(path(demoPrices), ref)
	ref.Release()
	if err != nil {
		return nil, err
	}
	st.say("%d of %d product groups have a cluster of unusually cheap declarations", withLow, len(pm.Groups))
	st.say("%s declarations fall in such a cluster; %s of them (%.0f%%) are known frauds, against %.1f%% overall",
		thousandsInt(low), thousandsInt(lowFraud), 100*float64(lowFraud)/math.Max(1, float64(low)), 100*fraudRate)
	st.done(path(demoPrices) + ", reference prices per HS6")

	st.begin("Mirror: compare Kenya's recorded imports with what its partners say they exported to Kenya")
	gaps, err := analyzeTrade([]string{path(demo.TradeFile)}, demoReporter, path(demo.TariffsFile))
	if err != nil {
		return nil, err
	}
	if err := gaps.WriteTable(path(demoGaps)); err != nil {
		return nil, err
	}
	found, planted, err := plantedFound(path(demo.TruthFile), gaps)
	if err != nil {
		return nil, err
	}
	st.say("%s partner-by-product flows compared; estimated duty lost on the gaps: US$ %s",
		thousandsInt(gaps.Summary.Ranked), thousandsInt(int(math.Round(gaps.Summary.RevenueGap.Dollars()))))
	st.say("%d of the %d flows planted as under-declared (truth.csv) are among the %d most suspicious", found, planted, planted)
	st.done(path(demoGaps))

	st.begin("Score: rank the new declarations as a nightly run would, into lanes, with reasons")
	man, err := run.Score(ctx, run.Config{
		Inputs: []string{path(demoTest)}, Profile: canonical, Model: m, ModelDir: path(demoModel),
		Out: path(demoRanked), CSV: true, Manifest: path(demoManifest), Plan: rank.DefaultPlan(), RankBy: models.ByProbability,
	})
	if err != nil {
		return nil, err
	}
	if l := man.Lanes; l != nil {
		st.say("%s red (inspect; %s of them drawn at random to keep learning), %s yellow (check documents), %s green (release)",
			thousandsInt(l.Red), thousandsInt(l.Explore), thousandsInt(l.Yellow), thousandsInt(l.Green))
	}
	st.done(path(demoRanked) + " and " + run.CSVPath(path(demoRanked)))

	st.begin("Report: everything above in one page")
	rr := reportRequest{modelDir: path(demoModel), inputs: []string{path(demoTest)}, profile: canonical,
		trade: []string{path(demo.TradeFile)}, reporter: demoReporter, tariffs: path(demo.TariffsFile),
		ranked: path(demoRanked), out: path(demoReport), title: "risklane demo report", budget: 5}
	d, err := makeReport(rr, m, test, gaps, pm)
	if err != nil {
		return nil, err
	}
	if err := report.WriteFile(rr.out, d); err != nil {
		return nil, err
	}
	if missing := d.Missing(); len(missing) > 0 {
		st.say("not available yet: %s", strings.Join(missing, ", "))
	}
	st.done(rr.out)

	fmt.Fprintf(w, "\nDone in %.1fs. Open %s in a web browser: it works offline.\n", time.Since(start).Seconds(), rr.out)
	return &demoResult{Report: d, Model: m, Eval: ev}, nil
}

// splitDemo copies the rows of the declarations CSV dated before split to
// train and the others to test, header on both, values untouched.
func splitDemo(src, train, test string, split time.Time) (nTrain, nTest int, err error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", src, err)
	}
	col := -1
	for i, h := range head {
		if h == "date" {
			col = i
		}
	}
	if col < 0 {
		return 0, 0, fmt.Errorf("%s: no date column", src)
	}
	outs := make([]*sink.AtomicFile, 2)
	ws := make([]*csv.Writer, 2)
	for i, p := range []string{train, test} {
		if outs[i], err = sink.CreateAtomic(p); err != nil {
			return 0, 0, err
		}
		defer outs[i].Abort()
		ws[i] = csv.NewWriter(outs[i])
		if err := ws[i].Write(head); err != nil {
			return 0, 0, err
		}
	}
	cut := split.Format(time.DateOnly)
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", src, err)
		}
		side := 0
		if rec[col] >= cut {
			side = 1
			nTest++
		} else {
			nTrain++
		}
		if err := ws[side].Write(rec); err != nil {
			return 0, 0, err
		}
	}
	for i := range ws {
		ws[i].Flush()
		if err := ws[i].Error(); err != nil {
			return 0, 0, err
		}
		if err := outs[i].Commit(); err != nil {
			return 0, 0, err
		}
	}
	return nTrain, nTest, nil
}

// plantedFound counts the flows of the truth file (partner_iso, hs6) that
// are among the first len(truth) ranked flows of the mirror analysis.
func plantedFound(truthPath string, g *mirror.Gaps) (found, planted int, err error) {
	f, err := os.Open(truthPath)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 {
		return 0, 0, fmt.Errorf("%s: %v", truthPath, err)
	}
	pi, hi := -1, -1
	for i, h := range rows[0] {
		switch h {
		case "partner_iso":
			pi = i
		case "hs6":
			hi = i
		}
	}
	if pi < 0 || hi < 0 {
		return 0, 0, fmt.Errorf("%s: want columns partner_iso and hs6", truthPath)
	}
	want := map[string]bool{}
	for _, r := range rows[1:] {
		want[mirror.Country(r[pi])+"/"+r[hi]] = true
	}
	planted = len(want)
	for i := 0; i < len(g.Flows) && i < planted; i++ {
		if fl := &g.Flows[i]; fl.Status == mirror.StatusRanked && want[fl.Partner+"/"+fl.HS] {
			found++
		}
	}
	return found, planted, nil
}
