package choropleth

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"risklane/ingest"
)

// Options say which columns of the table to draw.
type Options struct {
	// Country names the column that holds the country (code or name);
	// Value the numeric column that colours the map; Time, if set, the
	// column whose distinct values become the steps of the time slider.
	Country, Value, Time string
	// Title is the page's heading; empty gives "VALUE by country".
	Title string
}

// Map is a table ready to draw.
type Map struct {
	Title string
	Path  string
	// Columns are the table's columns, every one of which the tooltip
	// shows; Value, Country and Time name the chosen ones.
	Columns              []string
	Country, Value, Time string
	// Times are the slider's steps in order (numeric order when every time
	// is a number, text order otherwise); one empty step without Time.
	Times []string
	// Frames[i] are the areas drawn at Times[i].
	Frames [][]Area
	// Min and Max bound the values of every frame (the legend's range, so
	// that colours compare across time); NaN without any value.
	Min, Max float64
	// Rows counts the table's readable rows; Placed those drawn.
	Rows, Placed int
	// Unmatched lists the country texts that could not be placed, with the
	// lines they are on; Unplaced the countries that were recognised but
	// have no outline on the map (too small at 1:110m). Neither is drawn,
	// both are listed on the page.
	Unmatched []Miss
	Unplaced  []Miss
	// NoValue lists the rows whose value is empty or not a number: they
	// are drawn uncoloured, their tooltip still shows every column.
	NoValue []Miss
	// Bad are the table's unreadable rows.
	Bad []ingest.BadRow
}

// Area is one country at one time.
type Area struct {
	Place Place
	// Value is NaN when the row has none.
	Value float64
	// Cells are the row's values, one per Map.Columns.
	Cells []string
	Line  int64
}

// Miss is a country text (or a value) that was not drawn, and where.
type Miss struct {
	Text  string
	Lines []int64
}

// Build matches the table's countries and arranges its rows by time. Two
// rows for one country at one time are an error that names both lines.
func Build(t *ingest.Table, opt Options) (*Map, error) {
	col := func(flag, name string) (int, error) {
		if name == "" {
			return -1, fmt.Errorf("%s: give the %s column", t.Path, flag)
		}
		i, ok := t.Column(name)
		if !ok {
			return -1, fmt.Errorf("%s: no column %q for %s; the columns are %s", t.Path, name, flag, strings.Join(t.Header, ", "))
		}
		return i, nil
	}
	ci, err := col("country", opt.Country)
	if err != nil {
		return nil, err
	}
	vi, err := col("value", opt.Value)
	if err != nil {
		return nil, err
	}
	ti := -1
	if opt.Time != "" {
		if ti, err = col("time", opt.Time); err != nil {
			return nil, err
		}
	}
	m := &Map{Title: opt.Title, Path: t.Path, Columns: t.Header, Country: opt.Country, Value: opt.Value, Time: opt.Time,
		Rows: len(t.Rows), Bad: t.Bad, Min: math.NaN(), Max: math.NaN()}
	if m.Title == "" {
		m.Title = opt.Value + " by country"
	}
	frameOf := map[string]int{}
	type key struct {
		frame, num int
	}
	seen := map[key]int64{}
	unmatched, unplaced, novalue := missList{}, missList{}, missList{}
	for r, row := range t.Rows {
		line := t.Lines[r]
		p, ok, err := Match(row[ci])
		if err != nil {
			return nil, err
		}
		if !ok {
			unmatched.add(row[ci], line)
			continue
		}
		if p.Outline == "" {
			text := p.Name
			if raw := strings.TrimSpace(row[ci]); raw != p.Name {
				text += " (" + raw + ")"
			}
			unplaced.add(text, line)
			continue
		}
		tm := ""
		if ti >= 0 {
			tm = strings.TrimSpace(row[ti])
		}
		f, ok := frameOf[tm]
		if !ok {
			f = len(m.Times)
			frameOf[tm] = f
			m.Times = append(m.Times, tm)
			m.Frames = append(m.Frames, nil)
		}
		if prev, dup := seen[key{f, p.Numeric}]; dup {
			at := ""
			if ti >= 0 {
				at = fmt.Sprintf(" at %s %q", opt.Time, tm)
			}
			return nil, fmt.Errorf("%s: lines %d and %d both give %s%s; a map shows one value per country (aggregate the table first)",
				t.Path, prev, line, p.Name, at)
		}
		seen[key{f, p.Numeric}] = line
		v := math.NaN()
		if s := strings.TrimSpace(row[vi]); s != "" {
			x, err := strconv.ParseFloat(s, 64)
			if err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
				v = x
			}
		}
		if math.IsNaN(v) {
			novalue.add(fmt.Sprintf("%s: %q", p.Name, row[vi]), line)
		} else {
			m.Min, m.Max = nanMin(m.Min, v), nanMax(m.Max, v)
		}
		m.Frames[f] = append(m.Frames[f], Area{Place: p, Value: v, Cells: row, Line: line})
		m.Placed++
	}
	m.Unmatched, m.Unplaced, m.NoValue = unmatched.list(), unplaced.list(), novalue.list()
	order := make([]int, len(m.Times))
	for i := range order {
		order[i] = i
	}
	numeric := true
	nums := make([]float64, len(m.Times))
	for i, s := range m.Times {
		x, err := strconv.ParseFloat(s, 64)
		numeric = numeric && err == nil
		nums[i] = x
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if numeric {
			return cmp.Compare(nums[a], nums[b])
		}
		return cmp.Compare(m.Times[a], m.Times[b])
	})
	times, frames := make([]string, len(order)), make([][]Area, len(order))
	for i, o := range order {
		times[i], frames[i] = m.Times[o], m.Frames[o]
	}
	m.Times, m.Frames = times, frames
	if len(m.Times) == 0 {
		m.Times, m.Frames = []string{""}, [][]Area{nil}
	}
	return m, nil
}

func nanMin(a, b float64) float64 {
	if math.IsNaN(a) || b < a {
		return b
	}
	return a
}

func nanMax(a, b float64) float64 {
	if math.IsNaN(a) || b > a {
		return b
	}
	return a
}

// missList gathers misses in the order first seen.
type missList struct {
	idx   map[string]int
	items []Miss
}

func (l *missList) add(text string, line int64) {
	if l.idx == nil {
		l.idx = map[string]int{}
	}
	i, ok := l.idx[text]
	if !ok {
		i = len(l.items)
		l.idx[text] = i
		l.items = append(l.items, Miss{Text: text})
	}
	l.items[i].Lines = append(l.items[i].Lines, line)
}

func (l *missList) list() []Miss { return l.items }
