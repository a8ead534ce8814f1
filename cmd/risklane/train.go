package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"risklane/features"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models"
	"risklane/models/kinds"
	"risklane/models/riskmodel"
	"risklane/sink"
)

func init() { rootCmd.AddCommand(newTrainCmd()) }

// newTrainCmd builds the train command with its own flag variables, so that
// tests can run it afresh.
func newTrainCmd() *cobra.Command {
	var (
		in, validIn      []string
		prof, out        string
		validFrom        string
		groups           string
		rejects          string
		seed             uint64
		quiet, verbose   bool
		top              int
		kind             string
		mf               mirrorFlags
		featureFlagGroup = newFeatureFlags()
	)
	cmd := &cobra.Command{
		Use:   "train --in FILE --profile P --out MODEL_DIR",
		Short: "Train a risk model: features, gradient-boosted classifier and revenue head",
		Long: `train fits risklane's fraud-signal features on labelled declarations, trains a
gradient-boosted tree classifier (P(illicit)) and a revenue head (the revenue an
inspection of an illicit row raises), and writes the model folder (replacing an
existing one only if risklane wrote it; any other folder is refused before training,
exit code 2): model.json and
model.bin (XGBoost JSON and legacy binary), revenue.json/.bin, features.json,
metrics.json and manifest.json (versions, features, parameters, SHA-256 of each file).

Fraud rates and other label-derived features of the training rows are computed out
of fold (--folds, seeded by --seed), so no row learns from its own label.

With --valid FILE or --valid-from DATE, validation rows are scored as new
declarations would be and the metrics printed (Precision, Recall and Revenue at
1, 2, 5, 10% inspected, AUC), ranked by probability and by expected revenue. The
validation set only reports: it never tunes the model.

Model kinds (--model):` + kindsHelp() + `
Each kind's parameters are flags below (defaults shown); the gbdt defaults were
chosen by time-ordered cross-validation on the KCS training year (see
models/riskmodel). A flag of another kind's parameter is refused.

Feature groups (--features): ` + strings.Join(features.AvailableGroups(), ", ") + `;
the gbdt default is ` + strings.Join(riskmodel.DefaultGroups, ",") + `. Give a list ("hs,risk,freq")
or changes to the default ("+traders", "-tax"). The trader history (+traders:
fraud rates and counts of importer, declarant, seller, office and their pairs) is
off by default because it does not carry over from one quarter to the next on the
KCS data; add it on data where trader identities are stable.

Two groups come from BACUDA's screens. cluster (a default group): k-means price
clusters of unit values per HS6, as risklane cluster finds them on the training
rows: the row's cluster rank, low-cluster flag, distance to the group median in log
units and unit-value percentile. mirror: the gap statistics of the row's origin x
HS6 x year flow (HS4, HS2 when it is one-sided) from trade statistics: --trade FILE
--reporter ISO3 (as risklane mirror reads them) adds the group; --tariffs gives the
duty rates of its revenue-gap share, else the rates the declarations show. Both are
saved in features.json: scoring needs no trade file.`,
		Example: `  risklane train --profile kcs --in ../shared/data/kcs/train.csv --valid ../shared/data/kcs/valid.csv --out models/kcs
  risklane train --profile date --in declarations.csv --valid-from 2013-10-01 --out models/date --features +traders
  risklane train --profile canonical --in synthetic.parquet --out models/synth --rounds 200 --max-depth 6
  risklane train --profile canonical --in declarations.csv --out models/synth --trade trade.csv --reporter KEN`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			inputs := append(slices.Clone(in), args...)
			switch {
			case len(inputs) == 0:
				return usageError{msg: "train: give --in FILE, the labelled declarations to learn from"}
			case prof == "":
				return usageError{msg: "train: give --profile with one of " + strings.Join(profile.Names(), ", ") + " or a YAML file"}
			case out == "":
				return usageError{msg: "train: give --out, the model folder to write"}
			case len(validIn) > 0 && validFrom != "":
				return usageError{msg: "train: give --valid or --valid-from, not both"}
			case top < 0:
				return usageError{msg: "train: --top must be 0 or more"}
			}
			if err := sink.Prepare(trainPaths(inputs, validIn, mf, out, rejects)); err != nil {
				return err
			}
			var from time.Time
			if validFrom != "" {
				var err error
				if from, err = time.Parse("2006-01-02", validFrom); err != nil {
					return usageError{msg: fmt.Sprintf("train: --valid-from %q is not a date like 2021-01-01", validFrom)}
				}
			}
			k, err := kinds.Lookup(kind)
			if err != nil {
				return usageError{msg: "train: --model: " + err.Error()}
			}
			if k.Train == nil {
				return usageError{msg: fmt.Sprintf("train: risklane cannot train %s models", k.Name)}
			}
			given := map[string]float64{}
			c.Flags().Visit(func(f *pflag.Flag) {
				if v, ok := f.Value.(*paramValue); ok {
					given[v.p.Name] = v.v // an alias (--threads) sets its flag's parameter
				}
			})
			if err := k.ParseParams(given); err != nil {
				return usageError{msg: "train: " + err.Error()}
			}
			base := k.Groups
			if base == nil {
				base = features.DefaultGroups
			}
			g, err := features.ParseGroups(groups, mf.base(base))
			if err != nil {
				return usageError{msg: "train: --features: " + err.Error()}
			}
			sigs, tariffRejects, err := mf.signals(g)
			if err != nil {
				return err
			}
			reportTariffRejects(c.OutOrStdout(), mf.tariffs, tariffRejects)
			fc, err := featureFlagGroup.config("train", g, seed)
			if err != nil {
				return err
			}
			fc.Signals = sigs
			tc := models.TrainConfig{
				Features: fc,
				Seed:     seed, Params: given, Inputs: inputs,
			}
			tc.EvalLog = evalLog(c.ErrOrStderr(), quiet, verbose)
			tc.RowHalfLife = featureFlagGroup.trainHalfLife
			p, err := profile.Resolve(prof)
			if err != nil {
				return err
			}
			tc.Profile = p.Name
			return runTrain(c.OutOrStdout(), inputs, validIn, from, p, out, rejects, top, k, tc)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&in, "in", nil, "labelled declarations (CSV, Parquet, Arrow); repeat for several")
	fl.StringVar(&prof, "profile", "", "built-in profile name or a YAML profile file")
	fl.StringVar(&out, "out", "", "model folder to write (an existing model folder is replaced atomically; any other folder is refused)")
	fl.StringArrayVar(&validIn, "valid", nil, "validation declarations, scored as new data; repeat for several")
	fl.StringVar(&validFrom, "valid-from", "", "use the --in rows dated on or after this day (2021-01-01) for validation")
	fl.StringVar(&groups, "features", "", "feature groups: a list (hs,risk) or changes to the default (-date,+cluster)")
	fl.StringVar(&rejects, "rejects", "", "write rejected input rows (file,line,column,value,reason) to this CSV")
	fl.Uint64Var(&seed, "seed", defaultSeed, "seed of the folds and of row and column sampling")
	fl.IntVar(&top, "top", 15, "number of most important features to print")
	fl.BoolVar(&quiet, "quiet", false, "no per-round evaluation log ([50] train-logloss:... valid-logloss:...), which a terminal shows on stderr")
	fl.BoolVar(&verbose, "verbose", false, "the per-round evaluation log on stderr also when it is not a terminal (cron, a pipe)")
	fl.StringArrayVar(&mf.trade, "trade", nil, "trade statistics (Comtrade CSV, as risklane mirror reads) for the mirror features; repeat for several")
	fl.StringVar(&mf.reporter, "reporter", "", "with --trade: ISO3 code of the importing country the declarations belong to")
	fl.StringVar(&mf.tariffs, "tariffs", "", "with --trade: tariff table CSV (hs,rate) for the mirror revenue gap; default: the rates the declarations show")
	fl.StringArrayVar(&mf.market, "market-prices", nil, "price table (risklane prices collect/import) for the market features, in the declarations' currency; repeat for several")
	featureFlagGroup.add(fl)
	fl.StringVar(&kind, "model", kinds.Default, "model kind to train: "+strings.Join(kinds.Names(), ", "))
	addParamFlags(fl)
	deprecatedAlias(fl, "threads", "workers")
	return cmd
}

// trainPaths names train's inputs and outputs for sink.Prepare: the model
// folder replaces only a folder risklane wrote, and no input lies in it.
func trainPaths(inputs, validIn []string, mf mirrorFlags, out, rejects string) (ins, outs []sink.Path) {
	for _, group := range []struct {
		flag  string
		paths []string
	}{{"--in", inputs}, {"--valid", validIn}, {"--trade", mf.trade}, {"--tariffs", []string{mf.tariffs}}, {"--market-prices", mf.market}} {
		for _, p := range group.paths {
			ins = append(ins, sink.Path{Flag: group.flag, Name: p})
		}
	}
	outs = []sink.Path{{Flag: "--out", Name: out, Dir: true, Ours: models.IsFolder},
		{Flag: "--rejects", Name: rejects}, {Flag: "--rejects (validation rows, beside it)", Name: validRejects(rejects, validIn)}}
	return ins, outs
}

// validRejects is the rejects file of the validation rows, beside --rejects.
func validRejects(rejects string, validIn []string) string {
	if rejects == "" || len(validIn) == 0 {
		return ""
	}
	return strings.TrimSuffix(rejects, ".csv") + ".valid.csv"
}

// readDeclarations reads every batch of the files through the profile,
// sending rejected rows to rejects (a CSV file) when it is set. Train and
// evaluate read through it, so the profile's label columns must be there.
func readDeclarations(paths []string, p *profile.Profile, rejects string) ([]arrow.RecordBatch, ingest.Stats, error) {
	rf, err := createRejects(rejects)
	if err != nil {
		return nil, ingest.Stats{}, err
	}
	defer rf.abort()
	batches, st, err := ingest.ReadAll(paths, p, ingest.Options{RequireLabels: true, Rejects: rf.sink()})
	if err != nil {
		return nil, st, err
	}
	if err := rf.commit(); err != nil {
		ingest.Release(batches)
		return nil, st, err
	}
	return batches, st, nil
}

func runTrain(w io.Writer, inputs, validIn []string, validFrom time.Time, p *profile.Profile, out, rejects string, top int, k models.Kind, cfg models.TrainConfig) error {
	train, st, err := readDeclarations(inputs, p, rejects)
	if err != nil {
		return err
	}
	defer ingest.Release(train)
	fmt.Fprintf(w, "Read %d rows: %d accepted, %d rejected\n", st.Read, st.Accepted, st.Rejected)
	var valid []arrow.RecordBatch
	switch {
	case len(validIn) > 0:
		vs := validRejects(rejects, validIn)
		var vst ingest.Stats
		if valid, vst, err = readDeclarations(validIn, p, vs); err != nil {
			return err
		}
		defer ingest.Release(valid)
		fmt.Fprintf(w, "Validation: read %d rows: %d accepted, %d rejected\n", vst.Read, vst.Accepted, vst.Rejected)
	case !validFrom.IsZero():
		before, after, err := riskmodel.SplitByDate(train, validFrom)
		if err != nil {
			return err
		}
		defer ingest.Release(before)
		defer ingest.Release(after)
		if len(before) == 0 || len(after) == 0 {
			return fmt.Errorf("train: --valid-from %s leaves no rows on one side (%d batches before, %d after)", validFrom.Format("2006-01-02"), len(before), len(after))
		}
		train, valid = before, after
		fmt.Fprintf(w, "Validation: rows dated %s or later: %d; training on %d\n", validFrom.Format("2006-01-02"), rows(after), rows(before))
	}
	m, err := k.Train(train, valid, cfg)
	if err != nil {
		return err
	}
	reportSignals(w, cfg.Features.Signals)
	if err := m.Save(out); err != nil {
		return err
	}
	if s, ok := m.(models.Summarizer); ok {
		s.WriteSummary(w, top)
	}
	fmt.Fprintf(w, "\nModel %s written to %s\n", m.ID(), out)
	return nil
}

func rows(batches []arrow.RecordBatch) int64 {
	n := int64(0)
	for _, b := range batches {
		n += b.NumRows()
	}
	return n
}

// kindsHelp lists the model kinds for the train command's help.
func kindsHelp() string {
	var b strings.Builder
	for _, k := range kinds.All() {
		fmt.Fprintf(&b, "\n  %s  %s", k.Name, k.Doc)
	}
	return b.String()
}

// paramValue is the flag of a declared training parameter (models.Param):
// its type, default, help and range come from the kind's table.
type paramValue struct {
	p models.Param
	v float64
}

func (pv *paramValue) String() string { return pv.p.Format(pv.v) }

func (pv *paramValue) Set(s string) error {
	var v float64
	if pv.p.Bool {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		if b {
			v = 1
		}
	} else {
		var err error
		if v, err = strconv.ParseFloat(s, 64); err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
	}
	if err := pv.p.Check(v); err != nil {
		return err
	}
	pv.v = v
	return nil
}

func (pv *paramValue) Type() string {
	switch {
	case pv.p.Bool:
		return "bool"
	case pv.p.Integer:
		return "int"
	}
	return "float"
}

// addParamFlags adds a flag for every parameter every kind declares; a
// name two kinds share is one flag, with the first kind's default shown.
func addParamFlags(fl *pflag.FlagSet) {
	for _, k := range kinds.All() {
		for _, p := range k.Params {
			if fl.Lookup(p.Name) != nil {
				continue
			}
			f := fl.VarPF(&paramValue{p: p, v: p.Default}, p.Name, "", fmt.Sprintf("%s (%s)", p.Doc, k.Name))
			if p.Bool {
				f.NoOptDefVal = "true"
			}
		}
	}
}

// evalLog is where training writes its per-round evaluation log: stderr on a
// terminal (as the progress bars of score and run), or anywhere with
// --verbose; nowhere with --quiet.
func evalLog(stderr io.Writer, quiet, verbose bool) io.Writer {
	if quiet {
		return nil
	}
	if verbose || onTerminal(stderr) {
		return stderr
	}
	return nil
}
