package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"risklane/ingest/profile"
	"risklane/models"
	"risklane/models/scorer"
	"risklane/pipeline/rank"
	"risklane/sink"
)

// Job is a nightly scoring job, read from a YAML file (see LoadJob). Relative
// paths in the file are relative to the file's folder.
type Job struct {
	// Input is a glob of the night's declaration files (CSV, Parquet, Arrow),
	// read in sorted order.
	Input   string `yaml:"input"`
	Profile string `yaml:"profile"`
	Model   string `yaml:"model"`
	// Outputs is the folder that holds one sub-folder per night (see Run).
	Outputs string `yaml:"outputs"`

	Budget  *rank.Share `yaml:"budget"`  // default 5%
	Yellow  *rank.Share `yaml:"yellow"`  // default 10%
	Explore *rank.Share `yaml:"explore"` // default 10% of the red lane
	Seed    *uint64     `yaml:"seed"`    // default 1
	RankBy  string      `yaml:"rank_by"` // probability (default) or expected-revenue

	CSV bool `yaml:"csv"` // also write ranked.csv
	// AllowEmpty publishes a night that scored no row (every row rejected,
	// or empty inputs); by default such a night fails (see Config).
	AllowEmpty bool `yaml:"allow_empty"`
	// Rejects writes rejects.csv (default true).
	Rejects *bool `yaml:"rejects"`
	// MaxRejectRate fails the night (exit code 3) above this share of
	// rejected rows: "2%" or 0.02.
	MaxRejectRate *Rate `yaml:"max_reject_rate"`

	Retention Retention `yaml:"retention"`

	// Engine walks the trees: native (default) or leaves
	// (docs/scoring-engine.md).
	Engine    string `yaml:"engine"`
	Workers   int    `yaml:"workers"`
	BatchSize int    `yaml:"batch_size"`
	TempDir   string `yaml:"temp_dir"` // spill files; default: the outputs folder

	// Log is the log format when stderr is not a terminal: text or json.
	Log string `yaml:"log"`
}

// Retention says which nights' outputs are kept. Zero keeps everything.
type Retention struct {
	// KeepNights keeps the newest N successful nights (and failed nights no
	// older than the oldest kept one).
	KeepNights int `yaml:"keep_nights"`
	// KeepDays deletes nights more than N days older than the current one.
	KeepDays int `yaml:"keep_days"`
}

// Rate is a share between 0 and 1, written "2%" or 0.02.
type Rate float64

// UnmarshalText reads "2%" or "0.02" (rank.ParseRate).
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := rank.ParseRate(string(b))
	if err != nil {
		return err
	}
	*r = Rate(v)
	return nil
}

// LoadJob reads and checks a job file. Unknown keys are errors (a misspelt
// key would otherwise be silently ignored every night).
func LoadJob(path string) (*Job, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJobBytes+1))
	if err != nil {
		return nil, err
	}
	return parseJob(data, path)
}

// maxJobBytes bounds a job file: a job is a dozen keys.
const maxJobBytes = 1 << 20

// parseJob reads a job file's contents; path names it in errors and
// anchors its relative paths.
func parseJob(data []byte, path string) (*Job, error) {
	var j Job
	if len(data) > maxJobBytes {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes; a job file is a dozen keys", ErrUsage, path, maxJobBytes)
	}
	if _, err := profile.DecodePlain(data, &j); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUsage, path, err)
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&j.Input, &j.Model, &j.Outputs, &j.TempDir} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	if j.Profile != "" && !filepath.IsAbs(j.Profile) && strings.ContainsAny(j.Profile, `/\`) {
		j.Profile = filepath.Join(dir, j.Profile)
	}
	if err := j.check(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUsage, path, err)
	}
	return &j, nil
}

func (j *Job) check() error {
	var missing []string
	given := j.stringKeys()
	for _, k := range JobKeys {
		if k.Required && given[k.Name] == "" {
			missing = append(missing, k.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if _, err := filepath.Match(j.Input, ""); err != nil {
		return fmt.Errorf("input %q is not a valid glob: %v", j.Input, err)
	}
	if _, err := models.ParseRankBy(j.RankBy); err != nil {
		return fmt.Errorf("rank_by: %v", err)
	}
	if _, err := scorer.ParseEngine(j.Engine); err != nil {
		return err
	}
	if j.Log != "" && j.Log != "text" && j.Log != "json" {
		return fmt.Errorf("log %q: use text or json", j.Log)
	}
	if j.Retention.KeepNights < 0 || j.Retention.KeepDays < 0 || j.Workers < 0 || j.BatchSize < 0 {
		return errors.New("retention, workers and batch_size cannot be negative")
	}
	return nil
}

// Plan returns the job's lane plan, with the defaults filled in.
func (j *Job) Plan() rank.Plan {
	p := rank.DefaultPlan()
	if j.Budget != nil {
		p.Budget = *j.Budget
	}
	if j.Yellow != nil {
		p.Yellow = *j.Yellow
	}
	if j.Explore != nil {
		p.Explore = *j.Explore
	}
	if j.Seed != nil {
		p.Seed = *j.Seed
	}
	return p
}

// NightOptions are the parts of a night's run that do not come from the job
// file.
type NightOptions struct {
	// Night names the night's folder, YYYY-MM-DD; default: today (local
	// time). Rerunning a night replaces its folder atomically.
	Night    string
	Log      *slog.Logger
	Progress Progress
	// LoadModel loads the job's model; default LoadModel.
	LoadModel func(dir string) (models.Model, error)
	// Now is the clock for the default night; default time.Now.
	Now func() time.Time
}

const nightLayout = "2006-01-02"

// Run runs the job for one night. Everything is written into a hidden
// staging folder in Outputs; only when the night is complete does the
// staging folder become Outputs/NIGHT (a rename) and Outputs/latest point to
// it. A run that fails leaves every earlier night and `latest` as they were;
// what it wrote (its manifest with the error, the rejects) is kept in
// Outputs/NIGHT.failed for the analyst. Then retention deletes old nights.
// latest always names the newest complete night.
//
// A lock file (Outputs/.lock) keeps two runs of the job from overlapping:
// the second fails at once with ErrBusy.
func (j *Job) Run(ctx context.Context, o NightOptions) (*Manifest, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	night := o.Night
	if night == "" {
		night = now().Format(nightLayout)
	}
	if _, err := time.Parse(nightLayout, night); err != nil {
		return nil, fmt.Errorf("%w: night %q is not a date like 2026-03-31", ErrUsage, night)
	}
	inputs, err := filepath.Glob(j.Input)
	if err != nil {
		return nil, fmt.Errorf("%w: input %q: %v", ErrUsage, j.Input, err)
	}
	if err := j.claimOutputs(inputs); err != nil {
		return nil, err
	}
	unlock, err := lock(filepath.Join(j.Outputs, ".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := recoverOutputs(j.Outputs, log); err != nil {
		return nil, err
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("no input file matches %s; nothing to score for night %s", j.Input, night)
	}
	slices.Sort(inputs)
	prof, err := profile.Resolve(j.Profile)
	if err != nil {
		return nil, err
	}
	load := o.LoadModel
	if load == nil {
		engine, err := scorer.ParseEngine(j.Engine)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUsage, err)
		}
		load = func(dir string) (models.Model, error) { return LoadModelEngine(dir, engine) }
	}
	model, err := load(j.Model)
	if err != nil {
		return nil, err
	}

	staging, err := os.MkdirTemp(j.Outputs, stagingPrefix+night+"-")
	if err != nil {
		return nil, err
	}
	// Gone after a successful rename; removes leftovers otherwise.
	defer os.RemoveAll(staging)
	if err := os.Chmod(staging, 0o755); err != nil { // MkdirTemp's 0700 would hide the night from the analysts
		return nil, err
	}
	if err := sink.Mark(staging); err != nil { // the night's folder is risklane's: retention may delete it
		return nil, err
	}
	cfg := Config{
		Night:  night,
		Inputs: inputs, Profile: prof, Model: model, ModelDir: j.Model,
		Out: filepath.Join(staging, "ranked.parquet"), CSV: j.CSV, Manifest: filepath.Join(staging, "manifest.json"),
		Plan: j.Plan(), RankBy: models.RankBy(j.RankBy), AllowEmpty: j.AllowEmpty, BatchSize: j.BatchSize, Workers: j.Workers,
		TempDir: j.TempDir, Log: log, Progress: o.Progress,
	}
	if j.Rejects == nil || *j.Rejects {
		cfg.Rejects = filepath.Join(staging, "rejects.csv")
	}
	if j.MaxRejectRate != nil {
		r := float64(*j.MaxRejectRate)
		cfg.MaxRejectRate = &r
	}
	log.Info("night started", "night", night, "inputs", len(inputs), "model", model.ID(), "outputs", j.Outputs)
	m, err := Score(ctx, cfg)
	if err != nil {
		if kept, _ := os.ReadDir(staging); len(kept) <= 1 { // the marker alone
			log.Error("night refused; nothing was written", "night", night, "error", err)
			return m, err
		}
		failed := filepath.Join(j.Outputs, night+failedSuffix)
		if perr := replaceDir(staging, failed); perr != nil {
			log.Error("cannot keep the failed night's files", "error", perr)
		} else {
			log.Error("night failed; earlier nights and latest are untouched", "night", night, "kept", failed, "error", err)
		}
		return m, err
	}
	final := filepath.Join(j.Outputs, night)
	if err := replaceDir(staging, final); err != nil {
		return m, err
	}
	if failed := filepath.Join(j.Outputs, night+failedSuffix); sink.Marked(failed) {
		os.RemoveAll(failed) // a rerun that succeeded supersedes the failure
	}
	// latest is the newest night: rerunning an older one leaves it be.
	if cur, err := os.Readlink(filepath.Join(j.Outputs, latestLink)); err != nil || cur <= night {
		if err := pointLatest(j.Outputs, night); err != nil {
			return m, err
		}
	}
	deleted, err := prune(j.Outputs, night, j.Retention)
	for _, d := range deleted {
		log.Info("retention: deleted", "folder", d)
	}
	if err != nil {
		log.Warn("retention", "error", err)
	}
	log.Info("night published", "night", night, "folder", final)
	return m, nil
}

const (
	stagingPrefix = ".staging-"
	replacedInfix = ".replaced-"
	failedSuffix  = ".failed"
	latestLink    = "latest"
)

// replaceDir renames src to dst, moving an existing dst aside first and
// deleting it after. If the process dies between the two renames,
// recoverOutputs puts the old dst back on the next run.
func replaceDir(src, dst string) error {
	if err := syncDir(src); err != nil {
		return err
	}
	if err := sink.Replaceable(dst, nil); err != nil {
		return err
	}
	parent := filepath.Dir(dst)
	var aside string
	if _, err := os.Lstat(dst); err == nil {
		tmp, err := os.MkdirTemp(parent, filepath.Base(dst)+replacedInfix)
		if err != nil {
			return err
		}
		os.Remove(tmp) // only the unique name is wanted
		if err := os.Rename(dst, tmp); err != nil {
			return err
		}
		aside = tmp
	}
	if err := os.Rename(src, dst); err != nil {
		if aside != "" {
			os.Rename(aside, dst)
		}
		return err
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	if aside != "" {
		return os.RemoveAll(aside)
	}
	return nil
}

// pointLatest makes Outputs/latest a symbolic link to the night's folder,
// atomically (a new link renamed over the old one).
func pointLatest(outputs, night string) error {
	link := filepath.Join(outputs, latestLink)
	if st, err := os.Lstat(link); err == nil && st.Mode()&os.ModeSymlink == 0 {
		return fmt.Errorf("%w: %s is not the link risklane keeps; move it away so that latest can point to the newest night", sink.ErrNotOurs, link)
	}
	tmp := filepath.Join(outputs, "."+latestLink+".tmp")
	os.Remove(tmp)
	if err := os.Symlink(night, tmp); err != nil {
		return fmt.Errorf("cannot link %s: %w", filepath.Join(outputs, latestLink), err)
	}
	if err := os.Rename(tmp, filepath.Join(outputs, latestLink)); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(outputs)
}

// recoverOutputs cleans what a killed run left in the outputs folder: staging
// folders (incomplete by definition, since the caller holds the lock) and a
// night moved aside by replaceDir but not replaced. It acts only on folders
// that carry risklane's marker (and on the link it makes): anything else is
// left as it is.
func recoverOutputs(outputs string, log *slog.Logger) error {
	entries, err := os.ReadDir(outputs)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		full := filepath.Join(outputs, name)
		switch {
		case name == "."+latestLink+".tmp":
			if e.Type()&os.ModeSymlink != 0 {
				os.Remove(full)
			}
		case strings.HasPrefix(name, stagingPrefix) && e.IsDir():
			if !sink.Marked(full) {
				// A run killed before it marked its staging folder left
				// it empty; anything else there is not risklane's.
				if os.Remove(full) == nil {
					log.Info("removed an empty staging folder an interrupted run left", "path", full)
				}
				continue
			}
			log.Info("removing what an interrupted run left", "path", full)
			os.RemoveAll(full)
		case strings.Contains(name, replacedInfix) && e.IsDir() && sink.Marked(full):
			orig := filepath.Join(outputs, name[:strings.Index(name, replacedInfix)])
			if _, err := os.Lstat(orig); errors.Is(err, os.ErrNotExist) {
				log.Warn("restoring a night an interrupted run had moved aside", "night", orig)
				if err := os.Rename(full, orig); err != nil {
					return err
				}
			} else {
				os.RemoveAll(full)
			}
		}
	}
	return nil
}

// prune applies retention to the nights in outputs and returns the folders
// it deleted. The current night and the one latest points to are never
// deleted.
func prune(outputs, current string, r Retention) ([]string, error) {
	if r.KeepNights == 0 && r.KeepDays == 0 {
		return nil, nil
	}
	entries, err := os.ReadDir(outputs)
	if err != nil {
		return nil, err
	}
	cur, _ := time.Parse(nightLayout, current)
	latest, _ := os.Readlink(filepath.Join(outputs, latestLink))
	type night struct {
		name   string
		date   time.Time
		failed bool
	}
	var nights []night
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name, failed := strings.CutSuffix(e.Name(), failedSuffix)
		d, err := time.Parse(nightLayout, name)
		if err != nil || !sink.Marked(filepath.Join(outputs, e.Name())) {
			continue // not a night risklane wrote: leave it alone
		}
		nights = append(nights, night{e.Name(), d, failed})
	}
	// Newest first.
	slices.SortFunc(nights, func(a, b night) int { return b.date.Compare(a.date) })
	var oldestKept time.Time
	kept := 0
	doomed := map[string]bool{}
	for _, n := range nights {
		if n.failed {
			continue
		}
		if r.KeepNights > 0 && kept >= r.KeepNights && n.name != current {
			doomed[n.name] = true
			continue
		}
		kept++
		oldestKept = n.date
	}
	for _, n := range nights {
		if r.KeepDays > 0 && n.date.Before(cur.AddDate(0, 0, -r.KeepDays)) {
			doomed[n.name] = true
		}
		if n.failed && r.KeepNights > 0 && n.date.Before(oldestKept) {
			doomed[n.name] = true
		}
	}
	delete(doomed, current)
	delete(doomed, latest)
	var deleted []string
	var errs []error
	for _, n := range nights {
		if doomed[n.name] {
			p := filepath.Join(outputs, n.name)
			if err := os.RemoveAll(p); err != nil {
				errs = append(errs, err)
				continue
			}
			deleted = append(deleted, p)
		}
	}
	return deleted, errors.Join(errs...)
}

// claimOutputs checks, before the job takes its lock, that its outputs
// folder is one risklane may manage: not the filesystem root nor a home
// folder, not holding the inputs or the model, and either new, empty or
// marked as risklane's (sink.Marker). A new or empty folder gets the marker.
func (j *Job) claimOutputs(inputs []string) error {
	abs, err := filepath.Abs(j.Outputs)
	if err != nil {
		return err
	}
	if refused := refusedOutputs(abs); refused != "" {
		return fmt.Errorf("%w: outputs %s is %s: risklane deletes old nights in its outputs folder, "+
			"so it needs a folder of its own, such as %s", ErrUsage, j.Outputs, refused, filepath.Join(abs, "risklane-nights"))
	}
	ins := []sink.Path{{Flag: "model", Name: j.Model}}
	for _, in := range inputs {
		ins = append(ins, sink.Path{Flag: "input", Name: in})
	}
	if err := sink.CheckPaths(ins, []sink.Path{{Flag: "outputs", Name: j.Outputs, Dir: true}}); err != nil {
		if errors.Is(err, sink.ErrNotOurs) {
			return fmt.Errorf("%w (if it holds only what an earlier risklane wrote, create the empty file %s to adopt it)",
				err, filepath.Join(j.Outputs, sink.Marker))
		}
		return err
	}
	if err := os.MkdirAll(j.Outputs, 0o755); err != nil {
		return err
	}
	if !sink.Marked(j.Outputs) {
		return sink.Mark(j.Outputs)
	}
	return nil
}

// refusedOutputs says why a folder cannot be a job's outputs folder, or "".
func refusedOutputs(abs string) string {
	if filepath.Dir(abs) == abs {
		return "the root of the filesystem"
	}
	homes := []string{os.Getenv("HOME")}
	if h, err := os.UserHomeDir(); err == nil {
		homes = append(homes, h)
	}
	st, err := os.Stat(abs)
	for _, h := range homes {
		if h == "" {
			continue
		}
		h, _ = filepath.Abs(h)
		hs, herr := os.Stat(h)
		switch {
		case h == abs, err == nil && herr == nil && os.SameFile(st, hs):
			return "a home folder"
		case strings.HasPrefix(h, abs+string(filepath.Separator)):
			return "a folder that holds a home folder"
		}
	}
	return ""
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
