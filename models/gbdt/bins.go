package gbdt

import (
	"math"
	"sort"
)

// binned is the quantised training matrix: one uint8 bin code per cell,
// stored column by column (see BenchmarkHistogramLayout for why), with the
// float32 cut points that map bins back to split thresholds.
//
// Bin b of feature f holds the values v with cuts[f][b-1] <= v < cuts[f][b]
// (bin 0 everything below cuts[f][0]), exactly as XGBoost's
// HistogramCuts::SearchBin assigns them. The last cut lies above the largest
// training value. A missing value gets code nBins[f], which fits in a uint8
// because features with missing values get at most 255 value bins.
type binned struct {
	rows    int
	codes   [][]uint8
	cuts    [][]float32
	minVal  []float32 // below every training value: the threshold that sends all values right
	nBins   []int
	missing []bool // the feature has missing training values
}

// threshold returns the float32 split condition that sends exactly the
// values of bins 0..bin to the left: float32(x) < threshold(f, bin). bin -1
// sends every value right.
func (b *binned) threshold(f, bin int) float32 {
	if bin < 0 {
		return b.minVal[f]
	}
	return b.cuts[f][bin]
}

// quantise cuts every column of m into at most maxBin bins.
func quantise(m *Matrix, maxBin, threads int) *binned {
	nf := len(m.Cols)
	b := &binned{
		rows:    m.Rows,
		codes:   make([][]uint8, nf),
		cuts:    make([][]float32, nf),
		minVal:  make([]float32, nf),
		nBins:   make([]int, nf),
		missing: make([]bool, nf),
	}
	scratch := make(chan *sortScratch, threads)
	for range threads {
		scratch <- &sortScratch{}
	}
	parallelFor(threads, nf, func(f int) {
		s := <-scratch
		b.quantiseColumn(f, m.Cols[f], m.Weights, maxBin, s)
		scratch <- s
	})
	return b
}

// sortScratch holds one goroutine's sort buffers, reused across columns.
type sortScratch struct {
	keys, tmp []uint64
	sketch    sketch
}

// quantiseColumn bins column f; weights, when not nil, weigh its values in
// the sketch as XGBoost's do, so the cut points (and the minimum and maximum
// that bound them) come from the rows of positive weight only, while every
// row gets a code.
func (b *binned) quantiseColumn(f int, col, weights []float64, maxBin int, s *sortScratch) {
	// Sort (value, row) pairs once: the sorted order gives both the
	// quantiles and, in one more pass, every row's bin.
	keys := s.keys[:0]
	for i, x := range col {
		v := float32(x)
		if v != v {
			continue
		}
		keys = append(keys, uint64(orderedBits(v))<<32|uint64(i))
	}
	s.keys = keys
	if cap(s.tmp) < len(keys) {
		s.tmp = make([]uint64, len(keys))
	}
	keys = radixSortHigh32(keys, s.tmp[:len(keys)])

	codes := make([]uint8, len(col))
	b.codes[f] = codes
	b.missing[f] = len(keys) < len(col)
	if len(keys) == 0 {
		// An all-missing column has no bins and can never be split on.
		return
	}
	lo, hi := fromOrderedBits(uint32(keys[0]>>32)), fromOrderedBits(uint32(keys[len(keys)-1]>>32))

	// XGBoost's cut points: sketch the values in row order, prune the
	// summary to max_bin*8 entries, then to the bins wanted plus one, and
	// cut at every entry but the first. The sketch is sized by every value
	// (XGBoost counts a column's entries whatever their weights).
	sk := &s.sketch
	newSketch(len(keys), maxBin, sk)
	if weights == nil {
		for _, x := range col {
			if v := float32(x); v == v {
				sk.push(v, 1)
			}
		}
	} else {
		seen := false
		for i, x := range col {
			v, w := float32(x), float32(weights[i])
			if v != v || w == 0 {
				continue
			}
			sk.push(v, w)
			if !seen || v < lo {
				lo = v
			}
			if !seen || v > hi {
				hi = v
			}
			seen = true
		}
		if !seen {
			// Every value has weight 0: like an all-missing column, no
			// bins and never split on (codes stay 0, the missing code).
			b.missing[f] = true
			return
		}
	}
	intermediate := min(len(keys), maxBin*8)
	wanted := min(intermediate, maxBin)
	pruned := pruneInto(nil, pruneInto(nil, sk.summary(), intermediate), wanted+1)
	var at []entry // the cut points' entries
	for i := 1; i < min(len(pruned), wanted); i++ {
		if e := pruned[i]; len(at) == 0 || e.value > at[len(at)-1].value {
			at = append(at, e)
		}
	}
	cuts := make([]float32, 0, len(at)+1)
	for _, e := range at {
		cuts = append(cuts, e.value)
	}
	if b.missing[f] && len(cuts) > 254 {
		cuts = mergeSmallest(cuts, keys)
	}
	cuts = append(cuts, above(hi))
	b.cuts[f] = cuts
	b.minVal[f] = below(lo)
	nb := len(cuts)
	b.nBins[f] = nb

	for i := range codes {
		codes[i] = uint8(nb) // missing, unless overwritten below
	}
	bin := 0
	for _, k := range keys {
		v := fromOrderedBits(uint32(k >> 32))
		for bin < nb-1 && v >= cuts[bin] {
			bin++
		}
		codes[uint32(k)] = uint8(bin)
	}
}

// mergeSmallest drops the one cut point whose two bins together hold the
// fewest values (the first such on a tie), leaving 255 bins and a uint8 code
// free for missing values. XGBoost keeps 256 bins; every other cut point
// stays as XGBoost's. keys are the column's sorted keys.
func mergeSmallest(cuts []float32, keys []uint64) []float32 {
	// start(k) is the number of values below bin k's lower bound.
	start := func(k int) int {
		switch {
		case k == 0:
			return 0
		case k > len(cuts):
			return len(keys)
		}
		bound := uint64(orderedBits(cuts[k-1])) << 32
		return sort.Search(len(keys), func(i int) bool { return keys[i] >= bound })
	}
	drop, fewest := 0, len(keys)+1
	for k := range cuts { // dropping cut k merges bins k and k+1
		if c := start(k+2) - start(k); c < fewest {
			drop, fewest = k, c
		}
	}
	return append(cuts[:drop:drop], cuts[drop+1:]...)
}

// xgbEps is XGBoost's 1e-5f, widened to double as its cut arithmetic does.
const xgbEps = float64(float32(1e-5))

// above returns XGBoost's last cut, max + (|max| + 1e-5) computed in double
// and stored as float32, which lies above every training value; near
// float32's limit it saturates.
func above(hi float32) float32 {
	v := float32(float64(hi) + (math.Abs(float64(hi)) + xgbEps))
	if math.IsInf(float64(v), 1) {
		if hi < math.MaxFloat32 {
			return math.MaxFloat32
		}
		return float32(math.Inf(1))
	}
	return v
}

// below returns XGBoost's minimum value, min - |min| - 1e-5 computed in
// double and stored as float32.
func below(lo float32) float32 {
	v := float32(float64(lo) - math.Abs(float64(lo)) - xgbEps)
	if math.IsInf(float64(v), -1) {
		if lo > -math.MaxFloat32 {
			return -math.MaxFloat32
		}
		return float32(math.Inf(-1))
	}
	return v
}

// orderedBits maps a float32 to a uint32 whose unsigned order is the float
// order (with -0 folded onto +0, as float comparison treats them).
func orderedBits(v float32) uint32 {
	if v == 0 {
		v = 0
	}
	u := math.Float32bits(v)
	if u&0x80000000 != 0 {
		return ^u
	}
	return u | 0x80000000
}

func fromOrderedBits(u uint32) float32 {
	if u&0x80000000 != 0 {
		return math.Float32frombits(u &^ 0x80000000)
	}
	return math.Float32frombits(^u)
}

// radixSortHigh32 sorts keys by their upper 32 bits (LSD, 8 bits a pass,
// stable), using tmp as the second buffer; it returns the sorted slice,
// which is either keys or tmp.
func radixSortHigh32(keys, tmp []uint64) []uint64 {
	if len(keys) < 2 {
		return keys
	}
	for shift := 32; shift < 64; shift += 8 {
		var count [256]int
		for _, k := range keys {
			count[uint8(k>>shift)]++
		}
		if count[uint8(keys[0]>>shift)] == len(keys) {
			continue // every key has this byte: the pass would not move anything
		}
		pos := 0
		for i, c := range count {
			count[i] = pos
			pos += c
		}
		for _, k := range keys {
			d := uint8(k >> shift)
			tmp[count[d]] = k
			count[d]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}
