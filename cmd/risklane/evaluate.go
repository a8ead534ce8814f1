package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models"
	"risklane/models/kinds"
	"risklane/models/riskmodel"
	"risklane/models/xgb"
	"risklane/sink"
)

func init() { rootCmd.AddCommand(newEvaluateCmd()) }

// newEvaluateCmd builds the evaluate command with its own flag variables, so
// that tests can run it afresh.
func newEvaluateCmd() *cobra.Command {
	var (
		in                 []string
		prof, modelDir     string
		rankBy             string
		asJSON             bool
		xgbModel, features string
		rejects            string
	)
	cmd := &cobra.Command{
		Use:   "evaluate --model DIR --in FILE --profile P",
		Short: "Score labelled declarations with a model and print the detection metrics",
		Long: `evaluate scores labelled declarations with a trained model folder and prints how well
its ranking finds fraud, as the DATE paper measures it: Precision, Recall and Revenue
among the top 1, 2, 5 and 10% of rows, AUC, and precision, recall and F1 at
probability 0.5. Rows not inspected (null label) are left out.

--rank-by expected-revenue ranks by P(illicit) x predicted revenue instead of
P(illicit) (the model needs a revenue head).

A classifier trained in Python XGBoost on the features a model folder computes
(in the order of its features.json) can be evaluated too:
  --xgb-model FILE --features-from DIR
uses FILE's trees (XGBoost JSON or UBJSON, binary:logistic) with DIR's feature state.`,
		Example: `  risklane evaluate --model models/kcs --profile kcs --in ../shared/data/kcs/valid.csv
  risklane evaluate --model models/kcs --profile kcs --in valid.csv --rank-by expected-revenue --json
  risklane evaluate --xgb-model python.json --features-from models/kcs --profile kcs --in valid.csv`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			inputs := append(slices.Clone(in), args...)
			switch {
			case len(inputs) == 0:
				return usageError{msg: "evaluate: give --in FILE, the labelled declarations to score"}
			case prof == "":
				return usageError{msg: "evaluate: give --profile with one of " + strings.Join(profile.Names(), ", ") + " or a YAML file"}
			case (xgbModel == "") != (features == ""):
				return usageError{msg: "evaluate: --xgb-model and --features-from go together"}
			case xgbModel != "" && modelDir != "":
				return usageError{msg: "evaluate: give --model, or --xgb-model with --features-from, not both"}
			case xgbModel == "" && modelDir == "":
				return usageError{msg: "evaluate: give --model DIR, the model folder written by risklane train"}
			}
			ins := []sink.Path{{Flag: "--model", Name: modelDir}, {Flag: "--xgb-model", Name: xgbModel}, {Flag: "--features-from", Name: features}}
			for _, in := range inputs {
				ins = append(ins, sink.Path{Flag: "--in", Name: in})
			}
			if err := sink.Prepare(ins, []sink.Path{{Flag: "--rejects", Name: rejects}}); err != nil {
				return fmt.Errorf("evaluate: %w", err)
			}
			by, err := models.ParseRankBy(rankBy)
			if err != nil {
				return usageError{msg: "evaluate: --rank-by: " + err.Error()}
			}
			p, err := profile.Resolve(prof)
			if err != nil {
				return err
			}
			var m models.Model
			if xgbModel != "" {
				base, err := riskmodel.Load(features)
				if err != nil {
					return err
				}
				x, err := xgb.ReadFile(xgbModel)
				if err != nil {
					return err
				}
				if m, err = base.WithClassifier(x); err != nil {
					return fmt.Errorf("%s: %w", xgbModel, err)
				}
			} else if m, err = kinds.Load(modelDir); err != nil {
				return err
			}
			if err := models.CheckRankBy(m, by); err != nil {
				return usageError{msg: "evaluate: " + err.Error()}
			}
			return runEvaluate(c.OutOrStdout(), m, inputs, p, by, asJSON, rejects)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&in, "in", nil, "labelled declarations (CSV, Parquet, Arrow); repeat for several")
	fl.StringVar(&prof, "profile", "", "built-in profile name or a YAML profile file")
	fl.StringVar(&modelDir, "model", "", "model folder written by risklane train")
	fl.StringVar(&rankBy, "rank-by", string(models.ByProbability), "rank by probability or expected-revenue")
	fl.BoolVar(&asJSON, "json", false, "print the metrics as JSON")
	fl.StringVar(&xgbModel, "xgb-model", "", "a classifier trained in Python XGBoost (JSON), used with --features-from")
	fl.StringVar(&features, "features-from", "", "model folder whose feature state --xgb-model was trained on")
	fl.StringVar(&rejects, "rejects", "", "write rejected input rows (file,line,column,value,reason) to this CSV")
	return cmd
}

func runEvaluate(w io.Writer, m models.Model, inputs []string, p *profile.Profile, by models.RankBy, asJSON bool, rejects string) error {
	batches, st, err := readDeclarations(inputs, p, rejects)
	if err != nil {
		return err
	}
	defer ingest.Release(batches)
	ev, err := models.Evaluate(m, batches, by)
	if err != nil {
		return err
	}
	if asJSON {
		out := struct {
			ModelID  string          `json:"model_id"`
			Inputs   []string        `json:"inputs"`
			Read     int64           `json:"rows_read"`
			Rejected int64           `json:"rows_rejected"`
			RankBy   models.RankBy   `json:"rank_by"`
			Metrics  json.RawMessage `json:"metrics"`
		}{ModelID: m.ID(), Inputs: inputs, Read: st.Read, Rejected: st.Rejected, RankBy: by}
		if out.Metrics, err = ev.Report.MarshalJSON(); err != nil {
			return err
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	fmt.Fprintf(w, "Read %d rows: %d accepted, %d rejected\n", st.Read, st.Accepted, st.Rejected)
	fmt.Fprintf(w, "Model %s, ranked by %s:\n%s", m.ID(), by, ev.Report)
	return nil
}
