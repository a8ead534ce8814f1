package features

import (
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/decl"
)

// row is one hand-written declaration; empty strings, NaN and a zero
// quantity are nulls,
// Illicit -1 is not inspected.
type row struct {
	ID, Date, Office, Importer, Declarant, Seller, HS, Origin, Departure string
	Qty, Mass, Value, Rate                                               float64
	Illicit                                                              int8
	Extra                                                                string
}

var nan = math.NaN()

// makeBatch builds a canonical record batch with one extra attribute
// "channel" and the label attribute "severity".
func makeBatch(t testing.TB, rows []row) arrow.RecordBatch {
	t.Helper()
	schema := decl.SchemaFields([]arrow.Field{
		{Name: "channel", Type: arrow.BinaryTypes.String, Nullable: true},
		decl.LabelField("severity"),
	})
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	str := func(name, v string) {
		fb := b.Field(schema.FieldIndices(name)[0]).(*array.StringBuilder)
		if v == "" {
			fb.AppendNull()
		} else {
			fb.Append(v)
		}
	}
	num := func(name string, v float64) {
		fb := b.Field(schema.FieldIndices(name)[0]).(*array.Float64Builder)
		if math.IsNaN(v) {
			fb.AppendNull()
		} else {
			fb.Append(v)
		}
	}
	for _, r := range rows {
		str(decl.DeclarationID, r.ID)
		db := b.Field(schema.FieldIndices(decl.Date)[0]).(*array.Date32Builder)
		if r.Date == "" {
			db.AppendNull()
		} else {
			d, err := time.Parse("2006-01-02", r.Date)
			if err != nil {
				t.Fatal(err)
			}
			db.Append(arrow.Date32FromTime(d))
		}
		str(decl.OfficeID, r.Office)
		str(decl.ImporterID, r.Importer)
		str(decl.DeclarantID, r.Declarant)
		str(decl.SellerID, r.Seller)
		str(decl.HSCode, r.HS)
		str(decl.OriginCountry, r.Origin)
		str(decl.DepartureCountry, r.Departure)
		if r.Qty == 0 {
			r.Qty = nan
		}
		num(decl.Quantity, r.Qty)
		num(decl.NetMassKg, r.Mass)
		num(decl.GrossWeightKg, nan)
		num(decl.FOBValue, nan)
		num(decl.CIFValue, r.Value)
		num(decl.TaxRate, r.Rate)
		num(decl.TotalTaxes, nan)
		ib := b.Field(schema.FieldIndices(decl.Illicit)[0]).(*array.Int8Builder)
		if r.Illicit < 0 {
			ib.AppendNull()
		} else {
			ib.Append(r.Illicit)
		}
		rev := b.Field(schema.FieldIndices(decl.Revenue)[0]).(*array.Float64Builder)
		rev.AppendNull()
		str("channel", r.Extra)
		str("severity", "x")
	}
	return b.NewRecordBatch()
}

// col returns the named column of a feature matrix.
func col(t testing.TB, names []string, cols [][]float64, name string) []float64 {
	t.Helper()
	for i, n := range names {
		if n == name {
			return cols[i]
		}
	}
	t.Fatalf("no feature %q in %v", name, names)
	return nil
}

// same reports whether two floats are equal, NaN equal to NaN.
func same(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

type arrowBatch = arrow.RecordBatch
