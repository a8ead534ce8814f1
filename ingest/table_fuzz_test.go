package ingest

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadTable gives ReadTable (the reader of country tables, price lists
// and rates) arbitrary bytes. Whatever the input: no panic, every row kept
// has the header's width and a line after the header's. For plain CSV that
// encoding/csv reads strictly without error (a second, independent reader),
// the header (names trimmed of spaces and tabs) and rows must be the ones
// encoding/csv reads.
func FuzzReadTable(f *testing.F) {
	f.Add([]byte("iso3,name\nKEN,Kenya\nCHN,China\n"))
	f.Add([]byte("a,b\n\"x,1\",\"y\"\"z\"\n\"multi\nline\",2\r\n"))
	f.Add([]byte("a,b\n1\n2,3,4\n\"open,5\n"))
	f.Add([]byte("\xef\xbb\xbfcurrency,rate\nEUR,1.08\nKES,\xff\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "t.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tab, err := ReadTable(path)
		if err != nil {
			return
		}
		if len(tab.Rows) != len(tab.Lines) {
			t.Fatalf("%d rows, %d lines", len(tab.Rows), len(tab.Lines))
		}
		for i, row := range tab.Rows {
			if len(row) != len(tab.Header) {
				t.Fatalf("row %d has %d fields for %d columns", i, len(row), len(tab.Header))
			}
			if tab.Lines[i] < 2 || (i > 0 && tab.Lines[i] <= tab.Lines[i-1]) {
				t.Fatalf("row %d on line %d after line %d", i, tab.Lines[i], tab.Lines[max(i-1, 0)])
			}
		}
		for _, b := range tab.Bad {
			if b.Line < 2 || b.Reason == "" {
				t.Fatalf("bad row without a line or reason: %+v", b)
			}
		}
		if !plainCSV(data) {
			return
		}
		r := csv.NewReader(bytes.NewReader(data))
		want, err := r.ReadAll()
		if err != nil || len(want) == 0 {
			return
		}
		for i, h := range want[0] {
			want[0][i] = strings.Trim(h, " \t") // column names are trimmed, values are not
		}
		if !reflect.DeepEqual(tab.Header, want[0]) {
			t.Fatalf("header %q, encoding/csv reads %q", tab.Header, want[0])
		}
		if len(tab.Bad) != 0 {
			t.Fatalf("bad rows %v in a file encoding/csv reads whole", tab.Bad)
		}
		if len(tab.Rows) != len(want)-1 || (len(tab.Rows) > 0 && !reflect.DeepEqual(tab.Rows, want[1:])) {
			t.Fatalf("rows %q, encoding/csv reads %q", tab.Rows, want[1:])
		}
	})
}

// plainCSV: input both readers should agree on: valid UTF-8 without
// carriage returns, byte-order mark, blank lines or a sniffed binary format
// (gzip, Parquet, Arrow), which encoding/csv reads differently or not at all.
func plainCSV(data []byte) bool {
	if !utf8.Valid(data) || bytes.ContainsAny(data, "\r\x00") || bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return false
	}
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) || bytes.HasPrefix(data, []byte("PAR1")) || bytes.HasPrefix(data, []byte("ARROW1")) {
		return false
	}
	return !bytes.HasPrefix(data, []byte("\n")) && !bytes.Contains(data, []byte("\n\n"))
}
