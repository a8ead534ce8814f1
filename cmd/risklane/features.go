package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/cobra"

	"risklane/decl"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models"
	"risklane/models/kinds"
	"risklane/models/rules"
	"risklane/sink"
)

func init() {
	cmd := &cobra.Command{
		Use:   "features",
		Short: "Work with a model's feature matrix (export)",
	}
	cmd.AddCommand(newFeaturesExportCmd())
	rootCmd.AddCommand(cmd)
}

// newFeaturesExportCmd builds the features export command with its own flag
// variables, so that tests can run it afresh.
func newFeaturesExportCmd() *cobra.Command {
	var (
		in             []string
		prof, modelDir string
		out            string
	)
	cmd := &cobra.Command{
		Use:   "export --model DIR --profile P --in FILE... --out features.csv",
		Short: "Write the model's features of declarations, with their labels, for Python",
		Long: `export writes the feature matrix a model folder computes for the given
declarations, one row per declaration, so that a Python user trains on exactly
what risklane scores: declaration_id, one column per feature (in the order of the
model's features.json, named as in its model.json), then illicit and revenue
(empty when unknown).

Given the model's own training rows (same files, same profile), the label-derived
features (fraud rates) are the out-of-fold values training used: the feature layer
is fitted again with the model's settings and must give back its saved state.
Other rows get the values the model computes when it scores (fitted on the whole
training history). The command says which it wrote. CSV is what Debian's pandas
reads without pyarrow. See docs/interop.md.`,
		Example: `  risklane features export --model models/kcs --profile kcs --in train.csv --out train-features.csv
  risklane features export --model models/kcs --profile kcs --in valid.csv --out valid-features.csv`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			switch {
			case modelDir == "":
				return usageError{msg: "features export: give --model DIR, the model folder whose features to compute"}
			case len(in) == 0:
				return usageError{msg: "features export: give --in FILE, the declarations"}
			case prof == "":
				return usageError{msg: "features export: give --profile with one of " + strings.Join(profile.Names(), ", ") + " or a YAML file"}
			case out == "":
				return usageError{msg: "features export: give --out FILE (.csv or .parquet)"}
			}
			if err := checkFormats("features export", out); err != nil {
				return err
			}
			if err := preparePaths("features export", in, sink.Path{Flag: "--out", Name: out}); err != nil {
				return err
			}
			return exportFeatures(c.OutOrStdout(), modelDir, in, prof, out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&modelDir, "model", "", "model folder (risklane train)")
	fl.StringArrayVar(&in, "in", nil, "declarations (CSV, Parquet, Arrow); repeat for several")
	fl.StringVar(&prof, "profile", "", "built-in profile name or a YAML profile file")
	fl.StringVar(&out, "out", "", "feature table to write: .csv or .parquet")
	return cmd
}

func exportFeatures(w io.Writer, modelDir string, inputs []string, prof, out string) error {
	loaded, err := kinds.Load(modelDir)
	if err != nil {
		return err
	}
	m, ok := loaded.(models.Ensemble)
	if !ok {
		return fmt.Errorf("features export: %s holds a %s model, whose features are not a table of numbers", modelDir, loaded.Kind())
	}
	p, err := profile.Resolve(prof)
	if err != nil {
		return err
	}
	batches, _, err := ingest.ReadAll(inputs, p, ingest.Options{})
	if err != nil {
		return err
	}
	defer ingest.Release(batches)
	X, y, training, err := rules.ModelData(m, batches)
	if err != nil {
		return err
	}
	_, revenue, err := models.Outcomes(batches)
	if err != nil {
		return err
	}
	var ids []string
	for _, b := range batches {
		col, _, err := decl.Strings(b, decl.DeclarationID)
		if err != nil {
			return err
		}
		for i := range int(b.NumRows()) {
			id, _ := col.Value(i)
			ids = append(ids, id)
		}
	}
	// The model file's names, so that an XGBoost model trained on the table
	// reads its columns by the same names.
	names := X.Names
	if tn := m.Trees().FeatureNames; len(tn) == len(names) {
		names = tn
	}
	fields := []arrow.Field{{Name: decl.DeclarationID, Type: arrow.BinaryTypes.String}}
	for _, n := range names {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	}
	fields = append(fields,
		arrow.Field{Name: decl.Illicit, Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		arrow.Field{Name: decl.Revenue, Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues(ids, nil)
	for j, col := range X.Cols {
		fb := b.Field(1 + j).(*array.Float64Builder)
		for _, v := range col[:X.Rows] {
			if math.IsNaN(v) {
				fb.AppendNull()
			} else {
				fb.Append(v)
			}
		}
	}
	lb := b.Field(1 + len(names)).(*array.Int8Builder)
	for _, v := range y {
		if math.IsNaN(v) {
			lb.AppendNull()
		} else {
			lb.Append(int8(v))
		}
	}
	rb := b.Field(2 + len(names)).(*array.Float64Builder)
	for _, v := range revenue {
		if math.IsNaN(v) {
			rb.AppendNull()
		} else {
			rb.Append(v)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := sink.WriteTable(out, rec); err != nil {
		return err
	}
	how := "the values the model computes when it scores (fitted on its training history)"
	if training {
		how = "the out-of-fold values training used (these are the model's training rows)"
	}
	fmt.Fprintf(w, "%d rows x %d features of model %s written to %s: %s\n", X.Rows, len(names), m.ID(), out, how)
	return nil
}
