package sink

import "encoding/binary"

// Parquet's RLE / bit-packing hybrid (parquet-format Encodings.md): a
// sequence of runs, each either a repeated value (header count<<1, the value
// in ceil(width/8) little-endian bytes) or groups of eight values packed
// width bits each, least significant bit first (header groups<<1 | 1). Only
// the last group of a stream may be padded.

// appendHybrid appends the hybrid encoding of vs, each < 1<<width
// (1 <= width <= 32). A run of eight or more equal values starting on a
// group boundary of the pending literals is written as a repeat.
func appendHybrid(dst []byte, vs []uint32, width int) []byte {
	lit := 0 // start of the literals not yet written
	i := 0
	n := len(vs)
	for i+8 <= n {
		v := vs[i]
		if vs[i+1] == v && vs[i+2] == v && vs[i+3] == v && vs[i+4] == v && vs[i+5] == v && vs[i+6] == v && vs[i+7] == v {
			dst = appendPacked(dst, vs[lit:i], width)
			j := i + 8
			for j < n && vs[j] == v {
				j++
			}
			dst = appendRepeat(dst, v, j-i, width)
			i, lit = j, j
			continue
		}
		i += 8
	}
	return appendPacked(dst, vs[lit:], width)
}

// appendRepeat appends a run of count copies of v.
func appendRepeat(dst []byte, v uint32, count, width int) []byte {
	dst = binary.AppendUvarint(dst, uint64(count)<<1)
	for b := 0; b < (width+7)/8; b++ {
		dst = append(dst, byte(v>>(8*b)))
	}
	return dst
}

// appendPacked appends vs as one bit-packed run, the last group padded with
// zeros (vs is a multiple of eight long except at the end of a stream).
func appendPacked(dst []byte, vs []uint32, width int) []byte {
	if len(vs) == 0 {
		return dst
	}
	groups := (len(vs) + 7) / 8
	dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
	var acc uint64
	bits := 0
	full := len(vs) &^ 7
	for _, v := range vs[:full] {
		acc |= uint64(v) << bits
		bits += width
		for bits >= 32 {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(acc))
			acc >>= 32
			bits -= 32
		}
	}
	if full < len(vs) {
		var last [8]uint32
		copy(last[:], vs[full:])
		for _, v := range last {
			acc |= uint64(v) << bits
			bits += width
			for bits >= 32 {
				dst = binary.LittleEndian.AppendUint32(dst, uint32(acc))
				acc >>= 32
				bits -= 32
			}
		}
	}
	// Eight values of width bits are a whole number of bytes.
	for ; bits > 0; bits -= 8 {
		dst = append(dst, byte(acc))
		acc >>= 8
	}
	return dst
}

// appendLevels appends the hybrid encoding (width 1) of n definition
// levels given as a bitmap, least significant bit first: a value is 1, a
// null 0. Whole bytes of 0xff or 0x00 in runs of two or more are written as
// repeats, the rest as bit-packed groups (one group is one bitmap byte).
func appendLevels(dst []byte, bm []byte, n int) []byte {
	nb := (n + 7) / 8
	bm = bm[:nb]
	full := n / 8
	lit := 0
	i := 0
	for i < full {
		b := bm[i]
		if (b == 0xff || b == 0) && i+1 < full && bm[i+1] == b {
			j := i + 2
			for j < full && bm[j] == b {
				j++
			}
			dst = appendBitmapGroups(dst, bm[lit:i])
			dst = appendRepeat(dst, uint32(b&1), 8*(j-i), 1)
			i, lit = j, j
			continue
		}
		i++
	}
	return appendBitmapGroups(dst, bm[lit:nb])
}

func appendBitmapGroups(dst, groups []byte) []byte {
	if len(groups) == 0 {
		return dst
	}
	dst = binary.AppendUvarint(dst, uint64(len(groups))<<1|1)
	return append(dst, groups...)
}

// bitWidth is the number of bits needed for values up to max, at least 1.
func bitWidth(max uint32) int {
	w := 1
	for max>>w != 0 {
		w++
	}
	return w
}
