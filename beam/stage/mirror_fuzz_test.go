package stage

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"risklane/features/mirror"
)

// FuzzMirrorParts gives the mirror stage's reading (readPartFn: one
// mirror.ReadPart per file, gob-encoded to cross workers) and its analysis
// (gapsOf: the parts decoded and added in file order) two arbitrary trade
// files, and compares with what risklane mirror does with them
// (mirror.Analyze): both refuse, or both give the same gap table, rejects
// and signal dictionary, byte for byte. The pipeline's runner is not used:
// the DoFns are called as a worker calls them.
func FuzzMirrorParts(f *testing.F) {
	hand, err := os.ReadFile(filepath.Join("..", "..", "features", "mirror", "testdata", "handworked_bulk.csv"))
	if err != nil {
		f.Fatal(err)
	}
	api, err := os.ReadFile(filepath.Join("..", "..", "features", "mirror", "testdata", "handworked_api.csv"))
	if err != nil {
		f.Fatal(err)
	}
	lines := strings.SplitAfter(string(hand), "\n")
	f.Add(hand, []byte{})
	f.Add([]byte(strings.Join(lines[:8], "")), []byte(lines[0]+lines[1]+strings.Join(lines[8:], "")))
	f.Add(hand, api)
	f.Add([]byte(lines[0]+lines[1]+"HS,2024,2024\n"), hand)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, one, two []byte) {
		paths := []string{filepath.Join(dir, "t1.csv"), filepath.Join(dir, "t2.csv")}
		for i, b := range [][]byte{one, two} {
			if err := os.WriteFile(paths[i], b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		const reporter = "KEN"
		want, werr := mirror.Analyze(mirror.DefaultConfig(reporter), paths...)

		var parts []filePart
		read := &readPartFn{Reporter: reporter}
		var rerr error
		for i, p := range paths {
			if rerr = read.ProcessElement(fileIn{Index: i, Path: p}, func(fp filePart) { parts = append(parts, fp) }); rerr != nil {
				break
			}
		}
		var got *mirror.Gaps
		gerr := rerr
		if rerr == nil {
			// the parts arrive in any order (here the second file first);
			// gapsOf puts them in file order
			k := len(parts) - 1
			got, gerr = gapsOf(MirrorConfig{Reporter: reporter}, nil, func(fp *filePart) bool {
				if k < 0 {
					return false
				}
				*fp = parts[k]
				k--
				return true
			})
		}
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("risklane mirror: %v; the stage: %v", werr, gerr)
		}
		if werr != nil {
			return
		}
		for _, out := range []string{"gaps.csv", "gaps.parquet", "rejects.csv", "signals.json"} {
			w, g := outputOf(t, want, filepath.Join(dir, "want-"+out)), outputOf(t, got, filepath.Join(dir, "got-"+out))
			if !bytes.Equal(w, g) {
				t.Fatalf("%s differs:\nrisklane mirror:\n%s\nthe stage:\n%s", out, w, g)
			}
		}
	})
}

// outputOf writes the output of g that path's name says and returns its
// bytes.
func outputOf(t *testing.T, g *mirror.Gaps, path string) []byte {
	t.Helper()
	var err error
	switch base := filepath.Base(path); {
	case strings.HasSuffix(base, "rejects.csv"):
		err = g.WriteRejects(path)
	case strings.HasSuffix(base, "signals.json"):
		var buf bytes.Buffer
		if err = g.Signals().WriteJSON(&buf); err == nil {
			return buf.Bytes()
		}
	default:
		err = g.WriteTable(path)
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
