// Package notebooks holds the workshop lessons (numbered Markdown files) and
// the test that keeps them true: every command in them runs against a
// freshly built risklane, and the output they show is the output it gives.
package notebooks

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the lessons' output blocks with what the commands print now")

// block is a fenced block of a lesson: the ```sh commands and the ```text
// output shown right after them.
type block struct {
	file     string
	line     int // 1-based line of the opening fence
	commands string
	output   *outputBlock
}

type outputBlock struct {
	start, end int // lines of the text between the fences, 0-based, end exclusive
	text       string
}

// parseLesson finds the ```sh blocks of a lesson and the ```text block that
// follows each (blank lines between them allowed).
func parseLesson(file string, src []byte) ([]block, error) {
	lines := strings.Split(string(src), "\n")
	var out []block
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```sh" {
			continue
		}
		b := block{file: file, line: i + 1}
		j := i + 1
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
		}
		if j == len(lines) {
			return nil, fmt.Errorf("%s:%d: the ```sh block is not closed", file, i+1)
		}
		b.commands = strings.Join(lines[i+1:j], "\n")
		k := j + 1
		for k < len(lines) && strings.TrimSpace(lines[k]) == "" {
			k++
		}
		if k < len(lines) && strings.TrimSpace(lines[k]) == "```text" {
			e := k + 1
			for ; e < len(lines) && strings.TrimSpace(lines[e]) != "```"; e++ {
			}
			if e == len(lines) {
				return nil, fmt.Errorf("%s:%d: the ```text block is not closed", file, k+1)
			}
			b.output = &outputBlock{start: k + 1, end: e, text: strings.Join(lines[k+1:e], "\n")}
			j = e
		}
		out = append(out, b)
		i = j
	}
	return out, nil
}

// Things that differ from run to run and are masked on both sides: times
// and speeds, and the IDs of models and runs (hashes that cover the
// training time and the creation date).
var volatile = []*regexp.Regexp{
	regexp.MustCompile(`\b\d+(\.\d+)? ?(s|ms|µs)\b`),
	regexp.MustCompile(`\b\d+(\.\d+)? ?(rows|declarations|MB)/s\b`),
	regexp.MustCompile(`\b[0-9a-f]{16}\b`),
}

func normalise(s string) []string {
	for _, re := range volatile {
		s = re.ReplaceAllString(s, "~")
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		out = append(out, strings.TrimRight(l, " \t"))
	}
	return out
}

// matches compares output with what a lesson shows. In the lesson, a line
// "..." stands for any number of lines, and "[...]" within a line for any
// text.
func matches(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "..." {
		for k := 0; k <= len(got); k++ {
			if matches(want[1:], got[k:]) {
				return true
			}
		}
		return false
	}
	if len(got) == 0 || !lineMatches(want[0], got[0]) {
		return false
	}
	return matches(want[1:], got[1:])
}

func lineMatches(want, got string) bool {
	if !strings.Contains(want, "[...]") {
		return want == got
	}
	parts := strings.Split(want, "[...]")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(got)
}

// TestLessons runs the lessons in order in one folder, as a participant
// would: lesson 4 trains on the files lesson 1 unpacked.
func TestLessons(t *testing.T) {
	if testing.Short() {
		t.Skip("the lessons build risklane and run the whole pipeline")
	}
	files, err := filepath.Glob("[0-9][0-9]-*.md")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	if len(files) < 5 {
		t.Fatalf("found %d lessons, want at least 5", len(files))
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build risklane with")
	}
	build := exec.Command(gobin, "build", "-o", filepath.Join(bin, "risklane"), "../cmd/risklane")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building risklane: %v\n%s", err, out)
	}
	work := filepath.Join(tmp, "workshop")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "LC_ALL=C", "NO_COLOR=1")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := parseLesson(f, src)
		if err != nil {
			t.Fatal(err)
		}
		if len(blocks) == 0 {
			t.Errorf("%s has no ```sh block", f)
		}
		lines := strings.Split(string(src), "\n")
		changed := false
		// Blocks are rewritten from the last so that line numbers stay valid.
		outputs := make([]string, len(blocks))
		for i, b := range blocks {
			cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", b.commands)
			cmd.Dir, cmd.Env = work, env
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s:%d: %v\n%s\noutput:\n%s", b.file, b.line, err, b.commands, out.String())
			}
			outputs[i] = out.String()
			if b.output == nil {
				continue
			}
			if !matches(normalise(b.output.text), normalise(outputs[i])) {
				if *update {
					changed = true
					continue
				}
				t.Errorf("%s:%d: the output of\n%s\ndiffers from the lesson's.\nlesson:\n%s\nnow:\n%s\n(go test ./notebooks -run TestLessons -update rewrites the lessons)",
					b.file, b.line, b.commands, b.output.text, outputs[i])
			}
		}
		if !changed {
			continue
		}
		for i := len(blocks) - 1; i >= 0; i-- {
			o := blocks[i].output
			if o == nil || matches(normalise(o.text), normalise(outputs[i])) {
				continue
			}
			repl := strings.Split(strings.TrimRight(outputs[i], "\n"), "\n")
			lines = append(lines[:o.start], append(repl, lines[o.end:]...)...)
		}
		if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the output blocks of %s", f)
	}
}

func TestMatches(t *testing.T) {
	for _, c := range []struct {
		want, got string
		ok        bool
	}{
		{"a\nb", "a\nb", true},
		{"a\nb", "a\nc", false},
		{"a\n...\nd", "a\nb\nc\nd", true},
		{"a\n...\nd", "a\nd", true},
		{"a\n...", "a\nb\nc", true},
		{"a\n...\nd", "a\nb\nc", false},
		{"Model [...] written to model", "Model 0123abcd written to model", true},
		{"Model [...] written to model", "Model x written to models", false},
		{"Trained in 9.2s", "Trained in 10.1s", true},
		{"20000 rows in 0.16s: 128976 rows/s, 18.4 MB/s", "20000 rows in 1.2s: 99 rows/s, 3 MB/s", true},
		{"Model 420208dd36f95a72, ranked", "Model 5ed25b3c3a8f36ca, ranked", true},
		{"a[x]b", "a[x]b", true},
		{"scored 5478 declarations in 0.4 s, 12869 declarations/s", "scored 5478 declarations in 1.1 s, 99 declarations/s", true},
		{"scored 5478 declarations", "scored 5479 declarations", false},
	} {
		if got := matches(normalise(c.want), normalise(c.got)); got != c.ok {
			t.Errorf("matches(%q, %q) = %v, want %v", c.want, c.got, got, c.ok)
		}
	}
}

func TestParseLesson(t *testing.T) {
	src := "# x\n\n```sh\necho a\necho b\n```\n\n```text\na\nb\n```\n\ntext\n```sh\ntrue\n```\n"
	bs, err := parseLesson("x.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].commands != "echo a\necho b" || bs[0].output == nil || bs[0].output.text != "a\nb" ||
		bs[0].line != 3 || bs[1].output != nil || bs[1].commands != "true" {
		t.Errorf("got %+v", bs)
	}
	if _, err := parseLesson("x.md", []byte("```sh\necho\n")); err == nil {
		t.Error("an unclosed block: want an error")
	}
}
