package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"risklane/models/xgb"
	"risklane/sink"
)

func newConvertCmd() *cobra.Command {
	var in, out string
	cmd := &cobra.Command{
		Use:   "convert --in MODEL --out OUT",
		Short: "Convert an XGBoost model between JSON and the legacy binary that leaves loads",
		Long: `convert reads an XGBoost gradient-boosted tree model, checks it thoroughly, and
writes it in another format.

Input (format told from the content): XGBoost JSON or UBJSON, as XGBoost 1.0 to
3.x write them with save_model("model.json") or save_model("model.ubj"), or the
binary model of XGBoost 0.90 / 1.0. A binary saved by XGBoost 1.1 or later is
refused: load it in Python and save it as JSON.

Output (format from the extension): .json writes XGBoost's JSON, which Python
XGBoost 1.7 and later load with xgboost.Booster(model_file=...); .model or .bin
writes the legacy binary that github.com/dmitryikh/leaves loads. The legacy
binary does not keep feature names.

Supported: booster gbtree, objectives binary:logistic and reg:squarederror,
numerical splits. Multi-class, multi-target, categorical, dart and gblinear
models are refused with a message saying so.`,
		Example: `  risklane convert --in notebook_model.json --out model.bin
  risklane convert --in model.ubj --out model.json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if in == "" {
				return usageError{msg: "convert: give --in MODEL, the XGBoost model to read (.json, .ubj or a legacy binary)"}
			}
			if out == "" {
				return usageError{msg: "convert: give --out OUT, the model to write (.json, or .model / .bin for the legacy binary)"}
			}
			format, err := xgb.FormatOf(out)
			if err == nil && format == xgb.UBJSON {
				err = fmt.Errorf("%s: risklane writes JSON (.json) or the legacy binary (.model, .bin), not UBJSON", out)
			}
			if err != nil {
				return usageError{msg: "convert: " + err.Error()}
			}
			if err := sink.Prepare([]sink.Path{{Flag: "--in", Name: in}}, []sink.Path{{Flag: "--out", Name: out}}); err != nil {
				return fmt.Errorf("convert: %w", err)
			}
			inFormat, err := sniffFile(in)
			if err != nil {
				return err
			}
			m, err := xgb.ReadFile(in)
			if err != nil {
				return err
			}
			if err := xgb.WriteFile(out, m); err != nil {
				return err
			}
			w := c.OutOrStdout()
			fmt.Fprintf(w, "read %s (%s): %s, %d trees, %d features, base_score %v\n",
				in, inFormat, m.Objective, len(m.Trees), m.NumFeature, m.BaseScore)
			fmt.Fprintf(w, "wrote %s (%s)\n", out, format)
			if format == xgb.LegacyBinary && len(m.FeatureNames) > 0 {
				fmt.Fprintf(w, "note: the legacy binary keeps no feature names; the %d names of %s were left out\n", len(m.FeatureNames), in)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in, "in", "", "XGBoost model to read: JSON, UBJSON or legacy binary")
	fl.StringVar(&out, "out", "", "model to write: .json, or .model / .bin for the legacy binary")
	return cmd
}

// sniffFile tells a model file's format from its first bytes.
func sniffFile(path string) (xgb.Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	head := make([]byte, 64)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return xgb.Sniff(head[:n]), nil
}

func init() {
	rootCmd.AddCommand(newConvertCmd())
}
