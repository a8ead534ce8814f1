package sink

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCheckPaths(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte("x"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.Link(in, filepath.Join(dir, "hard.csv"))
	os.Symlink("in.csv", filepath.Join(dir, "soft.csv"))
	os.Symlink(".", filepath.Join(dir, "here"))
	model := filepath.Join(dir, "model")
	os.Mkdir(model, 0o755)
	Mark(model)
	os.WriteFile(filepath.Join(model, "model.json"), []byte("{}"), 0o644)
	users := filepath.Join(dir, "users")
	os.Mkdir(users, 0o755)
	os.WriteFile(filepath.Join(users, "notes.txt"), []byte("mine"), 0o644)
	os.Mkdir(filepath.Join(dir, "empty"), 0o755)

	ins := []Path{{Flag: "--in", Name: in}}
	for _, c := range []struct {
		name string
		ins  []Path
		outs []Path
		want string // "" for no error, else a part of it
	}{
		{"distinct", ins, []Path{{Flag: "--out", Name: filepath.Join(dir, "out.csv")}, {Flag: "--rejects", Name: ""}}, ""},
		{"out is the input", ins, []Path{{Flag: "--out", Name: in}}, "--out " + in + " and --in " + in + " are the same file"},
		{"by another route", ins, []Path{{Flag: "--out", Name: filepath.Join(dir, "sub", "..", "in.csv")}}, "are the same file"},
		{"hard link", ins, []Path{{Flag: "--out", Name: filepath.Join(dir, "hard.csv")}}, "are the same file"},
		{"symbolic link", ins, []Path{{Flag: "--out", Name: filepath.Join(dir, "soft.csv")}}, "are the same file"},
		{"two outputs, one name", nil, []Path{{Flag: "--out", Name: filepath.Join(dir, "o.csv")}, {Flag: "--rejects", Name: filepath.Join(dir, "here", "o.csv")}},
			"--out " + filepath.Join(dir, "o.csv") + " and --rejects"},
		{"out is a folder", nil, []Path{{Flag: "--out", Name: filepath.Join(dir, "sub")}}, "is a folder"},
		{"folder output: ours", nil, []Path{{Flag: "--out", Name: model, Dir: true}}, ""},
		{"folder output: empty", nil, []Path{{Flag: "--out", Name: filepath.Join(dir, "empty"), Dir: true}}, ""},
		{"folder output: new", nil, []Path{{Flag: "--out", Name: filepath.Join(dir, "new"), Dir: true}}, ""},
		{"folder output: a user's", nil, []Path{{Flag: "--out", Name: users, Dir: true}}, "risklane did not write it"},
		{"folder output: a user's, recognised", nil, []Path{{Flag: "--out", Name: users, Dir: true, Ours: func(string) bool { return true }}}, ""},
		{"folder output over a file", ins, []Path{{Flag: "--out", Name: filepath.Join(dir, "hard.csv"), Dir: true}}, "not a folder"},
		{"input inside a folder output", []Path{{Flag: "--in", Name: filepath.Join(model, "model.json")}}, []Path{{Flag: "--out", Name: model, Dir: true}},
			"--in " + filepath.Join(model, "model.json") + " lies inside the folder --out"},
		{"output inside a folder output", nil, []Path{{Flag: "--rejects", Name: filepath.Join(dir, "here", "model", "r.csv")}, {Flag: "--out", Name: model, Dir: true}},
			"lies inside the folder --out"},
	} {
		err := CheckPaths(c.ins, c.outs)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v; want ErrConflict and %q", c.name, err, c.want)
		}
	}
}

// A killed run's temporary files and folders go; a live one's, and what
// merely looks alike (a symbolic link), stay.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "ranked.parquet")
	live, err := CreateAtomic(final)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	liveDir, err := MkdirTemp(dir, TempPrefix(final))
	if err != nil {
		t.Fatal(err)
	}
	defer liveDir.Remove()
	os.WriteFile(filepath.Join(dir, TempPrefix(final)+"dead"), []byte("half"), 0o600)
	os.MkdirAll(filepath.Join(dir, TempPrefix(final)+"deaddir", "x"), 0o700)
	os.Symlink("ranked.parquet", filepath.Join(dir, TempPrefix(final)+"link"))
	os.WriteFile(filepath.Join(dir, "other.tmp-1"), nil, 0o600)

	removed, err := RemoveStale(dir, TempPrefix(final))
	if err != nil {
		t.Fatal(err)
	}
	for i := range removed {
		removed[i] = filepath.Base(removed[i])
	}
	slices.Sort(removed)
	if want := []string{TempPrefix(final) + "dead", TempPrefix(final) + "deaddir"}; !slices.Equal(removed, want) {
		t.Fatalf("removed %v, want %v", removed, want)
	}
	// The live file is still writable and commits.
	live.Write([]byte("whole"))
	if err := live.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(final); string(b) != "whole" {
		t.Fatalf("final file %q", b)
	}
}

// A folder output is never put in place of a folder risklane did not write,
// and a kill between Commit's two renames is undone by RecoverDir.
func TestAtomicDirOwnership(t *testing.T) {
	parent := t.TempDir()
	final := filepath.Join(parent, "model")
	os.Mkdir(final, 0o755)
	os.WriteFile(filepath.Join(final, "thesis.tex"), []byte("mine"), 0o644)
	d, err := CreateDirAtomic(final)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(); !errors.Is(err, ErrNotOurs) {
		t.Fatalf("commit over a user's folder: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(final, "thesis.tex")); string(b) != "mine" {
		t.Fatal("the user's file is gone")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Fatalf("left behind: %d entries", len(entries))
	}

	// A marked folder moved aside, its replacement never renamed in (the
	// state a kill between the renames leaves): recovered.
	os.RemoveAll(final)
	aside := filepath.Join(parent, asidePrefix(final)+"123")
	os.Mkdir(aside, 0o755)
	Mark(aside)
	os.WriteFile(filepath.Join(aside, "model.json"), []byte("old"), 0o644)
	if err := RecoverDir(final); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(final, "model.json")); string(b) != "old" {
		t.Fatalf("not restored: %q", b)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Fatalf("left behind: %d entries", len(entries))
	}
}
