package gbdt

import "math"

// This file reproduces the quantile sketch XGBoost 1.7's hist method cuts
// features with (WQuantileSketch<float, float> fed by HostSketchContainer):
// values are pushed in row order into a queue; a full queue is summarised and
// merged into a hierarchy of pruned summaries; the final summary is pruned
// to max_bin*8 entries and then to max_bin+1, whose entries become the cut
// points. On small columns the sketch is exact; on large ones it is an
// approximation, and running XGBoost's own steps, in float32 rank arithmetic,
// gives XGBoost's own cut points, so both trainers see the same bins.

// entry is one value of a quantile summary with its rank bounds (XGBoost's
// WQSummary::Entry; ranks are float32 there too).
type entry struct {
	rmin, rmax, wmin float32
	value            float32
}

func (e *entry) rminNext() float32 { return e.rmin + e.wmin }
func (e *entry) rmaxPrev() float32 { return e.rmax - e.wmin }

// sketch is one column's WQuantileSketch.
type sketch struct {
	limit  int
	queue  []uint64 // orderedBits(value)<<32 | float32 bits of its weight
	levels [][]entry
	temp   []entry
	tmp    []uint64 // radix sort buffer
}

// newSketch sizes the sketch for a column of n values cut into maxBin bins,
// as HostSketchContainer does (eps = 1 / (bins * 8)) and
// QuantileSketchTemplate::LimitSizeLevel derives the summary size.
func newSketch(n, maxBin int, s *sketch) {
	bins := max(1, min(maxBin, n))
	eps := 1.0 / float64(float32(bins)*8)
	for nlevel := 1; ; nlevel++ {
		s.limit = min(n, int(math.Ceil(float64(nlevel)/eps))+1)
		if (1<<nlevel)*s.limit >= n {
			break
		}
	}
	s.queue = s.queue[:0]
	s.levels = s.levels[:0]
}

// push adds one value with weight w, merging it into the queue's last entry
// when equal; a zero weight adds nothing (WQuantileSketch::Push).
func (s *sketch) push(v, w float32) {
	if w == 0 {
		return
	}
	key := uint64(orderedBits(v)) << 32
	n := len(s.queue)
	if n > 0 && s.queue[n-1]&^0xffffffff == key {
		sum := math.Float32frombits(uint32(s.queue[n-1])) + w
		s.queue[n-1] = key | uint64(math.Float32bits(sum))
		return
	}
	if n == 2*s.limit {
		s.temp = s.summariseQueue(s.temp[:0])
		s.queue = s.queue[:0]
		s.pushTemp()
	}
	s.queue = append(s.queue, key|uint64(math.Float32bits(w)))
}

// summariseQueue sorts the queue and appends its exact summary to dst
// (WQSummary::Queue::MakeSummary).
func (s *sketch) summariseQueue(dst []entry) []entry {
	if cap(s.tmp) < len(s.queue) {
		s.tmp = make([]uint64, len(s.queue))
	}
	q := radixSortHigh32(s.queue, s.tmp[:len(s.queue)])
	var wsum float32
	for i := 0; i < len(q); {
		w := math.Float32frombits(uint32(q[i]))
		j := i + 1
		for ; j < len(q) && q[j]>>32 == q[i]>>32; j++ {
			w += math.Float32frombits(uint32(q[j]))
		}
		dst = append(dst, entry{rmin: wsum, rmax: wsum + w, wmin: w, value: fromOrderedBits(uint32(q[i] >> 32))})
		wsum += w
		i = j
	}
	return dst
}

// pushTemp merges s.temp up the levels (QuantileSketchTemplate::PushTemp).
func (s *sketch) pushTemp() {
	for l := 1; ; l++ {
		for len(s.levels) < l+1 {
			s.levels = append(s.levels, nil)
		}
		if len(s.levels[l]) == 0 {
			s.levels[l] = pruneInto(s.levels[l][:0], s.temp, s.limit)
			return
		}
		s.levels[0] = pruneInto(s.levels[0][:0], s.temp, s.limit)
		s.temp = combineInto(s.temp[:0], s.levels[0], s.levels[l])
		if len(s.temp) > s.limit {
			s.levels[l] = s.levels[l][:0]
			continue
		}
		s.levels[l] = append(s.levels[l][:0], s.temp...)
		return
	}
}

// summary returns the final summary (QuantileSketchTemplate::GetSummary).
func (s *sketch) summary() []entry {
	out := s.summariseQueue(nil)
	if len(s.levels) == 0 {
		if len(out) > s.limit {
			out = pruneInto(nil, out, s.limit)
		}
		return out
	}
	s.levels[0] = pruneInto(s.levels[0][:0], out, s.limit)
	for l := 1; l < len(s.levels); l++ {
		if len(s.levels[l]) == 0 {
			continue
		}
		if len(s.levels[0]) == 0 {
			s.levels[0] = append(s.levels[0], s.levels[l]...)
			continue
		}
		out = combineInto(out[:0], s.levels[0], s.levels[l])
		s.levels[0] = pruneInto(s.levels[0][:0], out, s.limit)
	}
	return append([]entry(nil), s.levels[0]...)
}

// pruneInto appends to dst at most maxsize entries of src, chosen at evenly
// spaced ranks with the arithmetic of WQSummary::SetPrune. dst must not
// share memory with src.
func pruneInto(dst, src []entry, maxsize int) []entry {
	if len(src) <= maxsize {
		return append(dst, src...)
	}
	last := len(src) - 1
	begin := src[0].rmax
	span := src[last].rmin - begin
	n := float32(maxsize - 1)
	dst = append(dst, src[0])
	i, taken := 1, 0
	for k := 1; k < maxsize-1; k++ {
		dx2 := 2 * ((float32(k)*span)/n + begin)
		for i < last && dx2 >= src[i+1].rmax+src[i+1].rmin {
			i++
		}
		if i == last {
			break
		}
		pick := i + 1
		if dx2 < src[i].rminNext()+src[i+1].rmaxPrev() {
			pick = i
		}
		if pick != taken {
			dst = append(dst, src[pick])
			taken = pick
		}
	}
	if taken != last {
		dst = append(dst, src[last])
	}
	return dst
}

// combineInto appends to dst the merge of summaries a and b, then repairs
// rounding as WQSummary::SetCombine and FixError do. dst must not share
// memory with a or b.
func combineInto(dst, a, b []entry) []entry {
	if len(a) == 0 {
		return append(dst, b...)
	}
	if len(b) == 0 {
		return append(dst, a...)
	}
	start := len(dst)
	var aPrev, bPrev float32 // rmin just after the last entry taken from a, b
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		x, y := &a[i], &b[j]
		switch {
		case x.value == y.value:
			dst = append(dst, entry{x.rmin + y.rmin, x.rmax + y.rmax, x.wmin + y.wmin, x.value})
			aPrev, bPrev = x.rminNext(), y.rminNext()
			i++
			j++
		case x.value < y.value:
			dst = append(dst, entry{x.rmin + bPrev, x.rmax + y.rmaxPrev(), x.wmin, x.value})
			aPrev = x.rminNext()
			i++
		default:
			dst = append(dst, entry{y.rmin + aPrev, y.rmax + x.rmaxPrev(), y.wmin, y.value})
			bPrev = y.rminNext()
			j++
		}
	}
	for ; i < len(a); i++ {
		x := &a[i]
		dst = append(dst, entry{x.rmin + bPrev, x.rmax + b[len(b)-1].rmax, x.wmin, x.value})
	}
	for ; j < len(b); j++ {
		y := &b[j]
		dst = append(dst, entry{y.rmin + aPrev, y.rmax + a[len(a)-1].rmax, y.wmin, y.value})
	}
	var prevMin, prevMax float32
	for k := start; k < len(dst); k++ {
		e := &dst[k]
		if e.rmin < prevMin {
			e.rmin = prevMin
		} else {
			prevMin = e.rmin
		}
		if e.rmax < prevMax {
			e.rmax = prevMax
		}
		if next := e.rminNext(); e.rmax < next {
			e.rmax = next
		}
		prevMax = e.rmax
	}
	return dst
}
