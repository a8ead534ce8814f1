package run

import (
	"fmt"
	"strings"
)

// JobKey is one key of a job file. JobKeys is the one table of them: the
// job file's check reads it for the required keys, `risklane run --help`
// prints it, docs/cli.md copies it, and a test holds it equal to Job's YAML
// fields, so no key is undocumented.
type JobKey struct {
	Name     string // as written in the file; "retention.keep_nights" for a nested key
	Flag     string // the same idea's flag of risklane score, "" if none
	Default  string // "" when required or off
	Required bool
	Doc      string
}

// JobKeys lists every key of a job file, in the order of a typical file.
var JobKeys = []JobKey{
	{Name: "input", Flag: "--in", Required: true, Doc: "glob of the night's declaration files (CSV, Parquet, Arrow), read in sorted order"},
	{Name: "profile", Flag: "--profile", Required: true, Doc: "built-in profile (kcs, date, canonical) or a YAML profile file"},
	{Name: "model", Flag: "--model", Required: true, Doc: "model folder written by risklane train"},
	{Name: "outputs", Required: true, Doc: "a folder of its own: one dated folder per night, plus the link latest"},
	{Name: "budget", Flag: "--budget", Default: "5%", Doc: "red lane: a share (5% or 0.05) or a number of rows (500)"},
	{Name: "yellow", Flag: "--yellow", Default: "10%", Doc: "yellow lane after the red one: a share or a number of rows"},
	{Name: "explore", Flag: "--explore", Default: "10%", Doc: "part of the red lane drawn at random from outside the top: a share of the red lane or a number of rows"},
	{Name: "seed", Flag: "--seed", Default: "1", Doc: "seed of the exploration draw"},
	{Name: "rank_by", Flag: "--rank-by", Default: "probability", Doc: "ranking key: probability or expected-revenue"},
	{Name: "csv", Flag: "--csv", Default: "false", Doc: "also write ranked.csv"},
	{Name: "allow_empty", Flag: "--allow-empty", Default: "false", Doc: "publish a night that scored no row instead of failing"},
	{Name: "rejects", Flag: "--rejects", Default: "true", Doc: "write rejects.csv (file, line, column, value, reason of every rejected row)"},
	{Name: "max_reject_rate", Flag: "--max-reject-rate", Doc: "fail the night (exit code 3) above this share of rejected rows: 2% or 0.02 (default: no limit)"},
	{Name: "retention.keep_nights", Default: "0", Doc: "keep the newest N successful nights (0: all)"},
	{Name: "retention.keep_days", Default: "0", Doc: "delete nights more than N days older than the current one (0: never)"},
	{Name: "engine", Flag: "--engine", Default: "native", Doc: "tree engine: native, or leaves (for comparison)"},
	{Name: "workers", Flag: "--workers", Default: "0", Doc: "goroutines computing features and scores (0: one per core)"},
	{Name: "batch_size", Flag: "--batch-size", Default: fmt.Sprint(DefaultBatchSize), Doc: "rows per record batch"},
	{Name: "temp_dir", Flag: "--temp-dir", Doc: "folder for spill files (default: the night's staging folder)"},
	{Name: "log", Flag: "--log-format", Default: "text", Doc: "log format when stderr is not a terminal: text or json"},
}

// JobKeysHelp formats JobKeys for `risklane run --help`.
func JobKeysHelp() string {
	width := 0
	for _, k := range JobKeys {
		width = max(width, len(k.Name))
	}
	var b strings.Builder
	for _, k := range JobKeys {
		doc := k.Doc
		switch {
		case k.Required:
			doc += " (required)"
		case k.Default != "":
			doc += " (default " + k.Default + ")"
		}
		if k.Flag != "" {
			doc += "; score " + k.Flag
		}
		fmt.Fprintf(&b, "  %-*s  %s\n", width, k.Name, doc)
	}
	return b.String()
}

// stringKeys returns the job's required keys with their values, for check.
func (j *Job) stringKeys() map[string]string {
	return map[string]string{"input": j.Input, "profile": j.Profile, "model": j.Model, "outputs": j.Outputs}
}
