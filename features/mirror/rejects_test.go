package mirror

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestWriteRejectsLayout: the mirror's rejects file is a rejects file as
// ingest writes one: the same header, and a value that is not UTF-8 (a
// latin-1 Comtrade export) written with its invalid bytes as \xNN, so that
// the file itself stays UTF-8.
func TestWriteRejectsLayout(t *testing.T) {
	g := &Gaps{Rejects: []Reject{{File: "c.csv", Line: 7, Column: "Partner", Value: "C\xf4te d'Ivoire", Reason: "unknown partner"}}}
	g.Summary.Rejected = 1
	path := filepath.Join(t.TempDir(), "rejects.csv")
	if err := g.WriteRejects(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "file,line,column,value,reason\nc.csv,7,Partner,C\\xF4te d'Ivoire,unknown partner\n"
	if string(b) != want || !utf8.Valid(b) {
		t.Errorf("rejects file\n%s\nwant\n%s", b, want)
	}
	if !strings.HasPrefix(string(b), "file,line,column,value,reason\n") {
		t.Error("not the rejects header")
	}
}
