// Command risklane ranks customs declarations for inspection: it ingests
// declarations, builds fraud-signal features, trains and scores
// gradient-boosted trees, and writes risk-ranked consignments.
//
// Each subcommand lives in its own file of this folder and registers itself
// with the root command in an init function.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"risklane/internal/version"
	"risklane/pipeline/run"
	"risklane/sink"
)

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

var rootCmd = &cobra.Command{
	Use:   "risklane",
	Short: "Rank customs declarations for inspection",
	Long: `risklane finds the customs declarations most likely to be fraudulent
(undervalued, misclassified, wrong origin) and ranks them for inspection.

It ingests declarations (CSV, Parquet, Arrow IPC) through a profile that maps
the source columns onto a canonical schema, trains gradient-boosted trees,
scores them with its own tree engine, and writes risk-ranked consignments.`,
	SilenceUsage:  true,
	SilenceErrors: true,
	Version:       version.String(),
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		if isUnknownCommand(err) {
			err = fmt.Errorf("%w ('risklane --help' lists the commands)", err)
		}
		fmt.Fprintln(os.Stderr, "risklane:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is the exit code of a command's error: the one it carries, 2 for
// a wrong command line, else package run's table.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case isUsageError(err), isUnknownCommand(err):
		return run.ExitUsage
	}
	return run.ExitCode(err)
}

// usageError marks an error in the command line itself.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func isUsageError(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}

// isUnknownCommand reports cobra's error for a command name it does not
// know ("unknown command "x" for "risklane""): a wrong command line.
func isUnknownCommand(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command ")
}

func init() {
	rootCmd.SetVersionTemplate("risklane {{.Version}}\n")
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print risklane's version (the one manifests record)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintln(c.OutOrStdout(), "risklane", version.String())
			return nil
		},
	})
	rootCmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{msg: fmt.Sprintf("%v (see '%s --help')", err, c.CommandPath())}
	})
}

// checkFormats refuses, as a usage error, a table output whose extension
// names no format risklane writes ("" means the output is not asked for).
func checkFormats(cmd string, paths ...string) error {
	for _, p := range paths {
		if p == "" {
			continue
		}
		if _, err := sink.FormatOf(p); err != nil {
			return usageError{msg: cmd + ": " + err.Error()}
		}
	}
	return nil
}

// preparePaths checks, before any work, that no output is an input or
// another output (sink.Prepare); every --in file is an input. A refusal is a
// usage error: the paths are what the command line says.
func preparePaths(cmd string, inputs []string, outputs ...sink.Path) error {
	return prepareInputs(cmd, nil, inputs, outputs...)
}

// prepareInputs is preparePaths for a command with inputs other than --in
// (they come first in ins).
func prepareInputs(cmd string, ins []sink.Path, inputs []string, outputs ...sink.Path) error {
	for _, in := range inputs {
		ins = append(ins, sink.Path{Flag: "--in", Name: in})
	}
	if err := sink.Prepare(ins, outputs); err != nil {
		return usageError{msg: cmd + ": " + err.Error()}
	}
	return nil
}
