package stage

import (
	"cmp"
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
//	         rejects: a side output; accepted rows per file); one element
//	         per record batch, and a sample of each batch's rank keys
//	      -> the samples' quantiles cut the sort into --buckets ranges
//	      -> each batch's rows keyed by range, with their global ordinals
//	         (input order across files, from the counts)
//	      -> each range sorted exactly; its offset from the ranges' counts;
//	         lanes and exploration draws placed by rank.Plan.Cut
//	      -> reasons: the files read again for the rows at or above the last
//	         red or yellow key
//	      -> one writer joins the reasons by ordinal and writes, in rank
//	         order, through pipeline/rank
//
// Rows travel in batches (a record batch, or a batch's rows of one range),
// never one row per element: on Prism an element costs many times the work
// risklane does for a row (docs/beam.md).
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
	scored, samples, rejects, counts := beam.ParDo4(s, &scoreFileFn{readSpec: read}, in, beam.SideInput{Input: model})
	if cfg.Rejects != "" {
		writeRejects(s, cfg.Rejects, rejects)
	}

	// The sort: ranges cut at the quantiles of a sample of the keys, each
	// range sorted exactly.
	bounds := beam.ParDo(s, &boundsFn{Buckets: cfg.Buckets}, beam.Combine(s, appendSamples, samples))
	ranged := beam.ParDo(s, &rangeRowsFn{}, scored, beam.SideInput{Input: counts}, beam.SideInput{Input: bounds})
	sizes := stats.SumPerKey(s, beam.ParDo(s, rangeSize, ranged))
	ranked, cuts := beam.ParDo2(s, &sortRangeFn{Plan: cfg.Plan}, beam.GroupByKey(s, ranged), beam.SideInput{Input: sizes})
	cut := beam.Combine(s, mergeCuts, cuts)

	// Reasons: a second read, for the rows at or above the cut.
	reasons := beam.ParDo(s, &reasonsFn{readSpec: read}, in, beam.SideInput{Input: model}, beam.SideInput{Input: counts},
		beam.SideInput{Input: cut})
	beam.ParDo0(s, &writeRankedFn{Out: cfg.Out, ModelID: m.ID(), RunID: runID},
		beam.CoGroupByKey(s, beam.AddFixedKey(s, ranked), beam.AddFixedKey(s, reasons)))
	return nil
}

// fileIn is one input file and its place in the input order.
type fileIn struct {
	Index int
	Path  string
}

// scoredBatch is one record batch of a file after scoring: per row the
// ranking score (the float32 rank.MakeKey packs), the probability, the
// expected revenue and the declaration ID. Start is the first row's ordinal
// among the file's accepted rows.
type scoredBatch struct {
	File  int
	Start int64
	Key   []float32
	Prob  []float32
	Rev   []float64
	ID    []string
}

// rangeRows are the rows of one batch that fall in one score range: their
// sort keys (rank key with the global ordinal, as sortKey), probabilities,
// expected revenues and IDs.
type rangeRows struct {
	Sort []int64
	Prob []float32
	Rev  []float64
	ID   []string
}

// rankedBatch is one score range's rows, placed: 1-based rank, global
// ordinal (the reasons' key), what the ranked file needs, and the mark:
// the lane and how the row gets its reasons.
type rankedBatch struct {
	Rank []int64
	Ord  []int64
	ID   []string
	Prob []float32
	Rev  []float64
	Mark []uint8
}

// A mark's lane (the low bits) and reasons (the flags).
const (
	markGreen uint8 = iota
	markYellow
	markRed
	markLane      uint8 = 3
	markExplore   uint8 = 4 // an exploration draw: score.ExplorationReason
	markExplained uint8 = 8 // red or yellow, chosen by the model: its reasons
)

var markLanes = [...]rank.Lane{markGreen: rank.Green, markYellow: rank.Yellow, markRed: rank.Red}

func markOf(l rank.Lane) uint8 {
	switch l {
	case rank.Red:
		return markRed
	case rank.Yellow:
		return markYellow
	}
	return markGreen
}

// reasonsBatch is the reasons of one batch's rows at or above the cut, by
// global ordinal.
type reasonsBatch struct {
	Ord  []int64
	Text []string
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

// sampleEvery is the stride of the rank-key sample each batch gives the
// range bounds: one key in 32, taken from the batch's keys in sorted order.
// The bounds only balance the ranges; the order within and across ranges
// is exact whatever they are.
const sampleEvery = 32

// scoreFileFn reads and scores one file: one element per record batch, and
// a sample of each batch's rank keys.
type scoreFileFn struct {
	readSpec
}

func (f *scoreFileFn) ProcessElement(in fileIn, model func(*modelFile) bool, emit func(scoredBatch), sample func([]int64),
	reject func(rejectRow), count func(fileCount)) error {
	if err := f.setup(model); err != nil {
		return err
	}
	var seq int64
	rejects := func(r ingest.Reject) {
		reject(rejectRow{File: in.Index, Seq: seq, Path: r.File, Line: r.Line, Column: r.Column, Value: r.Value, Reason: r.Reason})
		seq++
	}
	var keys []int64
	n, err := f.each(in.Path, rejects, func(b batchScores) error {
		ids, err := decl.Need[*array.String](b.rec, decl.DeclarationID)
		if err != nil {
			return fmt.Errorf("%s: %w", in.Path, err)
		}
		out := scoredBatch{File: in.Index, Start: b.start, Key: slices.Clone(b.key), Prob: slices.Clone(b.prob),
			Rev: slices.Clone(b.rev), ID: make([]string, len(b.key))}
		keys = keys[:0]
		for i := range out.ID {
			out.ID[i] = ids.Value(i)
			// The file's ordinal stands in for the global one, unknown
			// yet: the sample only places the bounds.
			keys = append(keys, sortKey(rank.MakeKey(b.key[i], uint32(b.start+int64(i)))))
		}
		emit(out)
		slices.Sort(keys)
		var s []int64
		for i := sampleEvery / 2; i < len(keys); i += sampleEvery {
			s = append(s, keys[i])
		}
		sample(s)
		return nil
	})
	if err != nil {
		return err
	}
	sample(nil) // at least one sample element, whatever the file holds
	count(fileCount{File: in.Index, Accepted: n})
	return nil
}

func appendSamples(a, b []int64) []int64 { return append(a, b...) }

// boundsFn cuts the sample into Buckets ranges of about equal size: the
// Buckets-1 keys between them, ascending and distinct.
type boundsFn struct {
	Buckets int
}

func (f *boundsFn) ProcessElement(sample []int64) []int64 {
	sample = slices.Clone(sample)
	slices.Sort(sample)
	bounds := []int64{}
	for i := 1; i < f.Buckets && len(sample) > 0; i++ {
		bounds = append(bounds, sample[i*len(sample)/f.Buckets])
	}
	return slices.Compact(bounds)
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

// rangeRowsFn gives each row of a batch its ordinal among all accepted
// rows, in input order, and its rank key, and keys the batch's rows by the
// score range they fall in: range b holds the keys in [bounds[b-1],
// bounds[b]).
type rangeRowsFn struct {
	off map[int]int64
}

func (f *rangeRowsFn) ProcessElement(b scoredBatch, counts func(*fileCount) bool, bounds []int64, emit func(int, rangeRows)) error {
	if f.off == nil {
		f.off = offsets(counts)
	}
	start := f.off[b.File] + b.Start
	if start+int64(len(b.Key))-1 > 1<<32-1 {
		return fmt.Errorf("more than %d rows: split the input into several runs", int64(1<<32-1))
	}
	out := make([]rangeRows, len(bounds)+1)
	for i, k := range b.Key {
		key := sortKey(rank.MakeKey(k, uint32(start+int64(i))))
		r, found := slices.BinarySearch(bounds, key)
		if found {
			r++
		}
		o := &out[r]
		o.Sort, o.Prob, o.Rev, o.ID = append(o.Sort, key), append(o.Prob, b.Prob[i]), append(o.Rev, b.Rev[i]), append(o.ID, b.ID[i])
	}
	for r, o := range out {
		if len(o.Sort) > 0 {
			emit(r, o)
		}
	}
	return nil
}

func rangeSize(r int, rows rangeRows) (int, int) { return r, len(rows.Sort) }

// sortRangeFn sorts one score range and places its rows: rank, lane, and
// how they get their reasons.
type sortRangeFn struct {
	Plan rank.Plan
}

func (f *sortRangeFn) ProcessElement(r int, parts func(*rangeRows) bool, sizes func(*int, *int) bool,
	emit func(rankedBatch), cut func(cutKey)) error {
	var n, offset int
	var b, c int
	for sizes(&b, &c) {
		n += c
		if b < r {
			offset += c
		}
	}
	var all, p rangeRows
	for parts(&p) {
		all.Sort, all.Prob, all.Rev, all.ID = append(all.Sort, p.Sort...), append(all.Prob, p.Prob...),
			append(all.Rev, p.Rev...), append(all.ID, p.ID...)
	}
	order := make([]int32, len(all.Sort))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(all.Sort[a], all.Sort[b]) })
	lanes, draws, err := f.Plan.Cut(n)
	if err != nil {
		return err
	}
	m := len(order)
	out := rankedBatch{Rank: make([]int64, m), Ord: make([]int64, m), ID: make([]string, m), Prob: make([]float32, m),
		Rev: make([]float64, m), Mark: make([]uint8, m)}
	last := cutKey{}
	for i, j := range order {
		pos := offset + i
		rk := draws.Rank(pos)
		out.Rank[i], out.Ord[i] = int64(rk+1), int64(keyOf(all.Sort[j]).Ord())
		out.ID[i], out.Prob[i], out.Rev[i] = all.ID[j], all.Prob[j], all.Rev[j]
		mark := markOf(lanes.Lane(rk))
		switch {
		case lanes.Exploration(rk):
			mark |= markExplore
		case lanes.Explained(rk):
			mark |= markExplained
		}
		out.Mark[i] = mark
		if pos < lanes.Red+lanes.Yellow {
			last = cutKey{Has: true, Sort: all.Sort[j]}
		}
	}
	emit(out)
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
// them, whose reasons the writer drops), one element per batch.
type reasonsFn struct {
	readSpec
	off map[int]int64
}

func (f *reasonsFn) ProcessElement(in fileIn, model func(*modelFile) bool, counts func(*fileCount) bool, cut cutKey,
	emit func(reasonsBatch)) error {
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
		out := reasonsBatch{Ord: make([]int64, len(rows)), Text: text}
		for j, i := range rows {
			out.Ord[j] = base + b.start + int64(i)
		}
		emit(out)
		return nil
	})
	return err
}

// writeRankedFn joins the reasons to the red and yellow rows and writes the
// ranked file, in rank order, through pipeline/rank: one writer, as the
// file is one file.
type writeRankedFn struct {
	Out     string
	ModelID string
	RunID   string
}

func (f *writeRankedFn) ProcessElement(_ int, batches func(*rankedBatch) bool, reasons func(*reasonsBatch) bool) error {
	var all []rankedBatch
	var b rankedBatch
	n := 0
	for batches(&b) {
		all = append(all, b)
		n += len(b.Rank)
		b = rankedBatch{}
	}
	// at[rank-1] is the row's batch and place in it.
	at := make([]uint64, n)
	for j, b := range all {
		for i, rk := range b.Rank {
			if rk < 1 || rk > int64(n) || at[rk-1] != 0 {
				return fmt.Errorf("internal error: rank %d of %d rows out of range or given twice", rk, n)
			}
			at[rk-1] = (uint64(j)<<32 | uint64(i)) + 1
		}
	}
	text := map[int64]string{}
	var rb reasonsBatch
	for reasons(&rb) {
		for i, ord := range rb.Ord {
			text[ord] = rb.Text[i]
		}
	}
	w, err := rank.Create(f.Out, rank.RunMeta(f.ModelID, f.RunID)...)
	if err != nil {
		return err
	}
	defer w.Abort()
	out := make([]rank.Row, 0, rank.RowGroupRows)
	for start := 0; start < n; start += rank.RowGroupRows {
		out = out[:0]
		for r := start; r < min(start+rank.RowGroupRows, n); r++ {
			p := at[r] - 1
			b, i := &all[p>>32], int(p&(1<<32-1))
			mark := b.Mark[i]
			row := rank.Row{Rank: b.Rank[i], DeclarationID: b.ID[i], Score: b.Prob[i], ExpectedRevenue: b.Rev[i],
				Lane: markLanes[mark&markLane], ModelID: f.ModelID, RunID: f.RunID}
			switch {
			case mark&markExplore != 0:
				row.Reasons = score.ExplorationReason
			case mark&markExplained != 0:
				t, ok := text[b.Ord[i]]
				if !ok {
					return fmt.Errorf("internal error: row %d (rank %d) has no reasons", b.Ord[i]+1, b.Rank[i])
				}
				row.Reasons = t
			}
			out = append(out, row)
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
	register.DoFn6x1[fileIn, func(*modelFile) bool, func(scoredBatch), func([]int64), func(rejectRow), func(fileCount), error](&scoreFileFn{})
	register.Function2x1(appendSamples)
	register.DoFn1x1[[]int64, []int64](&boundsFn{})
	register.DoFn4x1[scoredBatch, func(*fileCount) bool, []int64, func(int, rangeRows), error](&rangeRowsFn{})
	register.Function2x2(rangeSize)
	register.DoFn5x1[int, func(*rangeRows) bool, func(*int, *int) bool, func(rankedBatch), func(cutKey), error](&sortRangeFn{})
	register.Function2x1(mergeCuts)
	register.DoFn5x1[fileIn, func(*modelFile) bool, func(*fileCount) bool, cutKey, func(reasonsBatch), error](&reasonsFn{})
	register.DoFn3x1[int, func(*rankedBatch) bool, func(*reasonsBatch) bool, error](&writeRankedFn{})
	register.DoFn2x1[int, func(*rejectRow) bool, error](&writeRejectsFn{})
	register.Emitter1[scoredBatch]()
	register.Emitter1[[]int64]()
	register.Emitter1[rejectRow]()
	register.Emitter1[fileCount]()
	register.Emitter2[int, rangeRows]()
	register.Emitter1[rankedBatch]()
	register.Emitter1[cutKey]()
	register.Emitter1[reasonsBatch]()
	register.Iter1[fileCount]()
	register.Iter1[modelFile]()
	register.Iter1[rangeRows]()
	register.Iter2[int, int]()
	register.Iter1[rankedBatch]()
	register.Iter1[reasonsBatch]()
	register.Iter1[rejectRow]()
}
