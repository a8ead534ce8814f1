package features

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
)

// strCol reads a string column, plain or dictionary-encoded.
type strCol struct{ decl.Text }

func newStrCol(a arrow.Array, name string) (strCol, error) {
	t, err := decl.TextOf(a, name)
	return strCol{t}, err
}

// get returns the value of row i; a null is the empty string, the same
// "missing" category as an empty text field.
func (c strCol) get(i int) string {
	v, _ := c.Value(i)
	return v
}

// readFloats appends column name of rec to dst, NaN for nulls.
func readFloats(rec arrow.RecordBatch, name string, dst []float64) ([]float64, error) {
	a, ok := decl.Field(rec, name)
	if !ok {
		return nil, fmt.Errorf("missing column %q", name)
	}
	f, ok := a.(*array.Float64)
	if !ok {
		return nil, fmt.Errorf("column %q is %s; the canonical schema has float64", name, a.DataType())
	}
	vals := f.Float64Values()
	start := len(dst)
	dst = append(dst, vals...)
	if f.NullN() > 0 {
		for i := range vals {
			if f.IsNull(i) {
				dst[start+i] = math.NaN()
			}
		}
	}
	return dst, nil
}

// noDay marks a null date.
const noDay = math.MinInt32

func readDays(rec arrow.RecordBatch, dst []int32) ([]int32, error) {
	a, ok := decl.Field(rec, decl.Date)
	if !ok {
		return nil, fmt.Errorf("missing column %q", decl.Date)
	}
	d, ok := a.(*array.Date32)
	if !ok {
		return nil, fmt.Errorf("column %q is %s; the canonical schema has date32", decl.Date, a.DataType())
	}
	for i := 0; i < d.Len(); i++ {
		if d.IsNull(i) {
			dst = append(dst, noDay)
		} else {
			dst = append(dst, int32(d.Value(i)))
		}
	}
	return dst, nil
}

// unlabelled marks a row that was not inspected.
const unlabelled int8 = -1

// ReadLabels appends the illicit labels of rec to dst: 1 illicit, 0 clean,
// -1 not inspected (null). A value other than 0 or 1 is an error.
func ReadLabels(rec arrow.RecordBatch, dst []int8) ([]int8, error) {
	a, ok := decl.Field(rec, decl.Illicit)
	if !ok {
		return nil, fmt.Errorf("missing label column %q", decl.Illicit)
	}
	c, ok := a.(*array.Int8)
	if !ok {
		return nil, fmt.Errorf("column %q is %s; the canonical schema has int8", decl.Illicit, a.DataType())
	}
	for i := 0; i < c.Len(); i++ {
		switch {
		case c.IsNull(i):
			dst = append(dst, unlabelled)
		case c.Value(i) == 0 || c.Value(i) == 1:
			dst = append(dst, c.Value(i))
		default:
			return nil, fmt.Errorf("column %q row %d: label %d is not 0 or 1", decl.Illicit, i, c.Value(i))
		}
	}
	return dst, nil
}

// hsDigits returns the digits of an HS code, dropping the dots and spaces
// of written forms ("8703.21"); ok is false when anything else is in it.
// buf is used when the code must be rewritten.
func hsDigits(s string, buf []byte) (digits string, out []byte, ok bool) {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			if c != '.' && c != ' ' {
				return "", buf, false
			}
			clean = false
		}
	}
	if clean {
		return s, buf, true
	}
	buf = buf[:0]
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			buf = append(buf, c)
		}
	}
	return string(buf), buf, true
}

// hsNumber is the value of the first d digits, NaN when there are fewer.
func hsNumber(digits string, d int) float64 {
	if len(digits) < d {
		return math.NaN()
	}
	v := 0
	for i := 0; i < d; i++ {
		v = v*10 + int(digits[i]-'0')
	}
	return float64(v)
}
