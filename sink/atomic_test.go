package sink

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteAtomic: a write that fails leaves the file that was at path as
// it was and no temporary file beside it; one that succeeds replaces it
// whole.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte("the analyst's old report"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := errors.New("template: no such function")
	err := WriteAtomic(path, func(w io.Writer) error {
		io.WriteString(w, "half a page")
		return bad
	})
	if !errors.Is(err, bad) || !strings.Contains(err.Error(), path) {
		t.Fatalf("failed write: %v, want %v naming %s", err, bad, path)
	}
	if b, _ := os.ReadFile(path); string(b) != "the analyst's old report" {
		t.Fatalf("a failed write changed %s: %q", path, b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("a failed write left litter: %v", ents)
	}
	if err := WriteFileAtomic(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("written: %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("a write left litter: %v", ents)
	}
	if err := WriteAtomic(filepath.Join(dir, "missing", "x.html"), func(io.Writer) error { return nil }); err == nil {
		t.Fatal("wrote into a missing folder")
	}
}

// TestWritebackWriter: an output written through writebackWriter in pieces
// of every size, across several writeback points, reads back byte for byte,
// and the writeback points advance with the bytes written.
func TestWritebackWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.bin")
	f, err := CreateAtomic(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	w := &writebackWriter{f: f}
	var want []byte
	for i := 0; len(want) < 2*writebackBytes+12345; i++ {
		p := make([]byte, 1+(i*7919)%(3<<20))
		for j := range p {
			p[j] = byte(i + j*31)
		}
		if n, err := w.Write(p); err != nil || n != len(p) {
			t.Fatalf("Write: %d, %v", n, err)
		}
		want = append(want, p...)
		if w.off != int64(len(want)) || w.flush > w.off || w.off-w.flush >= writebackBytes {
			t.Fatalf("after %d bytes: off %d, writeback up to %d", len(want), w.off, w.flush)
		}
	}
	if w.flush < 2*writebackBytes {
		t.Fatalf("writeback started up to %d of %d bytes", w.flush, len(want))
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, wrote %d; not the same", len(got), len(want))
	}
}
