package ingest

import (
	"bufio"
	"fmt"
	"strconv"
	"unicode/utf8"

	"risklane/sink"
)

// RejectHeader is the header of a rejects file, as RejectFile writes it and
// every row reader's rejects file has it.
var RejectHeader = []string{"file", "line", "column", "value", "reason"}

// Record returns r as a row of a rejects file (RejectHeader). A value that
// is not valid UTF-8 is written with each invalid byte as \xNN, so the
// rejects file itself stays UTF-8.
func (r Reject) Record() []string {
	return []string{r.File, strconv.FormatInt(r.Line, 10), r.Column, escapeInvalid(r.Value), r.Reason}
}

// RejectFile is a RejectSink writing a CSV file with the header
// RejectHeader, at most sink.MaxRejectRows rows. It is written
// under a temporary name and appears under its final name only on Commit.
type RejectFile struct {
	path string
	af   *sink.AtomicFile
	buf  *bufio.Writer
	w    *sink.CSVWriter
	n    int64
	last Reject // the last reject left out
}

// CreateRejectFile starts a rejects file at path.
func CreateRejectFile(path string) (*RejectFile, error) {
	af, err := sink.CreateAtomic(path)
	if err != nil {
		return nil, err
	}
	f := &RejectFile{path: path, af: af, buf: bufio.NewWriterSize(af, 64<<10)}
	f.w = sink.NewCSVWriter(f.buf)
	if err := f.w.Write(RejectHeader); err != nil {
		af.Abort()
		return nil, fmt.Errorf("rejects %s: %w", path, err)
	}
	return f, nil
}

// Reject writes one rejected row (see Reject.Record).
func (f *RejectFile) Reject(r Reject) error {
	f.n++
	if f.n > sink.MaxRejectRows {
		f.last = r
		return nil
	}
	if err := f.w.Write(r.Record()); err != nil {
		return fmt.Errorf("rejects %s: %w", f.path, err)
	}
	return nil
}

// Count returns the number of rejected rows so far, written or not.
func (f *RejectFile) Count() int64 { return f.n }

// Commit completes the file and gives it its final name.
func (f *RejectFile) Commit() error {
	if more := f.n - sink.MaxRejectRows; more > 0 {
		f.w.Write([]string{f.last.File, strconv.FormatInt(f.last.Line, 10), "", "",
			fmt.Sprintf("%d more rejected rows not written, up to this line: a rejects file keeps the first %d", more, sink.MaxRejectRows)})
	}
	f.w.Flush()
	if err := f.w.Error(); err != nil {
		f.af.Abort()
		return fmt.Errorf("rejects %s: %w", f.path, err)
	}
	if err := f.buf.Flush(); err != nil {
		f.af.Abort()
		return fmt.Errorf("rejects %s: %w", f.path, err)
	}
	return f.af.Commit()
}

// Abort discards the file. It is safe to defer Abort and call Commit.
func (f *RejectFile) Abort() { f.af.Abort() }

func escapeInvalid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			out = fmt.Appendf(out, `\x%02X`, s[i])
			i++
			continue
		}
		out = append(out, s[i:i+size]...)
		i += size
	}
	return string(out)
}
