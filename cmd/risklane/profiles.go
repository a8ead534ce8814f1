package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"risklane/ingest/profile"
)

var profilesCmd = &cobra.Command{
	Use:   "profiles",
	Short: "List the built-in profiles, or show one as YAML",
	Long: `A profile maps the columns of a declarations source onto risklane's canonical
schema: column names, extra attributes and labels, date layouts, decimal
separator, illicit values, revenue column or formula.

'risklane profiles' lists the built-in profiles. 'risklane profiles show NAME'
prints one as YAML, with every key explained: save it, edit it for your own
exports, and pass the file to --profile.`,
	Example: `  risklane profiles
  risklane profiles show kcs > mine.yaml
  risklane profiles show mine.yaml`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, args []string) error {
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tDESCRIPTION")
		for _, n := range profile.Names() {
			p, _ := profile.Builtin(n)
			fmt.Fprintf(tw, "%s\t%s\n", n, p.Description)
		}
		return tw.Flush()
	},
}

var profilesShowCmd = &cobra.Command{
	Use:   "show NAME|FILE",
	Short: "Print a profile as YAML (a starting point for your own)",
	Args: func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageError{msg: "give one profile name or YAML file (see 'risklane profiles')"}
		}
		return nil
	},
	RunE: func(cmd *cobra.Command, args []string) error {
		p, err := profile.Resolve(args[0])
		if err != nil {
			return err
		}
		y, err := p.YAML()
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(y)
		return err
	},
}

func init() {
	profilesCmd.AddCommand(profilesShowCmd)
	rootCmd.AddCommand(profilesCmd)
}
