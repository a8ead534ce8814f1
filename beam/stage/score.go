package stage

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"risklane/decl"
	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/models"
	"risklane/pipeline/rank"
	"risklane/pipeline/run"
	"risklane/pipeline/score"
)

// ScoreConfig is one scoring run, as risklane score takes it.
type ScoreConfig struct {
	Inputs  []string
	Profile string // built-in name or YAML file
	// ModelDir is read here, where the pipeline is built; its files travel
	// to the workers as a side input.
	ModelDir string
	Out      string // ranked file, .parquet or .csv
	Rejects  string // rejected rows (CSV); "" for none
	Plan     rank.Plan
	RankBy   models.RankBy
	// BatchSize is the rows per record batch read (0: run.DefaultBatchSize).
	BatchSize int
	// Buckets is the number of score ranges the global sort is cut into by
	// approximate quantiles (0: 64); each range is sorted by one worker.
	Buckets int
}

// Score adds the scoring run to the pipeline:
//
//	files -> read and score (the model folder's files: a side input;
//	         rejects: a side output; accepted rows per file)
//	      -> global ordinals (input order across files, from the counts)
//	      -> approximate quantiles of the rank keys cut the sort into ranges
//	      -> each range sorted exactly; its offset from the ranges' counts;
//	         lanes and exploration draws placed by rank.Plan.Cut
//	      -> reasons: the files read again for the rows at or above the last
//	         red or yellow key, joined by ordinal
//	      -> one writer, in rank order, through pipeline/rank
//
// The ranked file is byte-identical to risklane score's for the same
// inputs, model and plan (TestScoreEqualsRisklaneScore). The model ID and
// run_id are computed here, at construction: the run_id reads every input
// once for its checksum, as risklane score does.
func Score(s beam.Scope, cfg ScoreConfig) error {
	s = s.Scope("score")
	prof, err := profile.Resolve(cfg.Profile)
	if err != nil {
		return err
	}
	m, err := run.LoadModel(cfg.ModelDir)
	if err != nil {
		return err
	}
	if cfg.RankBy == "" {
		cfg.RankBy = models.ByProbability
	}
	if err := models.CheckRankBy(m, cfg.RankBy); err != nil {
		return err
	}
	runID, err := run.RunIDOf(cfg.Inputs, prof, m.ID(), cfg.Plan, cfg.RankBy)
	if err != nil {
		return err
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = run.DefaultBatchSize
	}
	if cfg.Buckets <= 0 {
		cfg.Buckets = 64
	}
	files := make([]fileIn, len(cfg.Inputs))
	for i, p := range cfg.Inputs {
		files[i] = fileIn{Index: i, Path: p}
	}
	in := beam.CreateList(s, files)
	blobs, err := readModel(cfg.ModelDir)
	if err != nil {
		return err
	}
	model := beam.CreateList(s, blobs)
	read := readSpec{Profile: cfg.Profile, RankBy: string(cfg.RankBy), BatchSize: cfg.BatchSize}
	scored, rejects, counts := beam.ParDo3(s, &scoreFileFn{readSpec: read}, in, beam.SideInput{Input: model})
	if cfg.Rejects != "" {
		writeRejects(s, cfg.Rejects, rejects)
	}
	keyed := beam.ParDo(s, &globalKeyFn{}, scored, beam.SideInput{Input: counts})

	// The sort: ranges by approximate quantiles, each sorted exactly.
	sortKeys := beam.ParDo(s, sortKeyOf, keyed)
	bounds := stats.ApproximateQuantiles(s, sortKeys, lessInt64, stats.Opts{K: 200, NumQuantiles: cfg.Buckets})
	bucketed := beam.ParDo(s, bucketOf, keyed, beam.SideInput{Input: bounds})
	sizes := stats.Count(s, beam.DropValue(s, bucketed))
	explained, plain, cuts := beam.ParDo3(s, &sortRangeFn{Plan: cfg.Plan}, beam.GroupByKey(s, bucketed),
		beam.SideInput{Input: sizes})
	cut := beam.Combine(s, mergeCuts, cuts)

	// Reasons: a second read, for the rows at or above the cut.
	reasons := beam.ParDo(s, &reasonsFn{readSpec: read}, in, beam.SideInput{Input: model}, beam.SideInput{Input: counts},
		beam.SideInput{Input: cut})
	joined := beam.ParDo(s, joinReasons, beam.CoGroupByKey(s, explained, reasons))

	all := beam.Flatten(s, joined, plain)
	beam.ParDo0(s, &writeRankedFn{Out: cfg.Out, ModelID: m.ID(), RunID: runID},
		beam.GroupByKey(s, beam.AddFixedKey(s, all)))
	return nil
}

// fileIn is one input file and its place in the input order.
type fileIn struct {
	Index int
	Path  string
}

// scoredRow is a row after scoring: its file, its ordinal among the file's
// accepted rows, and what the ranked file needs.
type scoredRow struct {
	File int
	Ord  int64
	Key  float32 // the ranking score rank.MakeKey packs
	Prob float32
	Rev  float64
	ID   string
}

// keyedRow is a scored row with its rank key (as sortKey) and global ordinal.
type keyedRow struct {
	Sort int64
	Ord  int64
	Prob float32
	Rev  float64
	ID   string
}

// rankedRow is a row of the ranked file before its reasons are joined.
type rankedRow struct {
	Rank    int64 // 1-based
	Ord     int64
	ID      string
	Prob    float32
	Rev     float64
	Lane    string
	Reasons string
}

// fileCount is a file's accepted rows: the offsets of the global ordinals.
type fileCount struct {
	File     int
	Accepted int64
}

// rejectRow is a rejected row, with its file and its place among the file's
// rejects, so that the rejects file keeps the input order.
type rejectRow struct {
	File                int
	Seq                 int64
	Path, Column, Value string
	Line                int64
	Reason              string
}

// cutKey is the sort key of the last row that may be red or yellow: the rows
// at or above it are the ones that may need reasons.
type cutKey struct {
	Has  bool
	Sort int64
}

// sortKey maps a rank.Key to an int64 of the same order (Beam's coders and
// the quantiles compare signed integers).
func sortKey(k rank.Key) int64 { return int64(uint64(k) ^ 1<<63) }

func keyOf(sort int64) rank.Key { return rank.Key(uint64(sort) ^ 1<<63) }

// modelFile is one file of the model folder, travelling as a side input:
// the workers need not see the folder the pipeline was built from.
type modelFile struct {
	Name string
	Data []byte
}

// readModel reads the model folder's files, as models.ReadFolder will
// check them again on each worker.
func readModel(dir string) ([]modelFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []modelFile
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, modelFile{Name: e.Name(), Data: b})
	}
	return out, nil
}

// readSpec is what a DoFn needs to read and score files. The profile and
// the model load once per DoFn instance, on its first element (the model
// comes as a side input, which Setup cannot see).
type readSpec struct {
	Profile   string
	RankBy    string
	BatchSize int

	prof   *profile.Profile
	worker *score.Worker
}

func (r *readSpec) setup(files func(*modelFile) bool) error {
	if r.worker != nil {
		return nil
	}
	p, err := profile.Resolve(r.Profile)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "risklane-beam-model-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var f modelFile
	for files(&f) {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f.Name)), f.Data, 0o600); err != nil {
			return err
		}
	}
	m, err := run.LoadModel(dir)
	if err != nil {
		return err
	}
	w, err := score.NewWorker(m, models.RankBy(r.RankBy))
	if err != nil {
		return err
	}
	r.prof, r.worker = p, w
	return nil
}

// each reads a file and calls fn with every batch's scores, the batch and
// its first ordinal in the file. rejects, if not nil, receives the rejected
// rows in input order.
func (r *readSpec) each(path string, rejects func(ingest.Reject), fn func(b batchScores) error) (int64, error) {
	opt := ingest.Options{BatchSize: r.BatchSize}
	var mu sync.Mutex
	var pending []ingest.Reject
	if rejects != nil {
		opt.Rejects = rejectFunc(func(rj ingest.Reject) error {
			mu.Lock()
			pending = append(pending, rj)
			mu.Unlock()
			return nil
		})
	}
	flush := func() {
		mu.Lock()
		p := pending
		pending = nil
		mu.Unlock()
		for _, rj := range p {
			rejects(rj)
		}
	}
	rd, err := ingest.Open(path, r.prof, opt)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	var start int64
	var b batchScores
	for rd.Next() {
		rec := rd.RecordBatch()
		n := int(rec.NumRows())
		b.rec, b.start = rec, start
		b.prob, b.rev, b.key = grow(b.prob, n), grow(b.rev, n), grow(b.key, n)
		if err := r.worker.Score(rec, int(start), b.prob, b.rev, b.key); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(b); err != nil {
			return 0, err
		}
		start += int64(n)
		if rejects != nil {
			flush()
		}
	}
	if err := rd.Err(); err != nil {
		return 0, err
	}
	rd.Close()
	if rejects != nil {
		flush()
	}
	return start, nil
}

type batchScores struct {
	rec   arrow.RecordBatch
	start int64
	prob  []float32
	rev   []float64
	key   []float32
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

type rejectFunc func(ingest.Reject) error

func (f rejectFunc) Reject(r ingest.Reject) error { return f(r) }

// scoreFileFn reads and scores one file.
type scoreFileFn struct {
	readSpec
}

func (f *scoreFileFn) ProcessElement(in fileIn, model func(*modelFile) bool, emit func(scoredRow), reject func(rejectRow),
	count func(fileCount)) error {
	if err := f.setup(model); err != nil {
		return err
	}
	var seq int64
	rejects := func(r ingest.Reject) {
		reject(rejectRow{File: in.Index, Seq: seq, Path: r.File, Line: r.Line, Column: r.Column, Value: r.Value, Reason: r.Reason})
		seq++
	}
	n, err := f.each(in.Path, rejects, func(b batchScores) error {
		ids, err := decl.Need[*array.String](b.rec, decl.DeclarationID)
		if err != nil {
			return fmt.Errorf("%s: %w", in.Path, err)
		}
		for i := range b.prob {
			emit(scoredRow{File: in.Index, Ord: b.start + int64(i), Key: b.key[i], Prob: b.prob[i], Rev: b.rev[i], ID: ids.Value(i)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	count(fileCount{File: in.Index, Accepted: n})
	return nil
}

// offsets returns the global ordinal of each file's first row.
func offsets(counts func(*fileCount) bool) map[int]int64 {
	var all []fileCount
	var c fileCount
	for counts(&c) {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b fileCount) int { return a.File - b.File })
	off := make(map[int]int64, len(all))
	var sum int64
	for _, c := range all {
		off[c.File] = sum
		sum += c.Accepted
	}
	return off
}

// globalKeyFn gives each row its ordinal among all accepted rows, in input
// order, and its rank key.
type globalKeyFn struct {
	off map[int]int64
}

func (f *globalKeyFn) ProcessElement(r scoredRow, counts func(*fileCount) bool, emit func(keyedRow)) error {
	if f.off == nil {
		f.off = offsets(counts)
	}
	ord := f.off[r.File] + r.Ord
	if ord > 1<<32-1 {
		return fmt.Errorf("more than %d rows: split the input into several runs", int64(1<<32-1))
	}
	emit(keyedRow{Sort: sortKey(rank.MakeKey(r.Key, uint32(ord))), Ord: ord, Prob: r.Prob, Rev: r.Rev, ID: r.ID})
	return nil
}

func sortKeyOf(r keyedRow) int64 { return r.Sort }

func lessInt64(a, b int64) bool { return a < b }

// bucketOf keys a row by the score range it falls in.
func bucketOf(r keyedRow, bounds []int64) (int, keyedRow) {
	b, _ := slices.BinarySearch(bounds, r.Sort)
	// A row equal to a bound goes to the range above it, so the ranges are
	// [bounds[b-1], bounds[b]).
	if b < len(bounds) && bounds[b] == r.Sort {
		b++
	}
	return b, r
}

// sortRangeFn sorts one score range and places its rows: rank, lane, and
// whether they need reasons.
type sortRangeFn struct {
	Plan rank.Plan
}

func (f *sortRangeFn) ProcessElement(bucket int, rows func(*keyedRow) bool, sizes func(*int, *int) bool,
	explained func(int64, rankedRow), plain func(rankedRow), cut func(cutKey)) error {
	var n, offset int
	var b, c int
	for sizes(&b, &c) {
		n += c
		if b < bucket {
			offset += c
		}
	}
	var all []keyedRow
	var r keyedRow
	for rows(&r) {
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b keyedRow) int {
		switch {
		case a.Sort < b.Sort:
			return -1
		case a.Sort > b.Sort:
			return 1
		}
		return 0
	})
	lanes, draws, err := f.Plan.Cut(n)
	if err != nil {
		return err
	}
	last := cutKey{}
	for i, r := range all {
		pos := offset + i
		rk := draws.Rank(pos)
		row := rankedRow{Rank: int64(rk + 1), Ord: r.Ord, ID: r.ID, Prob: r.Prob, Rev: r.Rev, Lane: string(lanes.Lane(rk))}
		if pos < lanes.Red+lanes.Yellow {
			last = cutKey{Has: true, Sort: r.Sort}
		}
		switch {
		case lanes.Exploration(rk):
			row.Reasons = score.ExplorationReason
			plain(row)
		case lanes.Explained(rk):
			explained(r.Ord, row)
		default:
			plain(row)
		}
	}
	cut(last)
	return nil
}

// mergeCuts keeps the lowest key that may need reasons.
func mergeCuts(a, b cutKey) cutKey {
	switch {
	case !a.Has:
		return b
	case !b.Has:
		return a
	case b.Sort > a.Sort:
		return b
	}
	return a
}

// reasonsFn reads a file again and words the reasons of its rows at or above
// the cut (the red and yellow rows, and the few exploration draws among
// them, whose reasons the join drops).
type reasonsFn struct {
	readSpec
	off map[int]int64
}

func (f *reasonsFn) ProcessElement(in fileIn, model func(*modelFile) bool, counts func(*fileCount) bool, cut cutKey,
	emit func(int64, string)) error {
	if !cut.Has {
		return nil
	}
	if err := f.setup(model); err != nil {
		return err
	}
	if f.off == nil {
		f.off = offsets(counts)
	}
	base := f.off[in.Index]
	var rows []int
	_, err := f.each(in.Path, nil, func(b batchScores) error {
		rows = rows[:0]
		for i, k := range b.key {
			ord := base + b.start + int64(i)
			if sortKey(rank.MakeKey(k, uint32(ord))) <= cut.Sort {
				rows = append(rows, i)
			}
		}
		if len(rows) == 0 {
			return nil
		}
		text, err := f.worker.Reasons(b.rec, int(base+b.start), rows)
		if err != nil {
			return fmt.Errorf("%s: %w", in.Path, err)
		}
		for j, i := range rows {
			emit(base+b.start+int64(i), text[j])
		}
		return nil
	})
	return err
}

// joinReasons gives an explained row its reasons.
func joinReasons(ord int64, rows func(*rankedRow) bool, reasons func(*string) bool, emit func(rankedRow)) error {
	var r rankedRow
	if !rows(&r) {
		return nil // at or above the cut but not explained: an exploration draw
	}
	var text string
	if !reasons(&text) {
		return fmt.Errorf("internal error: row %d (rank %d) has no reasons", ord+1, r.Rank)
	}
	r.Reasons = text
	emit(r)
	return nil
}

// writeRankedFn writes the ranked file, in rank order, through
// pipeline/rank: one writer, as the file is one file.
type writeRankedFn struct {
	Out     string
	ModelID string
	RunID   string
}

func (f *writeRankedFn) ProcessElement(_ int, rows func(*rankedRow) bool) error {
	var all []rankedRow
	var r rankedRow
	for rows(&r) {
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b rankedRow) int { return int(a.Rank - b.Rank) })
	for i, r := range all {
		if r.Rank != int64(i+1) {
			return fmt.Errorf("internal error: rank %d at position %d", r.Rank, i+1)
		}
	}
	w, err := rank.Create(f.Out, rank.RunMeta(f.ModelID, f.RunID)...)
	if err != nil {
		return err
	}
	defer w.Abort()
	out := make([]rank.Row, 0, rank.RowGroupRows)
	for start := 0; start < len(all); start += rank.RowGroupRows {
		out = out[:0]
		for _, r := range all[start:min(start+rank.RowGroupRows, len(all))] {
			out = append(out, rank.Row{Rank: r.Rank, DeclarationID: r.ID, Score: r.Prob, ExpectedRevenue: r.Rev,
				Lane: rank.Lane(r.Lane), Reasons: r.Reasons, ModelID: f.ModelID, RunID: f.RunID})
		}
		if err := w.Write(out); err != nil {
			return err
		}
	}
	_, err = w.Commit()
	return err
}

// writeRejects writes the rejected rows in input order, as risklane score's
// --rejects does.
func writeRejects(s beam.Scope, path string, rejects beam.PCollection) {
	beam.ParDo0(s, &writeRejectsFn{Path: path}, beam.GroupByKey(s, beam.AddFixedKey(s, rejects)))
}

type writeRejectsFn struct {
	Path string
}

func (f *writeRejectsFn) ProcessElement(_ int, rows func(*rejectRow) bool) error {
	var all []rejectRow
	var r rejectRow
	for rows(&r) {
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b rejectRow) int {
		if a.File != b.File {
			return a.File - b.File
		}
		return int(a.Seq - b.Seq)
	})
	out, err := ingest.CreateRejectFile(f.Path)
	if err != nil {
		return err
	}
	defer out.Abort()
	for _, r := range all {
		if err := out.Reject(ingest.Reject{File: r.Path, Line: r.Line, Column: r.Column, Value: r.Value, Reason: r.Reason}); err != nil {
			return err
		}
	}
	return out.Commit()
}

func init() {
	register.DoFn5x1[fileIn, func(*modelFile) bool, func(scoredRow), func(rejectRow), func(fileCount), error](&scoreFileFn{})
	register.DoFn3x1[scoredRow, func(*fileCount) bool, func(keyedRow), error](&globalKeyFn{})
	register.Function1x1(sortKeyOf)
	register.Function2x1(lessInt64)
	register.Function2x2(bucketOf)
	register.DoFn6x1[int, func(*keyedRow) bool, func(*int, *int) bool, func(int64, rankedRow), func(rankedRow), func(cutKey), error](&sortRangeFn{})
	register.Function2x1(mergeCuts)
	register.DoFn5x1[fileIn, func(*modelFile) bool, func(*fileCount) bool, cutKey, func(int64, string), error](&reasonsFn{})
	register.Function4x1(joinReasons)
	register.DoFn2x1[int, func(*rankedRow) bool, error](&writeRankedFn{})
	register.DoFn2x1[int, func(*rejectRow) bool, error](&writeRejectsFn{})
	register.Emitter1[scoredRow]()
	register.Emitter1[rejectRow]()
	register.Emitter1[fileCount]()
	register.Emitter1[keyedRow]()
	register.Emitter2[int64, rankedRow]()
	register.Emitter1[rankedRow]()
	register.Emitter1[cutKey]()
	register.Emitter2[int64, string]()
	register.Iter1[fileCount]()
	register.Iter1[modelFile]()
	register.Iter1[keyedRow]()
	register.Iter2[int, int]()
	register.Iter1[rankedRow]()
	register.Iter1[string]()
	register.Iter1[rejectRow]()
}
