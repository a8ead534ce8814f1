package stage

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"risklane/features"
)

// Unit values travel by cell, not by reference. features.Tally.Add reports
// a row's log unit value of one basis under the global reference and then
// under each of the row's other references (its hs6, hs4, hs2 and
// hs6_origin key values). Rows with the same references form a cell: their
// values go into the shuffle once, under the cell's HS2 chapter, instead of
// once per reference (five times). One DoFn per chapter then gives every
// reference of the chapter its values. The global reference of a basis has
// every value of the basis: it is a group of its own (one value per row).
// ReferenceOf takes the values in any order, so neither grouping changes a
// reference.

// uvCell is the values of one cell, in the order they were read, and the
// references they belong to.
type uvCell struct {
	Keys []features.UnitValueKey
	X    []float64
}

const globalLevel = "global"

// uvCells gathers a file's unit values by cell and emits them in chunks:
// one element per shuffle key (the basis and chapter, or the basis's
// global reference) per limit values.
type uvCells struct {
	limit, n int
	// The row being reported: its basis and value, its references.
	open  bool
	basis string
	x     float64
	keys  []features.UnitValueKey
	name  []byte
	// The chunk: per shuffle key, its cells (index by name).
	order  []string
	groups map[string]*uvGroup
	emit   func(string, []byte)
	err    error
}

type uvGroup struct {
	index map[string]int
	cells []uvCell
}

func newUVCells(limit int, emit func(string, []byte)) *uvCells {
	if limit <= 0 {
		limit = DefaultChunk
	}
	return &uvCells{limit: limit, groups: map[string]*uvGroup{}, emit: emit}
}

// add is the callback of features.Tally.Add.
func (c *uvCells) add(k features.UnitValueKey, x float64) {
	if c.err != nil {
		return
	}
	if k.Level == globalLevel {
		c.close()
		c.open, c.basis, c.x = true, k.Basis, x
		c.put(k.Basis+"/"+globalLevel, globalLevel, []features.UnitValueKey{k}, x)
		return
	}
	// A row's references follow its global one, with its value.
	if !c.open || k.Basis != c.basis || math.Float64bits(x) != math.Float64bits(c.x) {
		c.err = fmt.Errorf("internal error: unit value %v of reference %+v does not follow its global reference", x, k)
		return
	}
	c.keys = append(c.keys, k)
}

// close puts the row being reported in its cell.
func (c *uvCells) close() {
	if !c.open || c.err != nil {
		return
	}
	c.open = false
	if len(c.keys) == 0 {
		return
	}
	// Every reference of a row is a prefix of its HS code (and the origin):
	// the chapter, the first two characters, is a function of each
	// reference, so a reference's values all go to one chapter.
	chapter := prefix2(c.keys[0].A)
	c.name = c.name[:0]
	for _, k := range c.keys {
		if prefix2(k.A) != chapter {
			c.err = fmt.Errorf("internal error: references %+v and %+v of one row are in different HS2 chapters", c.keys[0], k)
			return
		}
		c.name = append(c.name, k.Level...)
		c.name = append(c.name, 0)
		c.name = append(c.name, k.A...)
		c.name = append(c.name, 0)
		c.name = append(c.name, k.B...)
		c.name = append(c.name, 1)
	}
	c.put(c.basis+"/"+chapter, string(c.name), c.keys, c.x)
	c.keys = c.keys[:0]
}

func prefix2(s string) string { return s[:min(2, len(s))] }

func (c *uvCells) put(shuffle, cell string, keys []features.UnitValueKey, x float64) {
	g, ok := c.groups[shuffle]
	if !ok {
		g = &uvGroup{index: map[string]int{}}
		c.groups[shuffle] = g
		c.order = append(c.order, shuffle)
	}
	i, ok := g.index[cell]
	if !ok {
		i = len(g.cells)
		g.index[cell] = i
		g.cells = append(g.cells, uvCell{Keys: slices.Clone(keys)})
	}
	g.cells[i].X = append(g.cells[i].X, x)
	if c.n++; c.n >= c.limit {
		c.flush()
	}
}

// flush emits the chunk; the row being reported stays open.
func (c *uvCells) flush() {
	if c.err != nil || c.n == 0 {
		return
	}
	for _, sh := range c.order {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(c.groups[sh].cells); err != nil {
			c.err = err
			return
		}
		c.emit(sh, buf.Bytes())
	}
	c.n, c.order = 0, c.order[:0]
	clear(c.groups)
}

// finish emits what is left and returns the first error.
func (c *uvCells) finish() error {
	c.close()
	c.flush()
	return c.err
}

// referencesOf computes the unit-value references of one chapter of a
// basis (or its global reference) from the cells' values, one JSON
// features.Reference per element, in the references' order.
func referencesOf(_ string, chunks func(*[]byte) bool, emit func([]byte)) error {
	vals := map[features.UnitValueKey][]float64{}
	var b []byte
	for chunks(&b) {
		if err := addCells(vals, b); err != nil {
			return err
		}
	}
	keys := make([]features.UnitValueKey, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b features.UnitValueKey) int {
		return strings.Compare(a.Level+"\x00"+a.A+"\x00"+a.B, b.Level+"\x00"+b.A+"\x00"+b.B)
	})
	for _, k := range keys {
		b, err := json.Marshal(features.ReferenceOf(k, vals[k]))
		if err != nil {
			return err
		}
		emit(b)
		delete(vals, k)
	}
	return nil
}

// addCells adds the values of a chunk of cells to their references.
func addCells(vals map[features.UnitValueKey][]float64, chunk []byte) error {
	var cells []uvCell
	if err := gob.NewDecoder(bytes.NewReader(chunk)).Decode(&cells); err != nil {
		return err
	}
	for _, c := range cells {
		for _, k := range c.Keys {
			vals[k] = append(vals[k], c.X...)
		}
	}
	return nil
}
