package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"risklane/beam/stage"
	"risklane/features"
	"risklane/features/mirror"
	"risklane/features/pricecluster"
	"risklane/ingest/profile"
	"risklane/models"
	"risklane/models/kinds"
	"risklane/pipeline/rank"
	scorerun "risklane/pipeline/run"
	"risklane/sink"
)

// defaultSeed is risklane's --seed default for every command.
const defaultSeed = 1

// needIn checks the inputs and the profile every reading command needs.
func needIn(cmd string, in []string, prof string) error {
	switch {
	case len(in) == 0:
		return usageError{cmd + ": give --in FILE, the declarations to read (repeat for several)"}
	case prof == "":
		return usageError{cmd + ": give --profile with one of " + strings.Join(profile.Names(), ", ") + " or a YAML file"}
	}
	_, err := profile.Resolve(prof)
	return err
}

// prepare checks, before the pipeline is built, that no output is an input
// or another output (sink.Prepare, as risklane's commands check).
func prepare(cmd string, inputs []sink.Path, outputs ...sink.Path) error {
	if err := sink.Prepare(inputs, outputs); err != nil {
		return usageError{cmd + ": " + err.Error()}
	}
	return nil
}

func paths(flag string, names ...string) []sink.Path {
	var out []sink.Path
	for _, n := range names {
		out = append(out, sink.Path{Flag: flag, Name: n})
	}
	return out
}

// checkFormats refuses an output whose name gives no table format.
func checkFormats(cmd string, names ...string) error {
	for _, n := range names {
		if n == "" {
			continue
		}
		if _, err := sink.FormatOf(n); err != nil {
			return usageError{cmd + ": " + err.Error()}
		}
	}
	return nil
}

var fitCmd = command{
	name:  "fit",
	usage: "fit --in FILE... --profile P --out features.json [flags]",
	short: "fit the feature state: the features.json risklane train writes into its model folder",
	flags: func(fs *flag.FlagSet) func(beam.Scope, []string) error {
		var in, trade files
		fs.Var(&in, "in", "labelled declarations (CSV, Parquet, Arrow); repeat for several")
		prof := fs.String("profile", "", "built-in profile name or a YAML profile file")
		out := fs.String("out", "", "features.json to write (risklane train writes it into the model folder)")
		groups := fs.String("features", "", "feature groups: a list (hs,risk) or changes to the default (-date,+cluster)")
		kind := fs.String("model", kinds.Default, "model kind whose default feature groups --features changes: "+strings.Join(kinds.Names(), ", "))
		folds := fs.Int("folds", features.DefaultFolds, "folds of the out-of-fold fraud rates (recorded in features.json)")
		smoothing := fs.Float64("smoothing", float64(features.DefaultSmoothing), "weight of the prior in smoothed fraud rates")
		seed := fs.Uint64("seed", defaultSeed, "seed of the folds (recorded in features.json)")
		rejects := fs.String("rejects", "", "write rejected input rows (file,line,column,value,reason) to this CSV")
		fs.Var(&trade, "trade", "trade statistics (Comtrade CSV, as risklane mirror reads) for the mirror features; repeat for several")
		reporter := fs.String("reporter", "", "with --trade: ISO3 code of the importing country the declarations belong to")
		tariffs := fs.String("tariffs", "", "with --trade: tariff table CSV (hs,rate) for the mirror revenue gap; default: the rates the declarations show")
		chunk := fs.Int("chunk", stage.DefaultChunk, "values a reader buffers before it emits them, one element per key")
		return func(s beam.Scope, args []string) error {
			inputs := append([]string(in), args...)
			if err := needIn("fit", inputs, *prof); err != nil {
				return err
			}
			if *out == "" {
				return usageError{"fit: give --out, the features.json to write"}
			}
			k, err := kinds.Lookup(*kind)
			if err != nil {
				return usageError{"fit: --model: " + err.Error()}
			}
			base := slices.Clone(k.Groups)
			if base == nil {
				base = slices.Clone(features.DefaultGroups)
			}
			if len(trade) > 0 {
				base = append(base, mirror.GroupName)
			}
			g, err := features.ParseGroups(*groups, base)
			if err != nil {
				return usageError{"fit: --features: " + err.Error()}
			}
			want := slices.Contains(g, mirror.GroupName)
			switch {
			case want && len(trade) == 0:
				return usageError{"fit: the mirror feature group needs trade statistics: give --trade FILE (Comtrade CSV, repeat for several) and --reporter ISO3"}
			case len(trade) == 0 && (*reporter != "" || *tariffs != ""):
				return usageError{"fit: --reporter and --tariffs go with --trade, the trade statistics of the mirror features"}
			case len(trade) > 0 && !want:
				return usageError{"fit: --trade gives the mirror features, but --features leaves the mirror group out; add mirror to the list or drop --trade"}
			case len(trade) > 0 && *reporter == "":
				return usageError{"fit: give --reporter, the ISO3 code of the importing country whose trade statistics --trade holds (e.g. KEN)"}
			}
			ins := append(paths("--in", inputs...), paths("--trade", trade...)...)
			ins = append(ins, paths("--tariffs", *tariffs)...)
			if err := prepare("fit", ins, sink.Path{Flag: "--out", Name: *out}, sink.Path{Flag: "--rejects", Name: *rejects}); err != nil {
				return err
			}
			return stage.Fit(s, stage.FitConfig{Inputs: inputs, Profile: *prof, Out: *out, Rejects: *rejects, Chunk: *chunk,
				Features: features.Config{Groups: g, Folds: *folds, Smoothing: *smoothing, Seed: *seed},
				Trade:    trade, Reporter: *reporter, Tariffs: *tariffs})
		}
	},
}

var clusterCmd = command{
	name:  "cluster",
	usage: "cluster --in FILE... --profile P --out clusters.parquet [flags]",
	short: "k-means price clusters per HS6 group: risklane cluster's model, group table and assignments",
	flags: func(fs *flag.FlagSet) func(beam.Scope, []string) error {
		var in, market files
		var cfg pricecluster.Config
		fs.Var(&in, "in", "declarations file (CSV, Parquet, Arrow); repeat for several")
		prof := fs.String("profile", "", "built-in profile name or a YAML profile file")
		out := fs.String("out", "", "per-declaration assignments: .parquet, .csv or .arrow; the group table goes beside it as NAME.groups.EXT")
		refPrices := fs.String("reference-prices", "", "write reference unit prices per HS6 to this file (.csv for analysts)")
		fs.Var(&market, "market-prices", "not built on Beam (risklane cluster takes it)")
		model := fs.String("clusters", "", "write the fitted clusters (JSON) to this file, for report --clusters")
		rejects := fs.String("rejects", "", "write rejected input rows (file,line,column,value,reason) to this CSV")
		fs.IntVar(&cfg.KMin, "k-min", 2, "fewest clusters per group")
		fs.IntVar(&cfg.KMax, "k-max", 5, "most clusters per group")
		fs.IntVar(&cfg.MinGroupRows, "min-group-rows", 30, "rows an HS6 (or HS4) group needs to be fitted on its own")
		fs.Uint64Var(&cfg.Seed, "seed", defaultSeed, "random seed: the same seed and input give the same clusters")
		fs.BoolVar(&cfg.ValueMass, "value-mass", false, "cluster on log unit value, log value and log mass together (standardised)")
		chunk := fs.Int("chunk", stage.DefaultChunk, "rows a reader buffers before it emits them, one element per group")
		return func(s beam.Scope, args []string) error {
			inputs := append([]string(in), args...)
			if err := needIn("cluster", inputs, *prof); err != nil {
				return err
			}
			switch {
			case *out == "":
				return usageError{"cluster: give --out, the per-declaration table to write (.parquet, .csv or .arrow)"}
			case cfg.KMin < 2 || cfg.KMax < cfg.KMin || cfg.KMax > 20:
				return usageError{fmt.Sprintf("cluster: --k-min %d and --k-max %d must satisfy 2 <= k-min <= k-max <= 20", cfg.KMin, cfg.KMax)}
			case cfg.MinGroupRows < 1:
				return usageError{"cluster: --min-group-rows must be at least 1"}
			case len(market) > 0:
				return usageError{"cluster: --market-prices is not built on Beam; join the market prices with risklane cluster or risklane prices"}
			}
			if err := checkFormats("cluster", *out, *refPrices); err != nil {
				return err
			}
			if err := prepare("cluster", paths("--in", inputs...), sink.Path{Flag: "--out", Name: *out},
				sink.Path{Flag: "--out (its group table)", Name: pricecluster.GroupTablePath(*out)}, sink.Path{Flag: "--reference-prices", Name: *refPrices},
				sink.Path{Flag: "--clusters", Name: *model}, sink.Path{Flag: "--rejects", Name: *rejects}); err != nil {
				return err
			}
			return stage.Cluster(s, stage.ClusterConfig{Inputs: inputs, Profile: *prof, Config: cfg, Out: *out, Clusters: *model,
				Prices: *refPrices, Rejects: *rejects, Chunk: *chunk})
		}
	},
}

var mirrorCmd = command{
	name:  "mirror",
	usage: "mirror --trade FILE... --reporter ISO3 --out gaps.parquet [flags]",
	short: "mirror analysis of trade statistics: risklane mirror's gap table, rejects and signals",
	flags: func(fs *flag.FlagSet) func(beam.Scope, []string) error {
		var trade files
		fs.Var(&trade, "trade", "Comtrade trade-statistics CSV (bulk or API layout, .gz accepted); repeat for several files")
		reporter := fs.String("reporter", "", "importing country whose statistics are checked (ISO3, ISO2 or M49 code)")
		out := fs.String("out", "", "gap table to write: .parquet, .csv or .arrow")
		tariffs := fs.String("tariffs", "", "tariff table CSV with columns hs,rate (percent; HS2, HS4 or HS6 codes)")
		cifFOB := fs.Float64("cif-fob", mirror.DefaultCIFFOB, "CIF/FOB factor used when an import row has no FOB value")
		minValue := fs.Float64("min-value", 1000, "flows whose larger side is below this many US dollars are listed but not ranked")
		dutyBase := fs.String("duty-base", "cif", "value the duty is levied on: cif (most countries) or fob")
		rejects := fs.String("rejects", "", "write every rejected row (file,line,column,value,reason) to this CSV")
		signals := fs.String("signals", "", "write the per-declaration signal dictionary (JSON) to this file")
		return func(s beam.Scope, args []string) error {
			files := append([]string(trade), args...)
			cfg := stage.MirrorConfig{Trade: files, Reporter: *reporter, CIFFOB: *cifFOB, MinValue: *minValue, Tariffs: *tariffs,
				Out: *out, Rejects: *rejects, Signals: *signals}
			switch {
			case len(files) == 0:
				return usageError{"mirror: give at least one --trade file of Comtrade statistics"}
			case *reporter == "":
				return usageError{"mirror: give --reporter, the ISO3 code of the importing country (e.g. KEN)"}
			case *out == "":
				return usageError{"mirror: give --out, the gap table to write (.parquet, .csv or .arrow)"}
			case !(*cifFOB > 0) || !(*minValue > 0):
				// The stage reads zero as mirror.DefaultConfig's value.
				return usageError{"mirror: --cif-fob and --min-value must be above 0 on Beam"}
			}
			switch strings.ToLower(*dutyBase) {
			case "cif":
				cfg.DutyBase = mirror.DutyOnCIF
			case "fob":
				cfg.DutyBase = mirror.DutyOnFOB
			default:
				return usageError{fmt.Sprintf("mirror: --duty-base %q: give cif or fob", *dutyBase)}
			}
			if err := checkFormats("mirror", *out); err != nil {
				return err
			}
			ins := append(paths("--trade", files...), paths("--tariffs", *tariffs)...)
			if err := prepare("mirror", ins, sink.Path{Flag: "--out", Name: *out}, sink.Path{Flag: "--rejects", Name: *rejects},
				sink.Path{Flag: "--signals", Name: *signals}); err != nil {
				return err
			}
			return stage.Mirror(s, cfg)
		}
	},
}

var sampleCmd = command{
	name:  "sample",
	usage: "sample --in FILE... --profile P --out DIR --rate 0.2 [flags]",
	short: "training sample: every illicit row and whole declarations at --rate (for risklane train --scale-pos-weight RATE)",
	flags: func(fs *flag.FlagSet) func(beam.Scope, []string) error {
		var in files
		fs.Var(&in, "in", "labelled declarations (CSV, Parquet, Arrow); repeat for several")
		prof := fs.String("profile", "", "built-in profile name or a YAML profile file")
		out := fs.String("out", "", "folder to write sample-00000.parquet, ... into (one file per input, canonical schema)")
		rate := fs.Float64("rate", 0, "share of the declarations that are not illicit to keep, in (0, 1]")
		seed := fs.Uint64("seed", defaultSeed, "seed of the declarations' hash")
		return func(s beam.Scope, args []string) error {
			inputs := append([]string(in), args...)
			if err := needIn("sample", inputs, *prof); err != nil {
				return err
			}
			switch {
			case *out == "":
				return usageError{"sample: give --out, the folder to write the sample into"}
			case !(*rate > 0 && *rate <= 1):
				return usageError{fmt.Sprintf("sample: --rate %v: give a share in (0, 1], e.g. 0.2", *rate)}
			}
			var outs []sink.Path
			for i := range inputs {
				outs = append(outs, sink.Path{Flag: "--out", Name: filepath.Join(*out, stage.SampleFile(i))})
			}
			if err := prepare("sample", paths("--in", inputs...), outs...); err != nil {
				return err
			}
			if err := os.MkdirAll(*out, 0o755); err != nil {
				return err
			}
			return stage.Sample(s, stage.SampleConfig{Inputs: inputs, Profile: *prof, OutDir: *out, Rate: *rate, Seed: *seed})
		}
	},
}

var scoreCmd = command{
	name:  "score",
	usage: "score --model DIR --profile P --in FILE... --out ranked.parquet [flags]",
	short: "score and rank declarations with a model folder: risklane score's ranked file and rejects",
	flags: func(fs *flag.FlagSet) func(beam.Scope, []string) error {
		var in files
		fs.Var(&in, "in", "declarations to score (CSV, Parquet, Arrow); repeat for several")
		modelDir := fs.String("model", "", "model folder (risklane train)")
		prof := fs.String("profile", "", "built-in profile name or a YAML profile file")
		out := fs.String("out", "", "ranked file to write: .parquet or .csv")
		rejects := fs.String("rejects", "", "write rejected rows (file,line,column,value,reason) to this CSV")
		budget := fs.String("budget", "5%", "red lane: a share of the scored rows (5%) or a number of rows (500)")
		yellow := fs.String("yellow", "10%", "yellow lane after the red one: a share of the scored rows or a number of rows")
		explore := fs.String("explore", "10%", "share (or number) of the red lane drawn at random from outside the top")
		seed := fs.Uint64("seed", defaultSeed, "seed of the exploration draw")
		rankBy := fs.String("rank-by", string(models.ByProbability), "ranking key: probability or expected-revenue")
		buckets := fs.Int("buckets", 64, "score ranges of the global sort (approximate quantiles), each sorted by one worker")
		batch := fs.Int("batch-size", scorerun.DefaultBatchSize, "rows per record batch: the rows an element of the pipeline carries")
		return func(s beam.Scope, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Sprintf("score: unexpected argument %q; give the inputs with --in", args[0])}
			}
			if err := needIn("score", in, *prof); err != nil {
				return err
			}
			switch {
			case *modelDir == "":
				return usageError{"score: give --model, the model folder to score with"}
			case *out == "":
				return usageError{"score: give --out, the ranked file to write (.parquet or .csv)"}
			case *buckets < 1:
				return usageError{"score: --buckets must be at least 1"}
			case *batch < 1:
				return usageError{"score: --batch-size must be positive"}
			}
			plan := rank.Plan{Seed: *seed}
			for _, f := range []struct {
				flag, v string
				dst     *rank.Share
			}{{"--budget", *budget, &plan.Budget}, {"--yellow", *yellow, &plan.Yellow}, {"--explore", *explore, &plan.Explore}} {
				sh, err := rank.ParseShare(f.v)
				if err != nil {
					return usageError{"score: " + f.flag + ": " + err.Error()}
				}
				*f.dst = sh
			}
			by, err := models.ParseRankBy(*rankBy)
			if err != nil {
				return usageError{"score: --rank-by: " + err.Error()}
			}
			if err := checkFormats("score", *out); err != nil {
				return err
			}
			if err := prepare("score", paths("--in", in...), sink.Path{Flag: "--out", Name: *out}, sink.Path{Flag: "--rejects", Name: *rejects}); err != nil {
				return err
			}
			return stage.Score(s, stage.ScoreConfig{Inputs: in, Profile: *prof, ModelDir: *modelDir, Out: *out, Rejects: *rejects,
				Plan: plan, RankBy: by, Buckets: *buckets, BatchSize: *batch})
		}
	},
}
