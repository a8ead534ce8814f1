package ingest

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// NumericTable reads a plain table of numbers by column name, such as the feature
// table `risklane features export` writes and `risklane predict` scores,
// from CSV, Parquet or Arrow through the same readers as declarations (and
// their safety checks). No profile applies: the columns are the table's own.
//
// A missing value (a null, an empty CSV field, NA, NaN, null) is NaN; any
// other text that is not a number is an error naming the file, the line and
// the column.
type NumericTable struct {
	path  string
	src   source
	names []string
	cols  []int // index in the file of each wanted column
	id    int   // index in the file of the id column, -1 if none
	buf   []byte
}

// OpenNumeric opens path and finds the wanted columns, and the id column when
// id is not "" (its values are carried as text). A wanted column the table
// lacks is an error that lists every one missing.
func OpenNumeric(path string, columns []string, id string) (*NumericTable, error) {
	src, err := openTable(path)
	if err != nil {
		return nil, err
	}
	names := src.names()
	at := make(map[string]int, len(names))
	for i, n := range names {
		if _, dup := at[n]; !dup {
			at[n] = i
		}
	}
	t := &NumericTable{path: path, src: src, names: names, id: -1}
	var missing []string
	for _, c := range columns {
		i, ok := at[c]
		if !ok {
			missing = append(missing, strconv.Quote(c))
		}
		t.cols = append(t.cols, i)
	}
	if len(missing) > 0 {
		src.close()
		return nil, fmt.Errorf("%s: %d columns the model needs are not in the table: %s", path, len(missing), strings.Join(missing, ", "))
	}
	if id != "" {
		i, ok := at[id]
		if !ok {
			src.close()
			return nil, fmt.Errorf("%s: no column %q (--id)", path, id)
		}
		t.id = i
	}
	start := append([]int(nil), t.cols...)
	if t.id >= 0 {
		start = append(start, t.id)
	}
	if err := src.start(uniq(start)); err != nil {
		src.close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func uniq(cols []int) []int {
	seen := map[int]bool{}
	out := cols[:0]
	for _, c := range cols {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// Names returns every column name of the table, in file order.
func (t *NumericTable) Names() []string { return t.names }

// Read reads up to n rows: their wanted columns into x (row-major, one value
// per wanted column each) and, with an id column, their ids into ids. It
// returns the number of rows read, 0 at the end of the table.
func (t *NumericTable) Read(x []float64, ids []string, n int) (int, error) {
	nc := len(t.cols)
	k := 0
	for k < n && t.src.next() {
		if prob, _ := t.src.problem(); prob != "" {
			return k, fmt.Errorf("%s line %d: %s", t.path, t.src.line(), prob)
		}
		for j, c := range t.cols {
			v, err := t.number(t.src.cell(c))
			if err != nil {
				return k, fmt.Errorf("%s line %d, column %q: %w", t.path, t.src.line(), t.names[c], err)
			}
			x[k*nc+j] = v
		}
		if t.id >= 0 && ids != nil {
			t.buf = formatCell(t.buf[:0], t.src.cell(t.id))
			ids[k] = string(t.buf)
		}
		k++
	}
	if err := t.src.err(); err != nil {
		return k, fmt.Errorf("%s: %w", t.path, err)
	}
	return k, nil
}

// number converts one cell; see NumericTable for what counts as missing.
func (t *NumericTable) number(c cell) (float64, error) {
	switch c.kind {
	case kindNull:
		return math.NaN(), nil
	case kindFloat:
		return c.f, nil
	case kindInt, kindBool:
		return float64(c.i), nil
	case kindText:
		s := bytes.TrimSpace(c.text)
		switch string(s) {
		case "", "NA", "NaN", "nan", "null", "NULL":
			return math.NaN(), nil
		}
		v, err := strconv.ParseFloat(string(s), 64)
		if err != nil || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		return v, nil
	}
	return 0, fmt.Errorf("a date where a number is expected")
}

// Close releases the file.
func (t *NumericTable) Close() error { return t.src.close() }
