package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/cobra"

	"risklane/features"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models/riskmodel"
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
		top              int
		noRevenue        bool
		mf               mirrorFlags
		cfg              = riskmodel.DefaultConfig()
		folds, smoothing = features.DefaultFolds, float64(features.DefaultSmoothing)
	)
	cmd := &cobra.Command{
		Use:   "train --in FILE --profile P --out MODEL_DIR",
		Short: "Train a risk model: features, gradient-boosted classifier and revenue head",
		Long: `train fits risklane's fraud-signal features on labelled declarations, trains a
gradient-boosted tree classifier (P(illicit)) and a revenue head (the revenue an
inspection of an illicit row raises), and writes the model folder: model.json and
model.bin (XGBoost JSON and legacy binary), revenue.json/.bin, features.json,
metrics.json and manifest.json (versions, features, parameters, SHA-256 of each file).

Fraud rates and other label-derived features of the training rows are computed out
of fold (--folds, seeded by --seed), so no row learns from its own label.

With --valid FILE or --valid-from DATE, validation rows are scored as new
declarations would be and the metrics printed (Precision, Recall and Revenue at
1, 2, 5, 10% inspected, AUC), ranked by probability and by expected revenue. The
validation set only reports: it never tunes the model.

Defaults: 400 rounds, depth 10, eta 0.05, subsample 0.8, colsample_bytree 0.8,
min_child_weight 1, lambda 1, 256 bins (chosen by time-ordered cross-validation on
the KCS training year; see models/riskmodel).

Feature groups (--features): ` + strings.Join(features.AvailableGroups(), ", ") + `;
the default is ` + strings.Join(riskmodel.DefaultGroups, ",") + `. Give a list ("hs,risk,freq")
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
			var from time.Time
			if validFrom != "" {
				var err error
				if from, err = time.Parse("2006-01-02", validFrom); err != nil {
					return usageError{msg: fmt.Sprintf("train: --valid-from %q is not a date like 2021-01-01", validFrom)}
				}
			}
			g, err := features.ParseGroups(groups, mf.base(riskmodel.DefaultGroups))
			if err != nil {
				return usageError{msg: "train: --features: " + err.Error()}
			}
			sigs, tariffRejects, err := mf.signals(g)
			if err != nil {
				return err
			}
			reportTariffRejects(c.OutOrStdout(), mf.tariffs, tariffRejects)
			cfg.Features = features.Config{Groups: g, Folds: folds, Smoothing: smoothing, Seed: seed, Signals: sigs}
			cfg.Classifier.Seed, cfg.Revenue.Seed = seed, seed
			cfg.NoRevenueHead = noRevenue
			cfg.Inputs = inputs
			p, err := profile.Resolve(prof)
			if err != nil {
				return err
			}
			cfg.Profile = p.Name
			return runTrain(c.OutOrStdout(), inputs, validIn, from, p, out, rejects, top, cfg)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&in, "in", nil, "labelled declarations (CSV, Parquet, Arrow); repeat for several")
	fl.StringVar(&prof, "profile", "", "built-in profile name or a YAML profile file")
	fl.StringVar(&out, "out", "", "model folder to write (replaced atomically if it exists)")
	fl.StringArrayVar(&validIn, "valid", nil, "validation declarations, scored as new data; repeat for several")
	fl.StringVar(&validFrom, "valid-from", "", "use the --in rows dated on or after this day (2021-01-01) for validation")
	fl.StringVar(&groups, "features", "", "feature groups: a list (hs,risk) or changes to the default (-date,+cluster)")
	fl.StringVar(&rejects, "rejects", "", "write rejected input rows (file,line,column,value,reason) to this CSV")
	fl.Uint64Var(&seed, "seed", 0, "seed of the folds and of row and column sampling")
	fl.IntVar(&top, "top", 15, "number of most important features to print")
	fl.BoolVar(&noRevenue, "no-revenue-head", false, "train no revenue head (expected revenue is then 0)")
	fl.StringArrayVar(&mf.trade, "trade", nil, "trade statistics (Comtrade CSV, as risklane mirror reads) for the mirror features; repeat for several")
	fl.StringVar(&mf.reporter, "reporter", "", "with --trade: ISO3 code of the importing country the declarations belong to")
	fl.StringVar(&mf.tariffs, "tariffs", "", "with --trade: tariff table CSV (hs,rate) for the mirror revenue gap; default: the rates the declarations show")
	fl.IntVar(&folds, "folds", folds, "folds of the out-of-fold fraud rates")
	fl.Float64Var(&smoothing, "smoothing", smoothing, "weight of the prior in smoothed fraud rates")
	fl.IntVar(&cfg.Classifier.NumRounds, "rounds", cfg.Classifier.NumRounds, "boosting rounds (trees)")
	fl.IntVar(&cfg.Classifier.MaxDepth, "max-depth", cfg.Classifier.MaxDepth, "depth of each tree")
	fl.Float64Var(&cfg.Classifier.Eta, "eta", cfg.Classifier.Eta, "learning rate")
	fl.Float64Var(&cfg.Classifier.Subsample, "subsample", cfg.Classifier.Subsample, "share of rows drawn for each tree")
	fl.Float64Var(&cfg.Classifier.ColsampleByTree, "colsample-bytree", cfg.Classifier.ColsampleByTree, "share of features drawn for each tree")
	fl.Float64Var(&cfg.Classifier.MinChildWeight, "min-child-weight", cfg.Classifier.MinChildWeight, "minimum hessian in a leaf")
	fl.Float64Var(&cfg.Classifier.Lambda, "lambda", cfg.Classifier.Lambda, "L2 regularisation of leaf weights")
	fl.Float64Var(&cfg.Classifier.Gamma, "gamma", cfg.Classifier.Gamma, "minimum loss reduction of a split")
	fl.IntVar(&cfg.Classifier.MaxBin, "max-bin", 256, "histogram bins per feature (2 to 256)")
	fl.Float64Var(&cfg.Classifier.ScalePosWeight, "scale-pos-weight", 1, "weight of illicit rows")
	fl.IntVar(&cfg.Classifier.EarlyStoppingRounds, "early-stopping", 0, "stop when the validation log loss has not improved for this many rounds (0: off)")
	fl.IntVar(&cfg.Classifier.NumThreads, "threads", 0, "goroutines for training (0: all cores)")
	return cmd
}

// readDeclarations reads every batch of the files through the profile,
// sending rejected rows to rejects (a CSV file) when it is set.
func readDeclarations(paths []string, p *profile.Profile, rejects string) ([]arrow.RecordBatch, ingest.Stats, error) {
	var opt ingest.Options
	var rf *ingest.RejectFile
	if rejects != "" {
		var err error
		if rf, err = ingest.CreateRejectFile(rejects); err != nil {
			return nil, ingest.Stats{}, err
		}
		defer rf.Abort()
		opt.Rejects = rf
	}
	batches, st, err := ingest.ReadAll(paths, p, opt)
	if err != nil {
		return nil, st, err
	}
	if rf != nil {
		if err := rf.Commit(); err != nil {
			release(batches)
			return nil, st, err
		}
	}
	return batches, st, nil
}

func release(batches []arrow.RecordBatch) {
	for _, b := range batches {
		b.Release()
	}
}

func runTrain(w io.Writer, inputs, validIn []string, validFrom time.Time, p *profile.Profile, out, rejects string, top int, cfg riskmodel.Config) error {
	train, st, err := readDeclarations(inputs, p, rejects)
	if err != nil {
		return err
	}
	defer release(train)
	fmt.Fprintf(w, "Read %d rows: %d accepted, %d rejected\n", st.Read, st.Accepted, st.Rejected)
	var valid []arrow.RecordBatch
	switch {
	case len(validIn) > 0:
		vs := ""
		if rejects != "" {
			vs = strings.TrimSuffix(rejects, ".csv") + ".valid.csv"
		}
		var vst ingest.Stats
		if valid, vst, err = readDeclarations(validIn, p, vs); err != nil {
			return err
		}
		defer release(valid)
		fmt.Fprintf(w, "Validation: read %d rows: %d accepted, %d rejected\n", vst.Read, vst.Accepted, vst.Rejected)
	case !validFrom.IsZero():
		before, after, err := riskmodel.SplitByDate(train, validFrom)
		if err != nil {
			return err
		}
		defer release(before)
		defer release(after)
		if len(before) == 0 || len(after) == 0 {
			return fmt.Errorf("train: --valid-from %s leaves no rows on one side (%d batches before, %d after)", validFrom.Format("2006-01-02"), len(before), len(after))
		}
		train, valid = before, after
		fmt.Fprintf(w, "Validation: rows dated %s or later: %d; training on %d\n", validFrom.Format("2006-01-02"), rows(after), rows(before))
	}
	m, err := riskmodel.Train(train, valid, cfg)
	if err != nil {
		return err
	}
	reportSignals(w, cfg.Features.Signals)
	if err := m.Save(out); err != nil {
		return err
	}
	trainReport(w, m, top)
	fmt.Fprintf(w, "\nModel %s written to %s\n", m.Manifest.ID, out)
	return nil
}

func rows(batches []arrow.RecordBatch) int64 {
	n := int64(0)
	for _, b := range batches {
		n += b.NumRows()
	}
	return n
}

func trainReport(w io.Writer, m *riskmodel.Model, top int) {
	mt := m.Metrics
	c := m.Manifest.Classifier
	fmt.Fprintf(w, "Features: %d (groups %s)\n", mt.Train.Features, strings.Join(m.Manifest.Groups, ","))
	fmt.Fprintf(w, "Classifier: %d trees (depth %d, eta %g, subsample %g, colsample_bytree %g) on %d labelled rows, %d illicit\n",
		mt.Train.Trees, c.MaxDepth, c.Eta, c.Subsample, c.ColsampleByTree, mt.Train.Labelled, mt.Train.Illicit)
	if m.Revenue != nil {
		fmt.Fprintf(w, "Revenue head: %d trees on %d illicit rows with revenue\n", len(m.Revenue.Trees), mt.RevenueHead.Rows)
	} else if mt.RevenueHead.Note != "" {
		fmt.Fprintf(w, "Revenue head: %s\n", mt.RevenueHead.Note)
	}
	fmt.Fprintf(w, "Trained in %.1fs\n", mt.TrainSeconds)
	if mt.Validation != nil {
		fmt.Fprintf(w, "\nValidation, ranked by probability:\n%s", mt.Validation)
		if mt.ValidationByRevenue != nil && m.Revenue != nil {
			fmt.Fprintf(w, "\nValidation, ranked by expected revenue:\n%s", mt.ValidationByRevenue)
		}
	}
	if top > 0 && len(mt.Importance) > 0 {
		fmt.Fprintf(w, "\nMost important features (share of the classifier's total gain):\n")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "rank\tfeature\tgroup\tgain\tsplits")
		for i, im := range mt.Importance[:min(top, len(mt.Importance))] {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%.1f%%\t%d\n", i+1, im.Feature, im.Group, 100*im.Share, im.Splits)
		}
		tw.Flush()
	}
}
