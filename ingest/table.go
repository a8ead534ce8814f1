package ingest

import (
	"fmt"
	"unicode/utf8"
)

// Table is a small input file read whole as text: a country table for a map,
// a price list. Every value is its text as the file holds it (typed Parquet
// and Arrow values as formatCell renders them, nulls as ""). A row that is
// unusable as a whole (wrong field count, broken quoting, invalid UTF-8) is
// not in Rows but in Bad, with its line and reason: nothing is dropped
// silently.
type Table struct {
	Path   string
	Header []string
	Rows   [][]string
	// Lines holds each row's position: the CSV line it starts on (the header
	// is line 1) or its 1-based row number in a typed file.
	Lines []int64
	Bad   []BadRow
}

// BadRow is a row of a Table that could not be read.
type BadRow struct {
	Line   int64
	Reason string
}

// Error words a bad row for a message or a rejects file.
func (b BadRow) Error() string { return fmt.Sprintf("line %d: %s", b.Line, b.Reason) }

// MaxTableRows bounds ReadTable: tables it reads are summaries (countries,
// products), never declarations.
const MaxTableRows = 1 << 20

// ReadTable reads a CSV (comma-separated, optionally gzip-compressed),
// Parquet or Arrow IPC file whole, sniffing its format as declaration inputs
// are. Errors name the file.
func ReadTable(path string) (*Table, error) {
	src, err := openTable(path)
	if err != nil {
		return nil, err
	}
	defer src.close()
	t := &Table{Path: path, Header: src.names()}
	cols := make([]int, len(t.Header))
	for i := range cols {
		cols[i] = i
	}
	if err := src.start(cols); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var buf []byte
	for src.next() {
		line := src.line()
		if why, _ := src.problem(); why != "" {
			t.Bad = append(t.Bad, BadRow{line, why})
			continue
		}
		if len(t.Rows) == MaxTableRows {
			return nil, fmt.Errorf("%s: more than %d rows; this command reads summary tables, not declarations", path, MaxTableRows)
		}
		row := make([]string, len(cols))
		ok := true
		for i := range cols {
			buf = formatCell(buf[:0], src.cell(i))
			if !utf8.Valid(buf) {
				t.Bad = append(t.Bad, BadRow{line, fmt.Sprintf("column %q is not valid UTF-8 text", t.Header[i])})
				ok = false
				break
			}
			row[i] = string(buf)
		}
		if ok {
			t.Rows = append(t.Rows, row)
			t.Lines = append(t.Lines, line)
		}
	}
	if err := src.err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// openTable opens a table file of any input format as declaration inputs
// are opened, with their defaults (comma-separated UTF-8 CSV, fields up to
// DefaultMaxFieldBytes): the one way in for the readers of plain tables,
// ReadTable, ReadRecord and OpenNumeric. Errors name the file.
func openTable(path string) (source, error) {
	src, _, err := openSource(path, ',', nil, recordLimit(DefaultMaxFieldBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return src, nil
}

// Column returns the index of the named column, and false when the table
// has none.
func (t *Table) Column(name string) (int, bool) {
	for i, h := range t.Header {
		if h == name {
			return i, true
		}
	}
	return -1, false
}
