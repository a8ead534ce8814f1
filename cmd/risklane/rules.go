package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"risklane/features"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models"
	"risklane/models/kinds"
	"risklane/models/rules"
)

func init() { rootCmd.AddCommand(newRulesCmd()) }

// newRulesCmd builds the rules command with its own flag variables, so that
// tests can run it afresh.
func newRulesCmd() *cobra.Command {
	var (
		modelDir, prof, rank string
		in                   []string
		asJSON               bool
		opts                 = rules.DefaultOptions()
	)
	cmd := &cobra.Command{
		Use:   "rules --model DIR [--in FILE... --profile P]",
		Short: "Print a model's strongest decision paths as readable fraud rules",
		Long: `rules extracts the machine's fraud detection rules (BACUDA series 9): every path from
the root of a tree of the model to a leaf is a rule, its splits merged into one
condition per feature and written in the units an officer knows (a log unit value as
the value per kg, a fraud rate as a percentage, HS headings and attribute values as
codes), for example

  HS4 = 8703 and value per kg < 1,240 and importer's past fraud rate >= 20%
    ->  support 312 (0.8%), fraud rate 71% (lift 3.3)

Support is the number (and share) of labelled declarations that reach the leaf,
fraud rate the share of illicit among them, lift the fraud rate over the base rate.
"(or missing)" marks a condition a missing value meets too.

Without --in, the rules are measured on the training files the model folder records
(its manifest), read again with its profile. When they give back exactly the model's
feature state, the rows get the out-of-fold features the trees were trained on;
other data (--in) gets the features the model computes when it scores.

Rules are ranked by --rank: z (default) is the binomial z-score of the fraud rate
against the base rate, (p - p0) sqrt(n) / sqrt(p0 (1 - p0)), which weighs fraud rate
and support together; rate is the fraud rate; value is the leaf's output. Rules
reaching fewer than --min-support of the labelled rows are left out, and a rule whose
rows overlap a better-ranked rule's with a Jaccard similarity of --similarity or more
is merged into it (boosting repeats itself across trees).`,
		Example: `  risklane rules --model models/kcs
  risklane rules --model models/kcs --profile kcs --in ../shared/data/kcs/valid.csv --top 10
  risklane rules --model models/kcs --rank rate --min-support 0.01 --json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			inputs := append(slices.Clone(in), args...)
			switch {
			case modelDir == "":
				return usageError{msg: "rules: give --model DIR, the model folder written by risklane train"}
			case opts.Top < 0:
				return usageError{msg: "rules: --top must be 0 (every rule) or more"}
			case !(opts.MinSupport >= 0 && opts.MinSupport <= 1):
				return usageError{msg: fmt.Sprintf("rules: --min-support %v is not a share from 0 to 1 (0.005 is 0.5%% of the rows)", opts.MinSupport)}
			case !(opts.Similarity >= 0 && opts.Similarity <= 1):
				return usageError{msg: fmt.Sprintf("rules: --similarity %v is not from 0 (keep every rule) to 1", opts.Similarity)}
			case opts.Threads < 0:
				return usageError{msg: "rules: --workers must be 0 (one per core) or more"}
			}
			r, err := rules.ParseRank(rank)
			if err != nil {
				return usageError{msg: "rules: --rank: " + err.Error()}
			}
			opts.Rank = r
			return runRules(c.OutOrStdout(), modelDir, inputs, prof, opts, asJSON)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&modelDir, "model", "", "model folder written by risklane train")
	fl.StringArrayVar(&in, "in", nil, "labelled declarations to measure the rules on (default: the model's training files); repeat for several")
	fl.StringVar(&prof, "profile", "", "profile of the declarations: built-in name or YAML file (default: the model's)")
	fl.IntVar(&opts.Top, "top", opts.Top, "number of rules to print (0: all)")
	fl.Float64Var(&opts.MinSupport, "min-support", opts.MinSupport, "smallest share of the labelled rows a rule must reach")
	fl.StringVar(&rank, "rank", string(opts.Rank), "ranking: z (z-score of the fraud rate), rate (fraud rate) or value (leaf output)")
	fl.Float64Var(&opts.Similarity, "similarity", opts.Similarity, "merge rules whose rows overlap with this Jaccard similarity (0: never)")
	fl.IntVar(&opts.Threads, "workers", 0, "goroutines routing rows through the trees (0: one per core)")
	deprecatedAlias(fl, "threads", "workers")
	fl.BoolVar(&asJSON, "json", false, "write the rules as JSON")
	return cmd
}

// rulesData describes the rows the rules were measured on.
type rulesData struct {
	Files   []string `json:"files"`
	Profile string   `json:"profile"`
	// Training says the rows are the model's training rows with the
	// out-of-fold features the trees were trained on; otherwise they have
	// the features the model computes when it scores.
	Training bool    `json:"training_features"`
	Rows     int     `json:"rows"`
	Labelled int     `json:"labelled"`
	Illicit  int     `json:"illicit"`
	BaseRate float64 `json:"base_rate"`
}

// rulesReport is the JSON output of the rules command.
type rulesReport struct {
	ModelID    string       `json:"model_id"`
	Trees      int          `json:"trees"`
	Data       rulesData    `json:"data"`
	Rank       rules.Rank   `json:"rank"`
	MinSupport float64      `json:"min_support"`
	Similarity float64      `json:"similarity"`
	Rules      []rules.Rule `json:"rules"`
}

func runRules(w io.Writer, modelDir string, inputs []string, prof string, opts rules.Options, asJSON bool) error {
	loaded, err := kinds.Load(modelDir)
	if err != nil {
		return err
	}
	m, ok := loaded.(models.Ensemble)
	if !ok {
		return fmt.Errorf("rules: %s holds a %s model, which has no trees to read rules from", modelDir, loaded.Kind())
	}
	var prov models.Provenance
	if d, ok := loaded.(models.Described); ok {
		prov = d.Provenance()
	}
	recorded := len(inputs) == 0
	if recorded {
		if len(prov.Inputs) == 0 {
			return usageError{msg: fmt.Sprintf("rules: the model folder %s does not record its training files; give labelled declarations with --in FILE --profile P", modelDir)}
		}
		inputs = prov.Inputs
	}
	if prof == "" {
		if prof = prov.Profile; prof == "" {
			return usageError{msg: "rules: the model folder does not record its profile; give --profile with one of " + strings.Join(profile.Names(), ", ") + " or a YAML file"}
		}
	}
	p, err := profile.Resolve(prof)
	if err != nil {
		return err
	}
	batches, _, err := ingest.ReadAll(inputs, p, ingest.Options{})
	if err != nil {
		if recorded {
			return fmt.Errorf("rules: reading the training files the model records: %w; give them, or other labelled declarations, with --in FILE --profile P", err)
		}
		return err
	}
	defer ingest.Release(batches)
	X, y, training, err := rules.ModelData(m, batches)
	if err != nil {
		return err
	}
	opts.Namer = rules.FeatureNamer(m.FeatureState())
	rs, err := rules.Extract(m.Trees(), X, y, opts)
	if err != nil {
		return err
	}
	d := rulesData{Files: inputs, Profile: p.Name, Training: training, Rows: X.Rows}
	for _, v := range y {
		if !math.IsNaN(v) {
			d.Labelled++
			d.Illicit += int(v)
		}
	}
	d.BaseRate = float64(d.Illicit) / float64(d.Labelled)
	rep := rulesReport{ModelID: m.ID(), Trees: len(m.Trees().Trees), Data: d, Rank: opts.Rank,
		MinSupport: opts.MinSupport, Similarity: opts.Similarity, Rules: rs}
	if rep.Rules == nil {
		rep.Rules = []rules.Rule{}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printRules(w, rep)
	return nil
}

func printRules(w io.Writer, rep rulesReport) {
	d := rep.Data
	fmt.Fprintf(w, "model %s: %d trees\n", rep.ModelID, rep.Trees)
	how := "with the features the model computes when it scores"
	if d.Training {
		how = "the training rows, with the out-of-fold features the trees were trained on"
	}
	fmt.Fprintf(w, "measured on %s labelled declarations of %s (%s); %s illicit\n",
		features.FormatNumber(float64(d.Labelled)), strings.Join(d.Files, ", "), how, features.FormatPercent(d.BaseRate))
	minRows := max(1, int(math.Ceil(rep.MinSupport*float64(d.Labelled)-1e-9)))
	merge := "near-duplicates kept"
	if rep.Similarity > 0 {
		merge = "near-duplicates (Jaccard similarity >= " + strconv.FormatFloat(rep.Similarity, 'g', -1, 64) + ") merged"
	}
	by := map[rules.Rank]string{rules.ByZ: "z-score of the fraud rate", rules.ByRate: "fraud rate", rules.ByValue: "leaf output"}[rep.Rank]
	fmt.Fprintf(w, "ranked by %s; support at least %s (%s rows); %s\n\n", by,
		features.FormatPercent(rep.MinSupport), features.FormatNumber(float64(minRows)), merge)
	if len(rep.Rules) == 0 {
		fmt.Fprintln(w, "no rule reaches the minimum support; lower --min-support")
		return
	}
	width := len(strconv.Itoa(len(rep.Rules)))
	for i, r := range rep.Rules {
		fmt.Fprintf(w, "%*d. %s\n", width, i+1, r)
		note := fmt.Sprintf("tree %d leaf %d, score %.2f", r.Tree, r.Leaf, r.Score)
		switch r.Similar {
		case 0:
		case 1:
			note += ", 1 similar rule merged"
		default:
			note += fmt.Sprintf(", %d similar rules merged", r.Similar)
		}
		fmt.Fprintf(w, "%*s  %s\n", width, "", note)
	}
}
