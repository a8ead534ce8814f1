package rank

import "math"

// A Key packs a score and the row's input ordinal into one word whose
// ascending order is the ranking order: higher scores first, equal scores in
// input order. NaN scores rank last.
//
// The score is held as a float32, the precision XGBoost itself predicts in;
// the ranked file stores that same float32, so its order is exactly "by score,
// ties by input order" for anyone who re-sorts it.
type Key uint64

// MakeKey packs score and ordinal.
func MakeKey(score float32, ord uint32) Key {
	return Key(uint64(descending(score))<<32 | uint64(ord))
}

// Score returns the key's score.
func (k Key) Score() float32 {
	b := ^uint32(k >> 32)
	if b == 0 {
		return float32(math.NaN())
	}
	if b&(1<<31) != 0 {
		b &^= 1 << 31
	} else {
		b = ^b
	}
	return math.Float32frombits(b)
}

// Ord returns the key's input ordinal.
func (k Key) Ord() uint32 { return uint32(k) }

// descending maps a float32 to a uint32 whose ascending order is the float's
// descending order, with every NaN last and -0 equal to +0.
func descending(s float32) uint32 {
	if s != s {
		return math.MaxUint32
	}
	if s == 0 {
		s = 0
	}
	b := math.Float32bits(s)
	if b&(1<<31) != 0 {
		b = ^b // negative: larger magnitude sorts lower
	} else {
		b |= 1 << 31
	}
	return ^b
}

const (
	digitBits = 11
	digits    = 1 << digitBits
)

// Sort orders keys by score, highest first, and returns the sorted slice,
// which is either keys or buf (len(buf) >= len(keys); its contents are
// overwritten).
//
// keys must be in ascending ordinal order, as scoring produces them: Sort is a
// stable least-significant-digit radix sort over the 32 score bits only (three
// passes of 11 bits, each skipped when every key shares that digit), so ties
// stay in input order without sorting the ordinals.
func Sort(keys, buf []Key) []Key {
	n := len(keys)
	if n == 0 {
		return keys
	}
	buf = buf[:n]
	var count [3][digits]int
	for _, k := range keys {
		count[0][(k>>32)&(digits-1)]++
		count[1][(k>>(32+digitBits))&(digits-1)]++
		count[2][(k>>(32+2*digitBits))&(digits-1)]++
	}
	src, dst := keys, buf
	for pass := range 3 {
		shift := 32 + pass*digitBits
		c := &count[pass]
		if c[(src[0]>>shift)&(digits-1)] == n {
			continue
		}
		var pos [digits]int
		sum := 0
		for d := range digits {
			pos[d] = sum
			sum += c[d]
		}
		for _, k := range src {
			d := (k >> shift) & (digits - 1)
			dst[pos[d]] = k
			pos[d]++
		}
		src, dst = dst, src
	}
	return src
}
