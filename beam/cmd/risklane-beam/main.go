// Command risklane-beam runs risklane's stages as an Apache Beam pipeline:
// on Prism (this machine, the default), or submitted to Flink, Spark or
// Google Dataflow with Beam's own flags (--runner, --endpoint, ...). See
// docs/beam.md.
//
//	risklane-beam fit     --in FILE... --profile P --out features.json [--features ...] [--trade FILE... --reporter ISO3]
//	risklane-beam cluster --in FILE... --profile P --out clusters.parquet [--clusters model.json] [--k-max 5] ...
//	risklane-beam mirror  --trade FILE... --reporter ISO3 --out gaps.parquet [--tariffs FILE] [--signals FILE] ...
//	risklane-beam sample  --in FILE... --profile P --out DIR --rate 0.2 [--seed 1]
//	risklane-beam score   --model DIR --profile P --in FILE... --out ranked.parquet [--budget 5%] ...
//
// The flags are the single-machine commands' (risklane train, cluster,
// mirror, score) where they mean the same.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"risklane/beam/internal/scratch"
	"risklane/sink"
)

// A command adds its flags to a flag set and returns what runs it: the
// pipeline's construction (or a usage error) after the flags are parsed.
type command struct {
	name, usage, short string
	flags              func(fs *flag.FlagSet) func(s beam.Scope, args []string) error
}

var commands = []command{fitCmd, clusterCmd, mirrorCmd, sampleCmd, scoreCmd}

// cpuProfile is the one flag of this binary's own beside the commands':
// a CPU profile of the process, which on Prism holds the runner and its
// workers too (beam/scripts/scale.sh reads it).
var cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of this process to `FILE` (on Prism: the runner and its workers)")

// memProfile is the heap profile at the run's largest live heap (peakHeap):
// on Prism it shows which PCollections and DoFns hold the memory.
var memProfile = flag.String("memprofile", "", "write a heap profile of this process at its largest live heap to `FILE` (on Prism: the runner and its workers)")

// usageError is a mistake on the command line: exit code 2, as risklane's.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run parses the command line into the global flag set (Beam's flags live
// there) and runs the command's pipeline; it returns the exit code.
func run(args []string, stderr io.Writer) int {
	var cmd *command
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		for i := range commands {
			if commands[i].name == args[0] {
				cmd = &commands[i]
			}
		}
		if cmd == nil {
			fmt.Fprintf(stderr, "risklane-beam: unknown command %q; the commands are %s (risklane-beam --help)\n", args[0], names())
			return 2
		}
		args = args[1:]
	}
	var build func(beam.Scope, []string) error
	flag.CommandLine.SetOutput(stderr)
	if cmd != nil {
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		build = cmd.flags(fs)
		fs.VisitAll(func(f *flag.Flag) { flag.CommandLine.Var(f.Value, f.Name, f.Usage) })
		flag.Usage = func() {
			w := flag.CommandLine.Output()
			fmt.Fprintf(w, "usage: risklane-beam %s\n%s\n\nflags:\n", cmd.usage, cmd.short)
			fs.SetOutput(w)
			fs.PrintDefaults()
			fmt.Fprintf(w, "\nBeam's flags choose where it runs: --runner prism (default), flink, spark or dataflow, --endpoint,\n"+
				"--environment_type, --job_name, ... (risklane-beam --help lists them; docs/beam.md)\n")
		}
	} else {
		flag.Usage = func() {
			w := flag.CommandLine.Output()
			fmt.Fprintf(w, "usage: risklane-beam COMMAND [flags] [Beam's flags]\n\ncommands:\n")
			for _, c := range commands {
				fmt.Fprintf(w, "  %-8s %s\n", c.name, c.short)
			}
			fmt.Fprintf(w, "\nrisklane-beam COMMAND --help gives a command's flags. Beam's flags:\n")
			flag.PrintDefaults()
		}
	}
	if err := flag.CommandLine.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	// Started by a runner as its worker (no command), the binary runs the
	// harness here and never returns.
	beam.Init()
	if cmd == nil {
		flag.Usage()
		return 2
	}
	p, s := beam.NewPipelineWithRoot()
	if err := build(s, flag.Args()); err != nil {
		fmt.Fprintf(stderr, "risklane-beam %s: %v\n", cmd.name, err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	if *cpuProfile != "" {
		f, err := sink.CreateNew(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "risklane-beam %s: --cpuprofile: %v\n", cmd.name, err)
			return 2
		}
		defer f.Abort()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "risklane-beam %s: --cpuprofile: %v\n", cmd.name, err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			if err := f.Commit(); err != nil {
				fmt.Fprintf(stderr, "risklane-beam %s: --cpuprofile: %v\n", cmd.name, err)
			}
		}()
	}
	if *memProfile != "" {
		f, err := sink.CreateNew(*memProfile)
		if err != nil {
			fmt.Fprintf(stderr, "risklane-beam %s: --memprofile: %v\n", cmd.name, err)
			return 2
		}
		defer f.Abort()
		stop := watchPeakHeap(time.Second)
		defer func() {
			if _, err := f.Write(stop()); err == nil {
				err = f.Commit()
			}
			if err != nil {
				fmt.Fprintf(stderr, "risklane-beam %s: --memprofile: %v\n", cmd.name, err)
			}
		}()
	}
	restore, err := scratch.Isolate()
	if err != nil {
		fmt.Fprintf(stderr, "risklane-beam %s: %v\n", cmd.name, err)
		return 1
	}
	defer restore()
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(stderr, "risklane-beam %s: %v\n", cmd.name, err)
		return 1
	}
	return 0
}

func names() string {
	var n []string
	for _, c := range commands {
		n = append(n, c.name)
	}
	return strings.Join(n, ", ")
}

// files collects a repeated flag (--in, --trade).
type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }
