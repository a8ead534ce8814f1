package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/internal/version"
	"risklane/models"
	"risklane/models/kinds"
	"risklane/models/scorer"
	"risklane/pipeline/rank"
	"risklane/pipeline/score"
	"risklane/sink"
)

// Exit codes of risklane: the one table, which every command uses and
// docs/DESIGN.md ("Exit codes") documents.
const (
	ExitOK            = 0
	ExitFailure       = 1 // the run failed: bad input, missing file, I/O error
	ExitUsage         = 2 // the command line or job file is wrong
	ExitRejectRate    = 3 // too many rows were rejected
	ExitModelMismatch = 4 // the model's features do not match the input
	ExitBusy          = 5 // another run of the same job holds its lock
)

// Errors a caller can tell apart (errors.Is).
var (
	ErrRejectRate    = errors.New("reject rate above the limit")
	ErrModelMismatch = errors.New("the model does not match the input")
	ErrBusy          = errors.New("another run holds the lock")
	ErrUsage         = errors.New("invalid job")
	// ErrEmpty: the inputs held no row at all; nothing to rank.
	ErrEmpty = errors.New("nothing to score")
)

// ExitCode returns the exit code for the error a run returned.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrRejectRate):
		return ExitRejectRate
	case errors.Is(err, ErrModelMismatch):
		return ExitModelMismatch
	case errors.Is(err, ErrBusy):
		return ExitBusy
	case errors.Is(err, ErrUsage), errors.Is(err, sink.ErrConflict):
		return ExitUsage
	}
	return ExitFailure
}

// DefaultBatchSize is the rows per batch of a scoring run: about six batches
// are in flight between ingest and the workers, so the batch size, not the
// input, sets that part of the memory (some 4 MB a batch).
const DefaultBatchSize = 16384

// Config is one scoring run.
type Config struct {
	// Night names the nightly job's night the run is for, if any.
	Night   string
	Inputs  []string
	Profile *profile.Profile
	// Model is the loaded model; ModelDir is where it came from (for the
	// manifest).
	Model    models.Model
	ModelDir string

	// Out is the ranked file (.parquet or .csv). With CSV set, a CSV copy is
	// written beside a Parquet Out (same name, .csv).
	Out string
	CSV bool
	// Rejects, if set, receives the rejected rows (CSV).
	Rejects string
	// Manifest, if set, receives the run manifest, last, whatever the
	// outcome.
	Manifest string

	Plan   rank.Plan
	RankBy models.RankBy
	// MaxRejectRate fails the run (ErrRejectRate) when more than this share
	// (0 to 1) of the rows read are rejected. Nil: no limit.
	MaxRejectRate *float64
	// AllowEmpty lets a run that scored no row (every row rejected, or no
	// row in the inputs) succeed with an empty ranking; otherwise it fails
	// and writes no ranked file.
	AllowEmpty bool
	// Contributions, above 0, writes each red and yellow row's top
	// Contributions features by exact contribution (TreeSHAP) into the
	// ranked file, and words its reasons from them (docs/interop.md).
	Contributions int
	// Keep names input columns (canonical or profile extras) carried into
	// the ranked file (rank.Config.Keep).
	Keep []string

	BatchSize int    // rows per batch; 0: DefaultBatchSize
	Workers   int    // 0: GOMAXPROCS
	TempDir   string // spill folder; "": beside Out
	Log       *slog.Logger
	Progress  Progress
}

// Progress shows a run's progress, one stage at a time.
type Progress interface {
	// Stage starts a stage; total is -1 when unknown.
	Stage(name string, total int64)
	// Set reports the rows done in the current stage.
	Set(done int64)
	// Done ends the current stage.
	Done()
}

// NoProgress shows nothing: the progress of a run nobody watches.
type NoProgress struct{}

func (NoProgress) Stage(string, int64) {}
func (NoProgress) Set(int64)           {}
func (NoProgress) Done()               {}

// CSVPath is the CSV copy written beside a Parquet ranked file.
func CSVPath(out string) string {
	return strings.TrimSuffix(out, filepath.Ext(out)) + ".csv"
}

// Score runs one scoring run: it checks the inputs against the profile and
// the model (if they do not fit, it writes nothing at all and says why),
// checksums the inputs, scores, ranks, joins the reasons, and writes the
// ranked file(s), the rejects and, last, the manifest, also when a later
// step fails. Every file appears complete under its final name or not at
// all. The manifest is returned, filled as far as the run got, with the
// error.
func Score(ctx context.Context, cfg Config) (*Manifest, error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Progress == nil {
		cfg.Progress = NoProgress{}
	}
	started := time.Now()
	m := &Manifest{Version: version.String(), Night: cfg.Night, Started: started.UTC().Format(time.RFC3339), Profile: cfg.Profile.Name,
		Plan: Plan{Budget: cfg.Plan.Budget, Yellow: cfg.Plan.Yellow, Explore: cfg.Plan.Explore, Seed: cfg.Plan.Seed,
			RankBy: string(rankBy(cfg.RankBy)), MaxRejectRate: cfg.MaxRejectRate}}
	if cfg.Model != nil {
		m.Model = Model{ID: cfg.Model.ID(), Dir: cfg.ModelDir, Features: cfg.Model.FeatureNames()}
	}
	checked := false
	err := scoreRun(ctx, cfg, m, log, stageClock{started, cpuTime()}, &checked)
	m.Finished = time.Now().UTC().Format(time.RFC3339)
	m.ExitCode = ExitCode(err)
	m.Status = "ok"
	if err != nil {
		m.Status, m.Error, m.Outputs = "failed", err.Error(), nil
	}
	if cfg.Manifest != "" && checked {
		relativeTo(m, filepath.Dir(cfg.Manifest))
		if _, werr := m.Write(cfg.Manifest); werr != nil && err == nil {
			err = werr
		}
	}
	log.Info("run finished", "run_id", m.RunID, "status", m.Status, "exit_code", m.ExitCode,
		"scored", m.Counts.Scored, "seconds", time.Since(started).Seconds())
	return m, err
}

// LoadModel loads a model folder of any kind (package risklane/models/kinds:
// files checked, model validated and prepared once).
func LoadModel(dir string) (models.Model, error) { return kinds.Load(dir) }

// LoadModelEngine is LoadModel with the model's trees walked by the given
// engine (docs/scoring-engine.md). A kind without a choice of tree engine
// takes only the default.
func LoadModelEngine(dir string, engine scorer.Engine) (models.Model, error) {
	m, err := LoadModel(dir)
	if err != nil || engine == scorer.Native {
		return m, err
	}
	e, ok := m.(interface{ UseEngine(scorer.Engine) error })
	if !ok {
		return nil, fmt.Errorf("%w: model %s: its kind has no choice of tree engine (--engine %s)", ErrUsage, dir, engine)
	}
	if err := e.UseEngine(engine); err != nil {
		return nil, fmt.Errorf("model %s: %w", dir, err)
	}
	return m, nil
}

func rankBy(r models.RankBy) models.RankBy {
	if r == "" {
		return models.ByProbability
	}
	return r
}

func scoreRun(ctx context.Context, cfg Config, m *Manifest, log *slog.Logger, total stageClock, checked *bool) error {
	if cfg.Model == nil {
		return errors.New("no model")
	}
	// A ranking the model cannot give (by expected revenue without a
	// revenue head) is refused before any work.
	if err := models.CheckRankBy(cfg.Model, rankBy(cfg.RankBy)); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	// Structural checks first: nothing is written until the inputs, the
	// profile, the model and the output folders all fit.
	outs := []string{cfg.Out}
	if cfg.CSV && !strings.EqualFold(filepath.Ext(cfg.Out), ".csv") {
		outs = append(outs, CSVPath(cfg.Out))
	}
	for _, p := range append(append([]string(nil), outs...), cfg.Rejects, cfg.Manifest) {
		if p == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(p)); err != nil || !st.IsDir() {
			return fmt.Errorf("output folder of %s does not exist; create it first", p)
		}
	}
	if err := sink.Prepare(cfg.paths(outs)); err != nil {
		return err
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	opt := ingest.Options{BatchSize: cfg.BatchSize}
	probe, err := ingest.OpenFiles(cfg.Inputs, cfg.Profile, opt)
	if err != nil {
		return err
	}
	schema := probe.Schema()
	probe.Close()
	if err := cfg.Model.Check(schema); err != nil {
		return fmt.Errorf("%w: model %s (%s) cannot score these inputs: %v", ErrModelMismatch, cfg.Model.ID(), cfg.ModelDir, err)
	}
	if err := checkColumns(cfg); err != nil {
		return err
	}
	if err := rank.CheckKeep(cfg.Keep); err != nil {
		return err
	}
	for _, k := range cfg.Keep {
		if len(schema.FieldIndices(k)) == 0 {
			var names []string
			for _, f := range schema.Fields() {
				names = append(names, f.Name)
			}
			return fmt.Errorf("--keep: the inputs have no column %q (through profile %s the columns are %s)", k, cfg.Profile.Name, strings.Join(names, ", "))
		}
	}
	tmp := cfg.TempDir
	if tmp == "" {
		tmp = filepath.Dir(cfg.Out)
	}
	*checked = true
	var stages []Stage
	defer func() { m.Timings = stages }()
	progress := cfg.Progress
	scfg := score.Config{Model: cfg.Model, Explained: cfg.Plan.Explained, TempDir: tmp, Workers: cfg.Workers,
		RankBy: rankBy(cfg.RankBy), Progress: progress.Set, Contributions: cfg.Contributions,
		Keep: cfg.Keep}

	// Checksums: they name the inputs in the manifest and seed the run_id.
	// A CSV input's line count bounds its rows (the row hint), so CSV
	// inputs are read whole first. Parquet inputs give their row count in
	// their footers: their checksums are computed beside the score pass,
	// on a core the pass leaves idle at times, and the run waits for them
	// before anything uses them (or when it fails).
	clock := startStage()
	var sums *checksumJob
	hint, parquet := parquetRows(cfg.Inputs)
	if parquet {
		if hint > 0 && hint < maxRowsHint {
			scfg.RowsHint = int(hint)
		}
		sums = startChecksums(cfg.Inputs)
	} else {
		progress.Stage("checksum", int64(len(cfg.Inputs)))
		var rowsHint int64
		for i, p := range cfg.Inputs {
			in, rows, err := checksum(p)
			if err != nil {
				return err
			}
			m.Inputs = append(m.Inputs, in)
			if rows < 0 || rowsHint < 0 {
				rowsHint = -1
			} else {
				rowsHint += rows
			}
			progress.Set(int64(i + 1))
		}
		if rowsHint > 0 && rowsHint < maxRowsHint {
			scfg.RowsHint = int(rowsHint)
		}
		progress.Done()
		sums = &checksumJob{done: make(chan struct{}), inputs: m.Inputs, stage: clock.stage("checksum", 0)}
		m.Inputs = nil
		close(sums.done)
	}
	checksummed := false
	awaitChecksums := func() error {
		if checksummed {
			return nil
		}
		checksummed = true
		<-sums.done
		if sums.err != nil {
			return sums.err
		}
		m.Inputs = sums.inputs
		var bytes int64
		for _, in := range m.Inputs {
			bytes += in.Bytes
		}
		stages = append(stages, sums.stage)
		m.RunID = runID(m.Inputs, profileFingerprint(cfg.Profile), cfg.Model.ID(), m.Plan)
		log.Info("inputs checked", "run_id", m.RunID, "files", len(m.Inputs), "bytes", bytes, "model", cfg.Model.ID())
		return nil
	}
	defer awaitChecksums() // a failed run's manifest names its inputs too
	if !parquet {
		if err := awaitChecksums(); err != nil {
			return err
		}
	}

	// Pass 1: score every accepted row.
	var rejects *ingest.RejectFile
	if cfg.Rejects != "" {
		if rejects, err = ingest.CreateRejectFile(cfg.Rejects); err != nil {
			return err
		}
		defer rejects.Abort()
		opt.Rejects = rejects
	}
	// The first pass reads nothing of a batch once released (the workers
	// copy the ids, kept columns and candidates' quoted values they keep),
	// so its batches are built in the memory of released ones: fresh memory
	// costs zeroing, page faults and collections (ingest.Options).
	opt.ReuseMemory = true
	rd, err := ingest.OpenFiles(cfg.Inputs, cfg.Profile, opt)
	if err != nil {
		return err
	}
	progress.Stage("score", -1)
	clock = startStage()
	scored, err := score.Score(ctx, rd, scfg)
	rd.Close()
	progress.Done()
	if err := errors.Join(err, awaitChecksums()); err != nil {
		if scored != nil {
			scored.Remove()
		}
		return err
	}
	defer scored.Remove()
	st := rd.Stats()
	m.Counts = Counts{Read: st.Read, Accepted: st.Accepted, Rejected: st.Rejected, Scored: int64(scored.Rows())}
	stages = append(stages, passStage(clock, "score", scored.Timing))
	log.Info("scored", "read", st.Read, "accepted", st.Accepted, "rejected", st.Rejected,
		"rows_per_second", int64(float64(scored.Rows())/scored.Timing.Wall.Seconds()))
	if m.Counts.Scored != st.Accepted {
		return fmt.Errorf("internal error: %d rows accepted but %d scored", st.Accepted, m.Counts.Scored)
	}
	// From the first rename on, the previous run's manifest would describe
	// files that are being replaced: it goes first, and the new one is
	// written last (see Score), so a manifest never sits beside outputs
	// that are not the ones it lists.
	unpublished := false
	unpublish := func() error {
		if unpublished || cfg.Manifest == "" {
			return nil
		}
		unpublished = true
		if err := os.Remove(cfg.Manifest); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cannot replace the manifest %s: %w", cfg.Manifest, err)
		}
		return nil
	}
	if rejects != nil {
		if err := unpublish(); err != nil {
			return err
		}
		if err := rejects.Commit(); err != nil {
			return err
		}
		info, err := describe(cfg.Rejects, "csv", st.Rejected)
		if err != nil {
			return err
		}
		m.Outputs = append(m.Outputs, info)
	}
	if cfg.MaxRejectRate != nil && st.Read > 0 {
		if rate := float64(st.Rejected) / float64(st.Read); rate > *cfg.MaxRejectRate {
			return fmt.Errorf("%w: %d of %d rows rejected (%.2f%%, limit %.2f%%)%s", ErrRejectRate, st.Rejected, st.Read,
				rate*100, *cfg.MaxRejectRate*100, seeRejects(cfg.Rejects))
		}
	}
	if m.Counts.Scored == 0 && !cfg.AllowEmpty {
		if st.Read > 0 {
			return fmt.Errorf("%w: all %d rows read were rejected, nothing to rank%s; "+
				"to publish an empty ranking all the same, allow empty runs (--allow-empty, allow_empty: true)",
				ErrRejectRate, st.Read, seeRejects(cfg.Rejects))
		}
		return fmt.Errorf("%w: the inputs hold no declaration; "+
			"to publish an empty ranking all the same, allow empty runs (--allow-empty, allow_empty: true)", ErrEmpty)
	}

	// Ranking.
	clock = startStage()
	ranked := rank.Sort(scored.Keys, make([]rank.Key, len(scored.Keys)))
	scored.Keys = nil
	lanes, err := cfg.Plan.Apply(ranked)
	if err != nil {
		return err
	}
	m.Lanes = &lanes
	if msg, small := cfg.Plan.Budget.SmallCount(len(ranked)); small {
		log.Warn("budget " + msg)
	}
	stages = append(stages, clock.stage("rank", int64(len(ranked))))

	// Join the ids and reasons back by rank range.
	progress.Stage("join", int64(len(ranked)))
	clock = startStage()
	reopen := func() (score.Source, error) {
		log.Warn("reading the input again for the reasons of red and yellow rows the first pass could not foresee")
		return ingest.OpenFiles(cfg.Inputs, cfg.Profile, ingest.Options{BatchSize: cfg.BatchSize})
	}
	sp, err := scored.Join(ctx, ranked, lanes, reopen)
	progress.Done()
	if err != nil {
		return err
	}
	defer sp.Remove()
	m.Reasons = Reasons{Candidates: scored.Candidates, Repaired: int64(sp.Repaired)}
	stages = append(stages, passStage(clock, "join", sp.Timing))

	// Write the ranked file(s) in rank order.
	clock = startStage()
	var writers []*rank.Writer
	defer func() {
		for _, w := range writers {
			w.Abort()
		}
	}()
	for _, p := range outs {
		w, err := rank.CreateConfig(p, rank.Config{Contributions: cfg.Contributions, Keep: cfg.Keep, Meta: rank.RunMeta(cfg.Model.ID(), m.RunID)})
		if err != nil {
			return err
		}
		writers = append(writers, w)
	}
	progress.Stage("write", int64(len(ranked)))
	wt, err := sp.Write(scored, ranked, lanes, score.RunInfo{ModelID: cfg.Model.ID(), RunID: m.RunID}, writers, progress.Set)
	if err != nil {
		progress.Done()
		return err
	}
	if err := unpublish(); err != nil {
		progress.Done()
		return err
	}
	files := make([]rank.File, 0, len(writers))
	for _, w := range writers {
		f, err := w.Commit()
		if err != nil {
			progress.Done()
			return err
		}
		files = append(files, f)
	}
	progress.Done()
	stages = append(stages, clock.stage("write", wt.Rows))
	m.Outputs = append(files, m.Outputs...)
	if err := verify(m.Outputs); err != nil {
		return err
	}
	stages = append(stages, total.stage("total", m.Counts.Scored))
	return nil
}

// paths names the run's inputs and outputs for sink.Prepare, by the flags
// of risklane score.
func (cfg Config) paths(outs []string) (inputs, outputs []sink.Path) {
	for _, in := range cfg.Inputs {
		inputs = append(inputs, sink.Path{Flag: "--in", Name: in})
	}
	outputs = append(outputs, sink.Path{Flag: "--out", Name: outs[0]})
	for _, o := range outs[1:] {
		outputs = append(outputs, sink.Path{Flag: "--csv (beside --out)", Name: o})
	}
	outputs = append(outputs, sink.Path{Flag: "--rejects", Name: cfg.Rejects}, sink.Path{Flag: "--manifest", Name: cfg.Manifest})
	return inputs, outputs
}

// verify checks that each output the manifest lists is, under its final
// name, the file the run wrote (its size), before the manifest says so.
func verify(files []rank.File) error {
	for _, f := range files {
		st, err := os.Stat(f.Path)
		if err != nil {
			return fmt.Errorf("output %s vanished before the manifest was written: %w", f.Path, err)
		}
		if st.Size() != f.Bytes {
			return fmt.Errorf("output %s has %d bytes, the run wrote %d: another process changed it", f.Path, st.Size(), f.Bytes)
		}
	}
	return nil
}

// checkColumns refuses inputs in which the profile finds no source for a
// canonical column the model's features read: ingest would give it as null
// in every row, and the model would score with features it never saw.
func checkColumns(cfg Config) error {
	need := map[string]bool{}
	for _, c := range cfg.Model.Columns() {
		need[c] = true
	}
	for _, in := range cfg.Inputs {
		absent, err := ingest.AbsentColumns(in, cfg.Profile)
		if err != nil {
			return err
		}
		var missing []string
		for _, c := range absent {
			if need[c] {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%w: model %s (%s) reads column(s) %s, which %s does not have under profile %s "+
				"(they would be empty in every row): map them in the profile, or score with a model trained without them",
				ErrModelMismatch, cfg.Model.ID(), cfg.ModelDir, strings.Join(missing, ", "), in, cfg.Profile.Name)
		}
	}
	return nil
}

// checksumJob is the inputs' checksums, computed beside the score pass.
type checksumJob struct {
	done   chan struct{}
	inputs []Input
	stage  Stage
	err    error
}

// startChecksums checksums paths on a goroutine of its own.
func startChecksums(paths []string) *checksumJob {
	j := &checksumJob{done: make(chan struct{})}
	go func() {
		defer close(j.done)
		clock := startStage()
		for _, p := range paths {
			in, _, err := checksum(p)
			if err != nil {
				j.err = err
				return
			}
			j.inputs = append(j.inputs, in)
		}
		// Its CPU seconds are the process's while it ran, the score
		// pass's included (Stage.CPUSeconds).
		j.stage = clock.stage("checksum", 0)
	}()
	return j
}

// parquetRows returns the number of rows of paths when every one is a
// Parquet file (from their footers; -1 if one cannot be read: ingest will
// say what is wrong with it), and false when one is not Parquet.
func parquetRows(paths []string) (int64, bool) {
	if len(paths) == 0 {
		return 0, false
	}
	var total int64
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return 0, false
		}
		var head [ingest.SniffLen]byte
		n, _ := io.ReadFull(f, head[:])
		f.Close()
		if format, gz := ingest.Sniff(head[:n]); format != ingest.Parquet || gz {
			return 0, false
		}
		rows, err := ingest.ParquetRows(p)
		if err != nil || total < 0 {
			total = -1
			continue
		}
		total += rows
	}
	return total, true
}

// maxRowsHint keeps an absurd row count (a damaged footer) from sizing the
// candidate heap: beyond it, scoring goes without the hint.
const maxRowsHint = 1 << 32

func passStage(c stageClock, name string, t score.Timing) Stage {
	s := c.stage(name, t.Rows)
	s.ReadSeconds, s.WorkSeconds = t.Read.Seconds(), t.Work.Seconds()
	return s
}

func seeRejects(path string) string {
	if path == "" {
		return "; rerun with --rejects FILE to see which rows and why"
	}
	return "; see " + path
}

// describe checksums a file the run wrote.
func describe(path, format string, rows int64) (rank.File, error) {
	in, _, err := checksum(path)
	if err != nil {
		return rank.File{}, err
	}
	return rank.File{Path: path, Format: format, Rows: rows, Bytes: in.Bytes, SHA256: in.SHA256}, nil
}

// profileFingerprint is the profile as YAML: a user profile edited between
// two runs gives another run_id.
func profileFingerprint(p *profile.Profile) string {
	y, err := p.YAML()
	if err != nil {
		return p.Name
	}
	return string(y)
}

// relativeTo names the outputs inside dir relative to it, so that a night's
// manifest stays right when its folder is renamed or copied.
func relativeTo(m *Manifest, dir string) {
	for i := range m.Outputs {
		if rel, err := filepath.Rel(dir, m.Outputs[i].Path); err == nil && filepath.IsLocal(rel) {
			m.Outputs[i].Path = rel
		}
	}
}
