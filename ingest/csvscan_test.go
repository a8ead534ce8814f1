package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

type scanned struct {
	fields  []string
	line    int64
	problem string
}

func scanAll(t testing.TB, r io.Reader, maxRecord int) []scanned {
	s := newCSVScanner(r, ',', maxRecord)
	s.skipBOM()
	var out []scanned
	for s.next() {
		rec := scanned{line: s.recLine, problem: s.problem}
		if rec.problem == "" {
			for _, f := range s.fields {
				rec.fields = append(rec.fields, string(f))
			}
		}
		out = append(out, rec)
		if len(out) > 1e6 {
			t.Fatal("scanner does not advance")
		}
	}
	if s.err != nil {
		t.Fatalf("read error: %v", s.err)
	}
	return out
}

// stdScan is the reference: encoding/csv, with the line each record starts on.
func stdScan(input string) ([]scanned, error) {
	r := csv.NewReader(strings.NewReader(input))
	r.FieldsPerRecord = -1
	var out []scanned
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		line, _ := r.FieldPos(0)
		out = append(out, scanned{fields: rec, line: int64(line)})
	}
}

func TestCSVScannerMatchesEncodingCSV(t *testing.T) {
	inputs := []string{
		"a,b,c\n1,2,3\n",
		"a,b,c\r\n1,2,3\r\n",
		"a,b\n1,2",
		"a,b\n1,2\r",
		"a,b\n\n\n1,2\n\n",
		"a,b\n\"x,y\",2\n",
		"a,b\n\"x\ny\",2\n3,4\n",
		"a,b\n\"x\r\ny\",2\r\n3,4\n",
		"a,b\n\"say \"\"hi\"\"\",2\n",
		"a,b\n\"\",\"\"\n",
		"a,b,\n1,,\n",
		"a,b\n,\n",
		"a\n\"\n\"\n",
		"a,b\n1,\"2\"",
		"a,b\n1,\"2\"\r",
		"a,b\n1,\"2\"\r\n",
		"a,\"b\nc\",d\n1,2,3\n",
		" a , b \n 1 , 2 \n",
	}
	for _, in := range inputs {
		want, err := stdScan(in)
		if err != nil {
			t.Fatalf("reference rejects %q: %v", in, err)
		}
		for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
			if got := scanAll(t, r, 1<<16); !reflect.DeepEqual(got, want) {
				t.Errorf("%q:\n got %v\nwant %v", in, got, want)
			}
		}
	}
}

func TestCSVScannerProblems(t *testing.T) {
	tests := []struct {
		in   string
		want []scanned
	}{
		{"h\na\"b\nc\n", []scanned{{fields: []string{"h"}, line: 1}, {line: 2, problem: "quote inside an unquoted field"}, {fields: []string{"c"}, line: 3}}},
		{"h\n\"a\"b\nc\n", []scanned{{fields: []string{"h"}, line: 1}, {line: 2, problem: "after a closing quote"}, {fields: []string{"c"}, line: 3}}},
		// A stray opening quote must not swallow the following lines.
		{"h\n\"abc\nd\ne\n", []scanned{{fields: []string{"h"}, line: 1}, {line: 2, problem: "not closed before the end of the file"}, {fields: []string{"d"}, line: 3}, {fields: []string{"e"}, line: 4}}},
		{"h\n\"abc\nd\"x\ne\n", []scanned{{fields: []string{"h"}, line: 1}, {line: 2, problem: "runs past the end of this line"}, {line: 3, problem: "quote inside"}, {fields: []string{"e"}, line: 4}}},
		{"h\n" + strings.Repeat("x", 300) + "\ny\n", []scanned{{fields: []string{"h"}, line: 1}, {line: 2, problem: "record limit"}, {fields: []string{"y"}, line: 3}}},
		{"h\n\"" + strings.Repeat("x\n", 300) + "\ny\n", nil}, // checked below: no panic, resyncs
		{"\xef\xbb\xbfh,i\n1,2\n", []scanned{{fields: []string{"h", "i"}, line: 1}, {fields: []string{"1", "2"}, line: 2}}},
	}
	for _, tt := range tests {
		for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
			got := scanAll(t, r, 256)
			if tt.want == nil {
				if len(got) < 2 || got[1].problem == "" || got[len(got)-1].fields[0] != "y" {
					t.Errorf("%.20q: %v", tt.in, got)
				}
				continue
			}
			if len(got) != len(tt.want) {
				t.Errorf("%q: got %v, want %v", tt.in, got, tt.want)
				continue
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.line != w.line || !strings.Contains(g.problem, w.problem) || (w.problem == "" && g.problem != "") ||
					(w.problem == "" && !reflect.DeepEqual(g.fields, w.fields)) {
					t.Errorf("%q record %d: got %+v, want %+v", tt.in, i, g, w)
				}
			}
		}
	}
}

// FuzzCSVScanner compares the scanner with encoding/csv on every input the
// latter accepts, reading all at once and one byte at a time; on other
// inputs it must still terminate without panicking and keep line numbers
// increasing.
func FuzzCSVScanner(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a,\"b\nc\",d\n", "\"x\"\"y\",z\r\n", "a\"b\n", "\"abc\nd\n", "\n\n", "\xef\xbb\xbfa\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := scanAll(t, strings.NewReader(in), 1<<16)
		one := scanAll(t, iotest.OneByteReader(strings.NewReader(in)), 1<<16)
		if !reflect.DeepEqual(got, one) {
			t.Fatalf("%q: whole %v, byte by byte %v", in, got, one)
		}
		for i := 1; i < len(got); i++ {
			if got[i].line <= got[i-1].line {
				t.Fatalf("%q: line numbers %v", in, got)
			}
		}
		if bytes.HasPrefix([]byte(in), []byte("\xef\xbb\xbf")) {
			return
		}
		want, err := stdScan(in)
		if err != nil {
			return
		}
		if len(got) == 0 && len(want) == 0 {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %v\nwant %v", in, got, want)
		}
	})
}

// splitRef is splitFields the plain way: bytes.Split, and a byte-by-byte
// check for ASCII without NUL.
func splitRef(line []byte, comma byte) ([]string, bool) {
	var fields []string
	for _, f := range bytes.Split(line, []byte{comma}) {
		fields = append(fields, string(f))
	}
	ascii := true
	for _, c := range line {
		if c == 0 || c >= 0x80 {
			ascii = false
		}
	}
	return fields, ascii
}

func checkSplit(t *testing.T, line []byte, comma byte) {
	t.Helper()
	got, ascii := splitFields(nil, line, comma)
	var gs []string
	for _, f := range got {
		gs = append(gs, string(f))
	}
	want, wantASCII := splitRef(line, comma)
	if !reflect.DeepEqual(gs, want) || ascii != wantASCII {
		t.Fatalf("splitFields(%q, %q) = %q, %v; want %q, %v", line, comma, gs, ascii, want, wantASCII)
	}
}

// TestSplitFields puts separators, their neighbours in value (a separator
// with its lowest bit flipped is what a carry-propagating zero-byte test
// mistakes for one), NUL and non-ASCII bytes at every position of lines of
// every length around the eight-byte word.
func TestSplitFields(t *testing.T) {
	for _, comma := range []byte{',', ';', '\t', '|'} {
		special := []byte{comma, comma ^ 1, comma + 1, comma - 1, 0, 0x80, 0xff, 'a'}
		for n := 0; n <= 26; n++ {
			for pos := range n {
				for _, c := range special {
					for _, d := range special {
						line := bytes.Repeat([]byte{'x'}, n)
						line[pos] = c
						line[(pos+7)%n] = d
						checkSplit(t, line, comma)
						line[(pos+1)%n] = comma
						checkSplit(t, line, comma)
					}
				}
			}
		}
	}
	checkSplit(t, []byte("SGD1,13-01-02,IMP,DEC1,C,O,8703232926,1,2,3,4,5,0,0"), ',')
}

// FuzzSplitFields: any line splits as bytes.Split splits it.
func FuzzSplitFields(f *testing.F) {
	f.Add([]byte("SGD1,13-01-02,IMP-,DEC1,,O,8703232926,1,2,3,4,5,0,0"), byte(','))
	f.Add([]byte(",-,-,-,-,-,-,-,\x00\x80,"), byte(','))
	f.Fuzz(func(t *testing.T, line []byte, comma byte) {
		checkSplit(t, line, comma)
	})
}
