package decl

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Typed column access. A stage looks each column up by name once per batch,
// with one of these, and then reads rows from the typed array.

// Field returns the column called name of rec, and false when rec has none.
func Field(rec arrow.RecordBatch, name string) (arrow.Array, bool) {
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return nil, false
	}
	return rec.Column(idx[0]), true
}

// Get returns the column called name of rec as the array type A
// (*array.Float64, *array.String, *array.Int8, *array.Date32, ...). It
// returns false when rec has no such column, and an error naming the column
// and both types when the column has another type.
func Get[A arrow.Array](rec arrow.RecordBatch, name string) (A, bool, error) {
	var zero A
	a, ok := Field(rec, name)
	if !ok {
		return zero, false, nil
	}
	c, ok := a.(A)
	if !ok {
		return zero, true, typeError(name, a, fmt.Sprintf("%T", zero))
	}
	return c, true, nil
}

// Need is Get for a column the caller cannot do without: a missing column
// is an error too.
func Need[A arrow.Array](rec arrow.RecordBatch, name string) (A, error) {
	c, ok, err := Get[A](rec, name)
	if err == nil && !ok {
		err = fmt.Errorf("the data has no %q column", name)
	}
	return c, err
}

func typeError(name string, a arrow.Array, want string) error {
	if c, ok := Lookup(name); ok {
		want = c.Type.String()
	}
	return fmt.Errorf("column %q is %s; the canonical schema has %s", name, a.DataType(), want)
}

// Float64s returns the float64 column called name of rec, nil when rec has
// none (FloatAt reads a nil column as all missing).
func Float64s(rec arrow.RecordBatch, name string) (*array.Float64, error) {
	c, _, err := Get[*array.Float64](rec, name)
	return c, err
}

// FloatAt returns row i of a float64 column, NaN when the value is null or
// the column absent (nil).
func FloatAt(a *array.Float64, i int) float64 {
	if a == nil || a.IsNull(i) {
		return math.NaN()
	}
	return a.Value(i)
}

// Text reads a string column, plain or dictionary-encoded (as Parquet and
// Arrow IPC files may hold it).
type Text struct {
	s    array.StringLike
	dict *array.Dictionary
}

// Strings returns the string column called name of rec, and false when rec
// has none (the zero Text then returned reads as all null).
func Strings(rec arrow.RecordBatch, name string) (Text, bool, error) {
	a, ok := Field(rec, name)
	if !ok {
		return Text{}, false, nil
	}
	t, err := TextOf(a, name)
	return t, true, err
}

// TextOf reads a as the string column called name.
func TextOf(a arrow.Array, name string) (Text, error) {
	switch c := a.(type) {
	case array.StringLike:
		return Text{s: c}, nil
	case *array.Dictionary:
		if s, ok := c.Dictionary().(array.StringLike); ok {
			return Text{s: s, dict: c}, nil
		}
	}
	return Text{}, typeError(name, a, "strings")
}

// Value returns row i, and false when it is null or t is the zero Text (an
// absent column).
func (t Text) Value(i int) (string, bool) {
	if t.s == nil {
		return "", false
	}
	if t.dict != nil {
		if t.dict.IsNull(i) {
			return "", false
		}
		return t.s.Value(t.dict.GetValueIndex(i)), true
	}
	if t.s.IsNull(i) {
		return "", false
	}
	return t.s.Value(i), true
}

// CustomsValue is the value risklane prices a declaration at: the CIF value,
// unless it is missing or not positive and a FOB value is given, then the
// FOB value. A zero CIF beside a FOB value is a field left unfilled (CIF
// includes FOB); a zero CIF alone is what was declared and is kept (a unit
// value needs a positive value, so it has none). NaN stands for missing.
// docs/DESIGN.md ("Canonical declaration schema") states the rule.
func CustomsValue(cif, fob float64) float64 { return coalesce(cif, fob) }

// Mass is the mass a unit value per kg divides by: the net mass, unless it
// is missing or not positive and a gross weight is given, then the gross
// weight (the same rule as CustomsValue).
func Mass(net, gross float64) float64 { return coalesce(net, gross) }

func coalesce(first, second float64) float64 {
	if !(first > 0) && !math.IsNaN(second) {
		return second
	}
	return first
}

// Amounts are the value, mass and quantity columns of one batch, looked up
// once; absent columns are nil and read as missing.
type Amounts struct {
	CIF, FOB, Net, Gross, Qty *array.Float64
}

// ReadAmounts looks up the amount columns of rec.
func ReadAmounts(rec arrow.RecordBatch) (Amounts, error) {
	var a Amounts
	for _, c := range []struct {
		name string
		dst  **array.Float64
	}{{CIFValue, &a.CIF}, {FOBValue, &a.FOB}, {NetMassKg, &a.Net}, {GrossWeightKg, &a.Gross}, {Quantity, &a.Qty}} {
		var err error
		if *c.dst, err = Float64s(rec, c.name); err != nil {
			return Amounts{}, err
		}
	}
	return a, nil
}

// Value returns the CustomsValue of row i.
func (a Amounts) Value(i int) float64 { return CustomsValue(FloatAt(a.CIF, i), FloatAt(a.FOB, i)) }

// Mass returns the Mass of row i.
func (a Amounts) Mass(i int) float64 { return Mass(FloatAt(a.Net, i), FloatAt(a.Gross, i)) }

// Quantity returns the quantity of row i.
func (a Amounts) Quantity(i int) float64 { return FloatAt(a.Qty, i) }
