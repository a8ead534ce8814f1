package ingest

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/parquet-go/parquet-go"

	"risklane/ingest/profile"
	"risklane/sink"
)

// pqColumns reads a Parquet file with parquet-go, an implementation
// independent of the arrow-go writer under test, and returns its leaf
// columns by name.
func pqColumns(t *testing.T, path string) (names []string, cols map[string][]parquet.Value, meta map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("parquet-go cannot open %s: %v", path, err)
	}
	for _, c := range pf.Schema().Columns() {
		names = append(names, strings.Join(c, "."))
	}
	cols = make(map[string][]parquet.Value, len(names))
	buf := make([]parquet.Row, 512)
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				for _, v := range row {
					name := names[v.Column()]
					cols[name] = append(cols[name], v.Clone())
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("parquet-go reading %s: %v", path, err)
			}
		}
		rows.Close()
	}
	meta = map[string]string{}
	for _, kv := range pf.Metadata().KeyValueMetadata {
		meta[kv.Key] = kv.Value
	}
	return names, cols, meta
}

// collect is a RejectSink that keeps every reject.
type collect struct{ got []Reject }

func (c *collect) Reject(r Reject) error {
	c.got = append(c.got, r)
	return nil
}

// ingestTo reads paths through a profile and writes the batches to out
// through sink, as `risklane ingest` does.
func ingestTo(t testing.TB, paths []string, p *profile.Profile, out string, opt Options) Stats {
	t.Helper()
	r, err := OpenFiles(paths, p, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := sink.Create(out, r.Schema())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for r.Next() {
		if err := w.Write(r.RecordBatch()); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return r.Stats()
}

func mustProfile(t testing.TB, name string) *profile.Profile {
	t.Helper()
	p, err := profile.Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fieldIndex returns the position of a field that must exist.
func fieldIndex(s *arrow.Schema, name string) int {
	idx := s.FieldIndices(name)
	if len(idx) != 1 {
		panic("no field " + name)
	}
	return idx[0]
}
