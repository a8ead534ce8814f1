package gbdt

import (
	"sync"
	"sync/atomic"
)

// blockRows is the fixed size of the row blocks that parallel loops hand out.
// It does not depend on the thread count, so neither do the results.
const blockRows = 8192

// parallelFor calls fn(task) for every task in [0, tasks) on up to threads
// goroutines. Tasks must write disjoint outputs; any reduction over them is
// done by the caller in task order, which keeps results independent of the
// number of threads and of scheduling.
func parallelFor(threads, tasks int, fn func(task int)) {
	if threads <= 1 || tasks <= 1 {
		for i := range tasks {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(threads, tasks) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= tasks {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// forBlocks splits [0, n) into fixed blocks of blockRows and calls fn on each
// block in parallel.
func forBlocks(threads, n int, fn func(lo, hi int)) {
	blocks := (n + blockRows - 1) / blockRows
	parallelFor(threads, blocks, func(b int) {
		lo := b * blockRows
		fn(lo, min(lo+blockRows, n))
	})
}
