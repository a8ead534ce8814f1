package stage

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"risklane/features"
)

// TestCountsChunksMergeToTheirSum cuts the counts of three files into
// shards and chunks of a few key values, merges every chunk of a shard in a
// random order as the combiner may, and wants each key value's sum over the
// files once, in exactly one shard.
func TestCountsChunksMergeToTheirSum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	want := map[features.CountKey]features.KeyCount{}
	byShard := map[int][][]keyCount{}
	for file := range 3 {
		counts := map[features.CountKey]features.KeyCount{}
		for range 2000 {
			k := features.CountKey{Key: []string{"hs6", "importer", "importer_hs6"}[r.IntN(3)], A: fmt.Sprint(r.IntN(300))}
			if k.Key == "importer_hs6" {
				k.B = fmt.Sprint(r.IntN(50))
			}
			c := features.KeyCount{Rows: 1, Labelled: int64(r.IntN(2))}
			c.Illicit = c.Labelled * int64(r.IntN(2))
			old := counts[k]
			old.Add(c)
			counts[k] = old
			w := want[k]
			w.Add(c)
			want[k] = w
		}
		chunk := []int{1, 7, 0}[file]
		emitCounts(counts, chunk, func(sh int, kcs []keyCount) {
			if chunk > 0 && len(kcs) > chunk {
				t.Errorf("file %d: a chunk of %d key values, want at most %d", file, len(kcs), chunk)
			}
			byShard[sh] = append(byShard[sh], append([]keyCount(nil), kcs...))
		})
	}
	got := map[features.CountKey]features.KeyCount{}
	for sh, chunks := range byShard {
		if sh < 0 || sh >= countShards {
			t.Fatalf("shard %d of %d", sh, countShards)
		}
		r.Shuffle(len(chunks), func(i, j int) { chunks[i], chunks[j] = chunks[j], chunks[i] })
		var acc []keyCount
		for _, c := range chunks {
			acc = mergeCounts(acc, c)
		}
		for i, kc := range acc {
			if i > 0 && compareCountKeys(acc[i-1].Key, kc.Key) >= 0 {
				t.Fatalf("shard %d: merged counts not sorted at %v", sh, kc.Key)
			}
			if _, dup := got[kc.Key]; dup {
				t.Fatalf("%v in two shards", kc.Key)
			}
			got[kc.Key] = kc.Count
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d key values, want %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%v: %+v, want %+v", k, got[k], w)
		}
	}
}
