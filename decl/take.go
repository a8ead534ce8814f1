package decl

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Take builds a batch of the given row ranges [from, to) of b, in order: a
// slice of b for one range, a copy for several. The caller releases it.
func Take(b arrow.RecordBatch, runs [][2]int) (arrow.RecordBatch, error) {
	if len(runs) == 1 {
		return b.NewSlice(int64(runs[0][0]), int64(runs[0][1])), nil
	}
	cols := make([]arrow.Array, b.NumCols())
	n := 0
	for _, r := range runs {
		n += r[1] - r[0]
	}
	for c := range cols {
		parts := make([]arrow.Array, len(runs))
		for k, r := range runs {
			parts[k] = array.NewSlice(b.Column(c), int64(r[0]), int64(r[1]))
		}
		col, err := array.Concatenate(parts, memory.DefaultAllocator)
		for _, p := range parts {
			p.Release()
		}
		if err != nil {
			for _, done := range cols[:c] {
				done.Release()
			}
			return nil, fmt.Errorf("taking rows of column %q: %w", b.Schema().Field(c).Name, err)
		}
		cols[c] = col
	}
	rec := array.NewRecordBatch(b.Schema(), cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}
