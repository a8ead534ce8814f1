package pricecluster

// NoHS6 is the code of a row whose HS code has no usable HS6 subheading.
const NoHS6 int32 = -1

// ParseHS6 returns the HS6 subheading of an HS code as a number in
// [0, 999999] (so "010121" is 10121; its HS4 heading is 10121/100 = 101), or
// NoHS6 when the code has fewer than 6 digits or anything other than digits,
// dots and spaces. Dots and spaces are separators ("8703.21.90" is 870321).
func ParseHS6(code string) int32 {
	var v int32
	digits := 0
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c >= '0' && c <= '9':
			if digits < 6 {
				v = v*10 + int32(c-'0')
			}
			digits++
		case c == '.' || c == ' ':
		default:
			return NoHS6
		}
	}
	if digits < 6 {
		return NoHS6
	}
	return v
}

// HS6Codes parses every code with ParseHS6 into dst (grown as needed) and
// returns it.
func HS6Codes(codes []string, dst []int32) []int32 {
	dst = grow(dst, len(codes))
	for i, c := range codes {
		dst[i] = ParseHS6(c)
	}
	return dst
}

func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
