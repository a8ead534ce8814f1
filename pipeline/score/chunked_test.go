package score

import (
	"slices"
	"testing"
)

// flatten gives the values set, in order, zeros where none was set: from
// one chunk (its own memory) and from several (a chunk of zeros never
// allocated in between).
func TestChunkedFlatten(t *testing.T) {
	for _, n := range []int{1, 1000, chunkRows, 2*chunkRows + 17} {
		var c chunked[uint64]
		want := make([]uint64, n)
		for i := range n {
			if i/chunkRows == 1 { // the middle chunk stays zero
				continue
			}
			want[i] = uint64(i)*7 + 1
			c.set(i, want[i])
		}
		if n > chunkRows {
			c.set(chunkRows+5, 0)
		}
		if got := c.flatten(); !slices.Equal(got, want) {
			t.Errorf("%d values: flatten differs from the values set", n)
		}
	}
}
