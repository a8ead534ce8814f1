package main

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/cobra"

	"risklane/ingest"
	"risklane/models/scorer"
	"risklane/models/xgb"
	"risklane/sink"
)

func init() { rootCmd.AddCommand(newPredictCmd()) }

// predictBatch is how many rows predict reads, scores and writes at a time.
const predictBatch = 1 << 14

// newPredictCmd builds the predict command with its own flag variables, so
// that tests can run it afresh.
func newPredictCmd() *cobra.Command {
	var (
		model, in, out, id string
		threads            int
	)
	cmd := &cobra.Command{
		Use:   "predict --xgb-model MODEL --in features.parquet --out predictions.csv",
		Short: "Score any feature table with any supported XGBoost model",
		Long: `predict scores a plain feature table (CSV, Parquet or Arrow; one column per
feature) with an XGBoost model file (JSON, UBJSON, or the binary of XGBoost 0.90 and
1.0) as XGBoost's Booster.predict does, with risklane's tree engine. Columns are
matched by the model's feature names (f0, f1, ... for a model saved without names);
other columns (labels, ids) are ignored. A missing value (null, empty, NA, NaN) follows
each split's default direction, as in XGBoost.

The output has one row per input row, in input order: the --id column when given,
prediction (Booster.predict: a probability for binary:logistic and reg:logistic,
the margin for binary:logitraw and reg:squarederror) and margin
(output_margin=True). See docs/interop.md.`,
		Example: `  risklane features export --model models/kcs --profile kcs --in train.csv --out features.parquet
  python3 train.py features.parquet model.json        # any XGBoost training
  risklane predict --xgb-model model.json --in features.parquet --id declaration_id --out predictions.csv`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			switch {
			case model == "":
				return usageError{msg: "predict: give --xgb-model FILE, an XGBoost model file"}
			case in == "":
				return usageError{msg: "predict: give --in FILE, the feature table to score"}
			case out == "":
				return usageError{msg: "predict: give --out FILE (.parquet or .csv)"}
			}
			if err := checkFormats("predict", out); err != nil {
				return err
			}
			if err := preparePaths("predict", []string{in}, sink.Path{Flag: "--out", Name: out}); err != nil {
				return err
			}
			n, err := predictTable(model, in, out, id, threads)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%d rows scored with %s, written to %s\n", n, model, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&model, "xgb-model", "", "XGBoost model file (.json, .ubj, or a binary of XGBoost 0.90/1.0)")
	fl.StringVar(&in, "in", "", "feature table to score (CSV, Parquet, Arrow)")
	fl.StringVar(&out, "out", "", "predictions to write: .parquet or .csv")
	fl.StringVar(&id, "id", "", "a column of the table to copy into the output (row identifier)")
	fl.IntVar(&threads, "workers", 0, "goroutines that score (0: one per core)")
	return cmd
}

// featureColumns are the columns a model reads: its feature names, or
// XGBoost's default names f0, f1, ... for a model saved without them.
func featureColumns(m *xgb.Model) []string {
	if len(m.FeatureNames) == m.NumFeature {
		return m.FeatureNames
	}
	names := make([]string, m.NumFeature)
	for i := range names {
		names[i] = fmt.Sprintf("f%d", i)
	}
	return names
}

// predictTable scores every row of the table in at the model file and
// writes the predictions to out, returning the number of rows.
func predictTable(modelPath, in, out, id string, threads int) (int64, error) {
	m, err := xgb.ReadFile(modelPath)
	if err != nil {
		return 0, err
	}
	s, err := scorer.New(m)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", modelPath, err)
	}
	t, err := ingest.OpenNumeric(in, featureColumns(m), id)
	if err != nil {
		return 0, err
	}
	defer t.Close()
	var fields []arrow.Field
	if id != "" {
		fields = append(fields, arrow.Field{Name: id, Type: arrow.BinaryTypes.String})
	}
	fields = append(fields,
		arrow.Field{Name: "prediction", Type: arrow.PrimitiveTypes.Float64},
		arrow.Field{Name: "margin", Type: arrow.PrimitiveTypes.Float64})
	schema := arrow.NewSchema(fields, nil)
	w, err := sink.Create(out, schema)
	if err != nil {
		return 0, err
	}
	defer w.Abort()
	nf := m.NumFeature
	x := make([]float64, predictBatch*nf)
	pred := make([]float64, predictBatch)
	margin := make([]float64, predictBatch)
	var ids []string
	if id != "" {
		ids = make([]string, predictBatch)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	var total int64
	for {
		n, err := t.Read(x, ids, predictBatch)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			break
		}
		if err := s.Predict(x[:n*nf], n, pred[:n], threads); err != nil {
			return 0, err
		}
		if err := s.PredictMargin(x[:n*nf], n, margin[:n], threads); err != nil {
			return 0, err
		}
		col := 0
		if id != "" {
			b.Field(0).(*array.StringBuilder).AppendValues(ids[:n], nil)
			col = 1
		}
		b.Field(col).(*array.Float64Builder).AppendValues(pred[:n], nil)
		b.Field(col+1).(*array.Float64Builder).AppendValues(margin[:n], nil)
		rec := b.NewRecordBatch()
		err = w.Write(rec)
		rec.Release()
		if err != nil {
			return 0, err
		}
		total += int64(n)
	}
	if total == 0 {
		return 0, fmt.Errorf("%s: no rows to score", in)
	}
	return total, w.Commit()
}
