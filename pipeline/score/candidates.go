package score

import (
	"math"
	"sync/atomic"

	"risklane/pipeline/rank"
)

// candidates keeps the best keys the first pass has seen, as many as the red
// and yellow lanes hold. A row whose key is not better than the worst of them
// is beaten by that many rows already and cannot end in those lanes: it
// needs no reasons.
//
// How many rows the lanes hold depends on how many rows the input has. With
// an upper bound on that (Config.RowsHint: Parquet footers, CSV line counts)
// the heap has its final size from the start and the rule is exact whatever
// the order of the rows. Without one, the heap grows with the rows seen, with
// a margin of a quarter and 1,024 rows; a row can then be missed when the
// input is ordered by risk, best first. Join checks that every red and yellow
// row had its reasons written and re-reads the input for any that did not,
// so a miss costs time, never correctness.
//
// The heap belongs to the collector goroutine; workers only read the
// threshold, a key published atomically. A stale threshold is never too
// strict: the worst kept key only ever falls.
type candidates struct {
	explained func(int) int
	hint      int
	heap      []rank.Key // max-heap: the worst kept key on top
	limit     int
	filled    bool
	threshold atomic.Uint64
}

func newCandidates(explained func(int) int, rowsHint int) *candidates {
	c := &candidates{explained: explained, hint: rowsHint}
	if rowsHint > 0 {
		c.limit = explained(rowsHint)
	}
	c.threshold.Store(math.MaxUint64) // keep every row until the heap first fills
	return c
}

// seen raises the heap's size for n rows seen, unless the bound on the row
// count sized it already (and holds).
func (c *candidates) seen(n int) {
	if n <= c.hint {
		return
	}
	k := c.explained(n)
	c.limit = max(c.limit, k+k/4+1024)
}

// offer considers a key the workers kept.
func (c *candidates) offer(k rank.Key) {
	h := c.heap
	switch {
	case len(h) < c.limit:
		h = append(h, k)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if h[p] >= h[i] {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
	case len(h) > 0 && k < h[0]:
		h[0] = k
		for i := 0; ; {
			l, r, m := 2*i+1, 2*i+2, i
			if l < len(h) && h[l] > h[m] {
				m = l
			}
			if r < len(h) && h[r] > h[m] {
				m = r
			}
			if m == i {
				break
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	default:
		return
	}
	c.heap = h
	if len(h) >= c.limit {
		c.filled = true
	}
	// Once the heap has been full, its worst key is the bar, even while a
	// larger limit lets it grow again: the rows it holds all beat that bar.
	if c.filled {
		c.threshold.Store(uint64(h[0]))
	}
}
