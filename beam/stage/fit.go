package stage

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"risklane/features"
	"risklane/features/mirror"
	"risklane/features/pricecluster"
	"risklane/ingest"
	"risklane/ingest/profile"
)

// FitConfig is one fit of the feature state, as risklane train fits it.
type FitConfig struct {
	Inputs  []string
	Profile string
	// Features are the groups and settings, as risklane train's --features,
	// --folds, --smoothing and --seed give them. Its Signals are not used:
	// the price-cluster group is fitted by the cluster stage, the mirror
	// group by the mirror stage from Trade; no other signal group is built.
	Features features.Config
	// Trade, Reporter and Tariffs are risklane train's --trade, --reporter
	// and --tariffs: the trade statistics of the mirror group (in
	// Features.Groups when Trade is given), with its revenue gap's duty
	// rates filled in from the declarations, as train fits it.
	Trade    []string
	Reporter string
	Tariffs  string
	Out      string // features.json
	Rejects  string // rejected rows (CSV); "" for none
	// BatchSize is the rows per record batch read (0: ingest's default).
	BatchSize int
	// Chunk is the values a reader buffers before it emits them, one
	// element per key (0: DefaultChunk; 1: one element per value).
	Chunk int
}

// Fit adds the fit of the feature state to the pipeline:
//
//	files -> read once (rejects: a side output); each file's
//	         features.Tally: counts per key value, in chunks of key values
//	         keyed by shard (a combiner merges a shard's chunks over
//	         files); log unit values by cell (rows with the same
//	         references) keyed by basis and HS2 chapter, and by basis for
//	         the global reference (uvCells); the price-cluster rows keyed by
//	         HS4 group and global group (clusterRows), and (mirror group)
//	         the duties keyed by HS2 chapter, emitted in chunks
//	      -> GroupByKey(chapter): features.ReferenceOf of each reference of
//	         the chapter, exact (median, MAD and quantiles need every value
//	         of the key)
//	      -> GroupByKey(cluster group): pricecluster.FitGroup (Cluster)
//	      -> mirror group: GroupByKey(chapter): the chapter's effective duty
//	         rates (mirror.EffectiveRates, its rows in input order); the
//	         trade files read in parallel (mirror.ReadPart); one worker: the
//	         gaps with those rates (mirror.JoinRates), their signals
//	      -> one writer: features.Assemble, features.json
//
// features.json is byte-identical to the one risklane train writes into
// the model folder (TestFitEqualsRisklaneTrain). It holds no out-of-fold
// statistic: those are the training rows' own features, which Fit computes
// for the trainer and does not save.
func Fit(s beam.Scope, cfg FitConfig) error {
	s = s.Scope("fit")
	clusters, mir := false, false
	for _, g := range cfg.Features.Groups {
		switch {
		case g == pricecluster.GroupName:
			clusters = true
		case g == mirror.GroupName:
			mir = true
		case !slices.Contains(features.BuiltinGroups, g):
			return fmt.Errorf("fit: feature group %s is not built on Beam (only the built-in groups, %s and %s are)", g, pricecluster.GroupName, mirror.GroupName)
		}
	}
	switch {
	case mir && (len(cfg.Trade) == 0 || cfg.Reporter == ""):
		return fmt.Errorf("fit: the mirror feature group needs trade statistics and a reporter (--trade FILE --reporter ISO3)")
	case !mir && (len(cfg.Trade) > 0 || cfg.Reporter != "" || cfg.Tariffs != ""):
		return fmt.Errorf("fit: trade statistics give the mirror features, but the feature groups leave mirror out")
	}
	in := beam.CreateList(s, filesOf(cfg.Inputs))
	heads, counts, uvs, rows, duties, rej := beam.ParDo6(s,
		&tallyFileFn{Profile: cfg.Profile, BatchSize: cfg.BatchSize, Chunk: cfg.Chunk, Clusters: clusters, Mirror: mir}, in)
	if cfg.Rejects != "" {
		writeRejects(s, cfg.Rejects, rej)
	}
	sums := beam.CombinePerKey(s, mergeCounts, counts)
	refs := beam.ParDo(s, referencesOf, beam.GroupByKey(s, uvs))
	groups := beam.ParDo(s, &fitGroupFn{Config: pricecluster.SignalConfig()}, beam.GroupByKey(s, rows))
	sigs := beam.Create(s, []byte{})
	if mir {
		rates := beam.ParDo(s, chapterRates, beam.GroupByKey(s, duties))
		parts := beam.ParDo(s, &readPartFn{Reporter: cfg.Reporter}, beam.CreateList(s, filesOf(cfg.Trade)))
		sigs = beam.ParDo(s, &mirrorSignalsFn{Reporter: cfg.Reporter, Tariffs: cfg.Tariffs},
			beam.GroupByKey(s, beam.AddFixedKey(s, parts)), beam.SideInput{Input: rates})
	}
	fc := cfg.Features
	af := &assembleFn{Groups: fc.Groups, Folds: fc.Folds, Seed: fc.Seed, Smoothing: fc.Smoothing, MinReference: fc.MinReference,
		Out: cfg.Out, Clusters: clusters, Mirror: mir}
	beam.ParDo0(s, af, beam.Impulse(s),
		beam.SideInput{Input: heads}, beam.SideInput{Input: sums}, beam.SideInput{Input: refs}, beam.SideInput{Input: groups},
		beam.SideInput{Input: sigs})
	return nil
}

// dutyRow is one declaration's duty and value (mirror.Duties), dutyChunk a
// chunk of one HS2 chapter's rows of one file, in file order.
type dutyRow struct {
	HS         string
	Tax, Value float64
}

type dutyChunk struct {
	File, Seq int
	Rows      []dutyRow
}

// tallyFileFn reads a file once: its tally, its unit values by reference,
// for the cluster group its rows by cluster group, and for the mirror group
// its duties by HS2 chapter.
type tallyFileFn struct {
	Profile   string
	BatchSize int
	Chunk     int
	Clusters  bool
	Mirror    bool
	prof      *profile.Profile
}

func (f *tallyFileFn) Setup() error {
	var err error
	f.prof, err = profile.Resolve(f.Profile)
	return err
}

func (f *tallyFileFn) ProcessElement(in fileIn, head func([]byte), count func(int, []keyCount), uv func(string, []byte),
	row func(int64, []byte), duty func(string, dutyChunk), reject func(rejectRow)) error {
	t := features.NewTally()
	uvs := newUVCells(f.Chunk, uv)
	cr := newClusterRows(in, f.Chunk, row)
	duties := newChunker(f.Chunk, func(ch string, seq int, rows []dutyRow) {
		duty(ch, dutyChunk{File: in.Index, Seq: seq, Rows: rows})
	})
	var d mirror.Duties
	err := readDecl(f.prof, in, ingest.Options{BatchSize: f.BatchSize, RequireLabels: true}, reject, func(rec arrow.RecordBatch) error {
		if err := t.Add(rec, uvs.add); err != nil {
			return fmt.Errorf("%s: %w", in.Path, err)
		}
		if f.Clusters {
			if err := cr.add(rec); err != nil {
				return err
			}
		}
		if f.Mirror {
			d = mirror.Duties{HS: d.HS[:0], Taxes: d.Taxes[:0], Value: d.Value[:0]}
			if err := d.Append(rec); err != nil {
				return fmt.Errorf("%s: %w", in.Path, err)
			}
			for i, hs := range d.HS {
				// Codes shorter than 6 have no rate (mirror.EffectiveRates).
				if len(hs) >= 6 {
					duties.add(hs[:2], dutyRow{HS: hs, Tax: d.Taxes[i], Value: d.Value[i]})
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := uvs.finish(); err != nil {
		return fmt.Errorf("%s: %w", in.Path, err)
	}
	cr.flush()
	duties.flush()
	emitCounts(t.Counts, f.Chunk, count)
	t.Counts = nil
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	head(b)
	return nil
}

// countShards is the keys the counts are combined under: a key value's
// counts go to the shard of its hash, so one shard's combiner sums them.
const countShards = 64

// keyCount is one key value's counts.
type keyCount struct {
	Key   features.CountKey
	Count features.KeyCount
}

func compareCountKeys(a, b features.CountKey) int {
	return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.A, b.A), cmp.Compare(a.B, b.B))
}

// emitCounts emits a file's counts per shard, sorted by key value, in
// chunks of at most chunk key values (0: DefaultChunk; 1: one element per
// key value, the shape before chunks).
func emitCounts(counts map[features.CountKey]features.KeyCount, chunk int, emit func(int, []keyCount)) {
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	shards := make([][]keyCount, countShards)
	for k, c := range counts {
		h := fnv.New32a()
		for _, s := range [...]string{k.Key, k.A, k.B} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		sh := h.Sum32() % countShards
		shards[sh] = append(shards[sh], keyCount{Key: k, Count: c})
	}
	for sh, kcs := range shards {
		slices.SortFunc(kcs, func(a, b keyCount) int { return compareCountKeys(a.Key, b.Key) })
		for len(kcs) > 0 {
			n := min(chunk, len(kcs))
			emit(sh, kcs[:n])
			kcs = kcs[n:]
		}
	}
}

// mergeCounts merges two lists of counts sorted by key value, summing a
// value's counts (integers: exact in any order).
func mergeCounts(a, b []keyCount) []keyCount {
	out := make([]keyCount, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch c := compareCountKeys(a[0].Key, b[0].Key); {
		case c < 0:
			out, a = append(out, a[0]), a[1:]
		case c > 0:
			out, b = append(out, b[0]), b[1:]
		default:
			kc := a[0]
			kc.Count.Add(b[0].Count)
			out, a, b = append(out, kc), a[1:], b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// chapterRates computes the effective duty rates of one HS2 chapter from
// its declarations in input order (gob: a rate may be infinite).
func chapterRates(_ string, chunks func(*dutyChunk) bool, emit func([]byte)) error {
	var all []dutyChunk
	var c dutyChunk
	for chunks(&c) {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b dutyChunk) int { return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Seq, b.Seq)) })
	var d mirror.Duties
	for _, c := range all {
		for _, r := range c.Rows {
			d.HS, d.Taxes, d.Value = append(d.HS, r.HS), append(d.Taxes, r.Tax), append(d.Value, r.Value)
		}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(mirror.EffectiveRates(d.HS, d.Taxes, d.Value).RatesPct()); err != nil {
		return err
	}
	emit(buf.Bytes())
	return nil
}

// mirrorSignalsFn builds the mirror group's signal dictionary (JSON) as
// risklane train's mirror group fits it: the trade files' parts in file
// order, the tariffs of --tariffs, the rates the declarations show.
type mirrorSignalsFn struct {
	Reporter, Tariffs string
}

func (f *mirrorSignalsFn) ProcessElement(_ int, parts func(*filePart) bool, rates func(*[]byte) bool, emit func([]byte)) error {
	var all []map[string]float64
	var b []byte
	for rates(&b) {
		var m map[string]float64
		if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&m); err != nil {
			return err
		}
		all = append(all, m)
	}
	eff, err := mirror.JoinRates(mirror.DeclaredSource, all...)
	if err != nil {
		return err
	}
	cfg := MirrorConfig{Reporter: f.Reporter, MinValue: mirror.FeatureMinValue, Tariffs: f.Tariffs}
	g, err := gapsOf(cfg, eff, parts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := g.Signals().WriteJSON(&buf); err != nil {
		return err
	}
	emit(buf.Bytes())
	return nil
}

// assembleFn builds the state from the tallies, references and clusters,
// and writes features.json. The fields are features.Config's but its
// signals, which the cluster groups and the mirror signals give.
type assembleFn struct {
	Groups       []string
	Folds        int
	Seed         uint64
	Smoothing    float64
	MinReference int
	Out          string
	Clusters     bool
	Mirror       bool
}

func (f *assembleFn) ProcessElement(_ []byte, heads func(*[]byte) bool, sums func(*int, *[]keyCount) bool,
	refs func(*[]byte) bool, groups func(*[]byte) bool, sigs func(*[]byte) bool) error {
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
	var shard int
	var kcs []keyCount
	for sums(&shard, &kcs) {
		for _, kc := range kcs {
			if _, dup := t.Counts[kc.Key]; dup {
				return fmt.Errorf("internal error: key value %v in two shards", kc.Key)
			}
			t.Counts[kc.Key] = kc.Count
		}
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
		cfg.Signals = append(cfg.Signals, pricecluster.SignalOf(m))
	}
	for sigs(&b) {
		if !f.Mirror || len(b) == 0 {
			continue
		}
		ms, err := mirror.ReadSignals(bytes.NewReader(b))
		if err != nil {
			return err
		}
		cfg.Signals = append(cfg.Signals, mirror.FeatureOf(ms))
	}
	st, err := features.Assemble(t, all, cfg)
	if err != nil {
		return err
	}
	return st.WriteFile(f.Out)
}

func init() {
	register.DoFn7x1[fileIn, func([]byte), func(int, []keyCount), func(string, []byte), func(int64, []byte),
		func(string, dutyChunk), func(rejectRow), error](&tallyFileFn{})
	register.Function2x1(mergeCounts)
	register.Function3x1(referencesOf)
	register.Function3x1(chapterRates)
	register.DoFn4x1[int, func(*filePart) bool, func(*[]byte) bool, func([]byte), error](&mirrorSignalsFn{})
	register.DoFn6x1[[]byte, func(*[]byte) bool, func(*int, *[]keyCount) bool, func(*[]byte) bool, func(*[]byte) bool,
		func(*[]byte) bool, error](&assembleFn{})
	register.Emitter2[int, []keyCount]()
	register.Emitter2[string, []byte]()
	register.Emitter2[string, dutyChunk]()
	register.Iter2[int, []keyCount]()
	register.Iter1[dutyChunk]()
}
