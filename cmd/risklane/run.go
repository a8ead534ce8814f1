package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"risklane/pipeline/run"
)

func init() { rootCmd.AddCommand(newRunCmd()) }

// newRunCmd builds the run command with its own flag variables, so that
// tests can run it afresh.
func newRunCmd() *cobra.Command {
	var night, logFmt string
	cmd := &cobra.Command{
		Use:   "run JOB.yaml",
		Short: "Run a nightly scoring job: score the night's files into a dated folder",
		Long: `run executes the nightly job a YAML file describes, for example

  input: /data/incoming/*.csv
  profile: date
  model: /srv/risklane/models/current
  outputs: /srv/risklane/ranked
  budget: 5%
  csv: true
  max_reject_rate: 2%
  retention: {keep_nights: 30, keep_days: 90}

Every key (relative paths are relative to the job file; an unknown key is an error):

` + run.JobKeysHelp() + `
Shares and counts follow one rule everywhere: 5% or 0.05 is a share, 500 is a
number of rows (docs/cli.md).

The night's ranked.parquet (ranked.csv), rejects.csv and manifest.json are written
into a hidden staging folder in outputs; only when all are complete does it become
outputs/NIGHT (YYYY-MM-DD, default today) and outputs/latest point to it. A night
that fails leaves every earlier night and latest untouched; its manifest (with the
error) and rejects are kept in outputs/NIGHT.failed. Then retention deletes old
nights. A lock keeps two runs of the job from overlapping.

On a terminal a progress bar shows each stage; otherwise (cron, systemd) the run
logs structured lines to stderr: text, or JSON with log: json in the job file.

Exit codes: 0 done; 1 failed; 2 wrong command line or job file; 3 reject rate above
max_reject_rate; 4 model does not match the input; 5 another run of the job holds
its lock.`,
		Example: `  risklane run /etc/risklane/nightly.yaml
  risklane run nightly.yaml --night 2026-03-14     # rerun a night`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			job, err := run.LoadJob(args[0])
			if err != nil {
				return &exitError{code: run.ExitCode(err), err: err}
			}
			format := logFmt
			if format == "" {
				format = job.Log
			}
			if format == "" {
				format = "text"
			}
			log, progress, err := reporting(c.ErrOrStderr(), format)
			if err != nil {
				return err
			}
			limitMemory()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			m, err := job.Run(ctx, run.NightOptions{Night: night, Log: log, Progress: progress})
			if err != nil {
				return &exitError{code: run.ExitCode(err), err: err}
			}
			printSummary(c.OutOrStdout(), m, filepath.Join(job.Outputs, m.Night, "manifest.json"))
			return nil
		},
	}
	cmd.Flags().StringVar(&night, "night", "", "the night to run, YYYY-MM-DD (default: today)")
	cmd.Flags().StringVar(&logFmt, "log-format", "", "log format when stderr is not a terminal: text or json (default: the job's log key, else text)")
	return cmd
}
