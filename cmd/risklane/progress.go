package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/schollz/progressbar/v3"

	"risklane/ingest"
	"risklane/ingest/profile"
	"risklane/pipeline/run"
)

// The long commands (score, run, ingest, generate, cluster, report) show
// their progress one way: a bar per stage on stderr when stderr is a
// terminal, and nothing otherwise, so that cron mail, journald and pipes get
// only the summary (score and run log instead, see reporting). train shows
// its per-round evaluation log under the same rule (evalLog). --quiet turns
// the display off on a terminal too.

// onTerminal reports whether w is a terminal; tests replace it to see what
// a terminal would show.
var onTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newProgress is the progress display of a long command writing to stderr.
func newProgress(stderr io.Writer, quiet bool) run.Progress {
	if quiet || !onTerminal(stderr) {
		return run.NoProgress{}
	}
	return &bar{w: stderr}
}

// bar shows a command's progress on a terminal, one bar per stage.
type bar struct {
	w   io.Writer
	cur *progressbar.ProgressBar
}

// rowStages are the stages that report rows as they go, so that their rate
// means something; the others move in a few jumps.
var rowStages = map[string]bool{"score": true, "ingest": true, "read": true, "generate": true}

func (b *bar) Stage(name string, total int64) {
	b.Done()
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(fmt.Sprintf("%-8s", name)),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.w) }),
	}
	if rowStages[name] {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"))
	}
	b.cur = progressbar.NewOptions64(total, opts...)
}

func (b *bar) Set(done int64) {
	if b.cur != nil {
		b.cur.Set64(done)
	}
}

func (b *bar) Done() {
	if b.cur != nil {
		b.cur.Finish()
		b.cur = nil
	}
}

// readAll reads every batch of the files through the profile, as
// ingest.ReadAll does, showing the rows read as the stage "read".
func readAll(paths []string, p *profile.Profile, opt ingest.Options, pr run.Progress) ([]arrow.RecordBatch, ingest.Stats, error) {
	r, err := ingest.OpenFiles(paths, p, opt)
	if err != nil {
		return nil, ingest.Stats{}, err
	}
	defer r.Close()
	pr.Stage("read", -1)
	defer pr.Done()
	var out []arrow.RecordBatch
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		out = append(out, rec)
		pr.Set(r.Stats().Read)
	}
	if err := r.Err(); err != nil {
		for _, rec := range out {
			rec.Release()
		}
		return nil, r.Stats(), err
	}
	return out, r.Stats(), nil
}
