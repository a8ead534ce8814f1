package date

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
	"risklane/models/xgb"
)

// leafTable maps each tree's XGBoost leaf node ids to rows of the leaf
// embedding: row Base[t]+Index[t][node].
type leafTable struct {
	Base  []int32
	Index [][]int32 // -1 for split nodes
	Rows  int
	// Value is each row's leaf value: the tree's output at that leaf.
	Value []float64
}

func newLeafTable(m *xgb.Model) leafTable {
	lt := leafTable{Base: make([]int32, len(m.Trees)), Index: make([][]int32, len(m.Trees))}
	for t := range m.Trees {
		tr := &m.Trees[t]
		lt.Base[t] = int32(lt.Rows)
		idx := make([]int32, tr.NumNodes())
		k := int32(0)
		for n := range idx {
			idx[n] = -1
			if tr.IsLeaf(n) {
				idx[n] = k
				k++
				lt.Value = append(lt.Value, float64(tr.SplitCondition[n]))
			}
		}
		lt.Index[t] = idx
		lt.Rows += int(k)
	}
	return lt
}

// rowsOf turns node ids (row-major, one per tree) into embedding rows, in
// place.
func (lt *leafTable) rowsOf(nodes []int32) error {
	T := len(lt.Base)
	for lo := 0; lo < len(nodes); lo += T {
		row := nodes[lo:min(lo+T, len(nodes))]
		for t, n := range row {
			idx := lt.Index[t]
			if uint(n) >= uint(len(idx)) || idx[n] < 0 {
				return fmt.Errorf("date: tree %d has no leaf %d", t, n)
			}
			row[t] = lt.Base[t] + idx[n]
		}
	}
	return nil
}

// vocab maps importers or HS codes to embedding rows; row 0 is the learned
// "unseen" row, for codes absent from training or too rare in it.
type vocab map[string]int32

// newVocab gives a row to every value seen at least minCount times in
// values, in sorted order so that the same data gives the same rows.
func newVocab(values []string, minCount int) vocab {
	count := map[string]int{}
	for _, v := range values {
		count[v]++
	}
	var keep []string
	for v, c := range count {
		if c >= minCount && v != "" {
			keep = append(keep, v)
		}
	}
	slices.Sort(keep)
	m := vocab{}
	for i, v := range keep {
		m[v] = int32(i + 1)
	}
	return m
}

func (v vocab) rows() int { return len(v) + 1 }

func (v vocab) lookup(values []string, dst []int32) []int32 {
	for _, s := range values {
		dst = append(dst, v[s]) // absent: 0, the unseen row
	}
	return dst
}

// readStrings appends the values of the string column name of rec to dst;
// a null or an absent column gives "", which maps to the unseen row.
func readStrings(rec arrow.RecordBatch, name string, dst []string) ([]string, error) {
	t, _, err := decl.Strings(rec, name)
	if err != nil {
		return nil, fmt.Errorf("date: %w", err)
	}
	for i := range int(rec.NumRows()) {
		v, _ := t.Value(i)
		dst = append(dst, v)
	}
	return dst, nil
}

// ValidationStart returns the first day of the latest dates that hold about
// frac of the rows of batches: the start of the validation period of a
// split by date, which DATE and GBDT+LR carve from their training rows.
func ValidationStart(batches []arrow.RecordBatch, frac float64) (time.Time, error) {
	var days []int32
	for bi, b := range batches {
		d, ok, err := decl.Get[*array.Date32](b, decl.Date)
		if err != nil {
			return time.Time{}, fmt.Errorf("date: %w", err)
		}
		if !ok {
			return time.Time{}, fmt.Errorf("date: batch %d has no %q column to split on", bi+1, decl.Date)
		}
		for i := range d.Len() {
			if d.IsValid(i) {
				days = append(days, int32(d.Value(i)))
			}
		}
	}
	if len(days) < 2 {
		return time.Time{}, fmt.Errorf("date: %d dated rows; a split by date needs more", len(days))
	}
	slices.Sort(days)
	k := min(len(days)-1, int(math.Ceil(float64(len(days))*(1-frac))))
	cut := days[k]
	if cut == days[0] {
		return time.Time{}, fmt.Errorf("date: every row is dated %s; a split by date needs several dates", arrow.Date32(cut).ToTime().Format(time.DateOnly))
	}
	return arrow.Date32(cut).ToTime(), nil
}
