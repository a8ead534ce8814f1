package stage

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"risklane/features"
	"risklane/features/pricecluster"
	"risklane/ingest"
	"risklane/ingest/profile"
)

// FitConfig is one fit of the feature state, as risklane train fits it.
type FitConfig struct {
	Inputs  []string
	Profile string
	// Features are the groups and settings, as risklane train's --features,
	// --folds, --smoothing and --seed give them. The price-cluster group is
	// fitted by the cluster stage; no other signal group is supported.
	Features features.Config
	Out      string // features.json
	Rejects  string // rejected rows (CSV); "" for none
	// BatchSize is the rows per record batch read (0: ingest's default).
	BatchSize int
}

// Fit adds the fit of the feature state to the pipeline:
//
//	files -> read once (rejects: a side output); each file's
//	         features.Tally: counts per key value (a combiner sums them
//	         over files), log unit values keyed by reference, and the
//	         price-cluster rows when the cluster group is on
//	      -> GroupByKey(reference): features.ReferenceOf, exact (median,
//	         MAD and quantiles need every value of the key)
//	      -> GroupByKey(cluster group): pricecluster.FitGroup (Cluster)
//	      -> one writer: features.Assemble, features.json
//
// features.json is byte-identical to the one risklane train writes into
// the model folder (TestFitEqualsRisklaneTrain). It holds no out-of-fold
// statistic: those are the training rows' own features, which Fit computes
// for the trainer and does not save.
func Fit(s beam.Scope, cfg FitConfig) error {
	s = s.Scope("fit")
	clusters := false
	for _, g := range cfg.Features.Groups {
		switch {
		case g == pricecluster.GroupName:
			clusters = true
		case !slices.Contains(features.BuiltinGroups, g):
			return fmt.Errorf("fit: feature group %s is not built on Beam (only the built-in groups and %s are)", g, pricecluster.GroupName)
		}
	}
	in := beam.CreateList(s, filesOf(cfg.Inputs))
	heads, counts, uvs, rows, rej := beam.ParDo5(s, &tallyFileFn{Profile: cfg.Profile, BatchSize: cfg.BatchSize, Clusters: clusters}, in)
	if cfg.Rejects != "" {
		writeRejects(s, cfg.Rejects, rej)
	}
	sums := beam.CombinePerKey(s, addCounts, counts)
	refs := beam.ParDo(s, referenceOf, beam.GroupByKey(s, uvs))
	groups := beam.ParDo(s, &fitGroupFn{Config: pricecluster.SignalConfig()}, beam.GroupByKey(s, rows))
	fc := cfg.Features
	af := &assembleFn{Groups: fc.Groups, Folds: fc.Folds, Seed: fc.Seed, Smoothing: fc.Smoothing, MinReference: fc.MinReference,
		Out: cfg.Out, Clusters: clusters}
	beam.ParDo0(s, af, beam.Impulse(s),
		beam.SideInput{Input: heads}, beam.SideInput{Input: sums}, beam.SideInput{Input: refs}, beam.SideInput{Input: groups})
	return nil
}

// tallyFileFn reads a file once: its tally, its unit values by reference
// and, for the cluster group, its rows by cluster group.
type tallyFileFn struct {
	Profile   string
	BatchSize int
	Clusters  bool
	prof      *profile.Profile
}

func (f *tallyFileFn) Setup() error {
	var err error
	f.prof, err = profile.Resolve(f.Profile)
	return err
}

func (f *tallyFileFn) ProcessElement(in fileIn, head func([]byte), count func(string, features.KeyCount), uv func(string, float64),
	row func(int64, clusterRow), reject func(rejectRow)) error {
	t := features.NewTally()
	var rows pricecluster.Rows
	var ord int64
	emitUV := func(k features.UnitValueKey, x float64) { uv(jsonKey(k), x) }
	err := readDecl(f.prof, in, ingest.Options{BatchSize: f.BatchSize, RequireLabels: true}, reject, func(rec arrow.RecordBatch) error {
		if err := t.Add(rec, emitUV); err != nil {
			return fmt.Errorf("%s: %w", in.Path, err)
		}
		if !f.Clusters {
			return nil
		}
		return emitClusterRows(in, rec, &rows, &ord, row)
	})
	if err != nil {
		return err
	}
	for k, c := range t.Counts {
		count(jsonKey(k), c)
	}
	t.Counts = nil
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	head(b)
	return nil
}

// jsonKey is a shuffle key: the JSON of a key struct, one string per key.
func jsonKey(k any) string {
	b, err := json.Marshal(k)
	if err != nil {
		panic(err) // structs of strings always marshal
	}
	return string(b)
}

func addCounts(a, b features.KeyCount) features.KeyCount {
	a.Add(b)
	return a
}

// referenceOf computes one unit-value reference from all its values.
func referenceOf(key string, values func(*float64) bool, emit func([]byte)) error {
	var k features.UnitValueKey
	if err := json.Unmarshal([]byte(key), &k); err != nil {
		return err
	}
	var all []float64
	var x float64
	for values(&x) {
		all = append(all, x)
	}
	b, err := json.Marshal(features.ReferenceOf(k, all))
	if err != nil {
		return err
	}
	emit(b)
	return nil
}

// assembleFn builds the state from the tallies, references and clusters,
// and writes features.json. The fields are features.Config's but its
// signals, which the cluster groups give.
type assembleFn struct {
	Groups       []string
	Folds        int
	Seed         uint64
	Smoothing    float64
	MinReference int
	Out          string
	Clusters     bool
}

func (f *assembleFn) ProcessElement(_ []byte, heads func(*[]byte) bool, sums func(*string, *features.KeyCount) bool,
	refs func(*[]byte) bool, groups func(*[]byte) bool) error {
	t := features.NewTally()
	var b []byte
	for heads(&b) {
		h := features.NewTally()
		if err := json.Unmarshal(b, h); err != nil {
			return err
		}
		if err := t.Merge(h); err != nil {
			return err
		}
	}
	var key string
	var c features.KeyCount
	for sums(&key, &c) {
		var k features.CountKey
		if err := json.Unmarshal([]byte(key), &k); err != nil {
			return err
		}
		t.Counts[k] = c
	}
	var all []features.Reference
	for refs(&b) {
		var r features.Reference
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		all = append(all, r)
	}
	cfg := features.Config{Groups: f.Groups, Folds: f.Folds, Seed: f.Seed, Smoothing: f.Smoothing, MinReference: f.MinReference}
	if f.Clusters {
		m, err := modelOf(pricecluster.SignalConfig(), groups)
		if err != nil {
			return err
		}
		cfg.Signals = []features.Signal{pricecluster.SignalOf(m)}
	}
	st, err := features.Assemble(t, all, cfg)
	if err != nil {
		return err
	}
	return st.WriteFile(f.Out)
}

func init() {
	register.DoFn6x1[fileIn, func([]byte), func(string, features.KeyCount), func(string, float64), func(int64, clusterRow), func(rejectRow), error](&tallyFileFn{})
	register.Function2x1(addCounts)
	register.Function3x1(referenceOf)
	register.DoFn5x1[[]byte, func(*[]byte) bool, func(*string, *features.KeyCount) bool, func(*[]byte) bool, func(*[]byte) bool, error](&assembleFn{})
	register.Emitter2[string, features.KeyCount]()
	register.Emitter2[string, float64]()
	register.Iter2[string, features.KeyCount]()
	register.Iter1[float64]()
}
