package forecast

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/ingest"
	"risklane/sink"
)

// TableSchema is the layout of the forecast table: for every group its
// history (kind "history", the observed value) then its forecast (kind
// "forecast", the point forecast and the 80% and 95% intervals).
var TableSchema = arrow.NewSchema([]arrow.Field{
	{Name: "group", Type: arrow.BinaryTypes.String},
	{Name: "period", Type: arrow.BinaryTypes.String},
	{Name: "period_start", Type: arrow.FixedWidthTypes.Date32},
	{Name: "kind", Type: arrow.BinaryTypes.String},
	{Name: "value", Type: arrow.PrimitiveTypes.Float64},
	{Name: "lower_80", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "upper_80", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "lower_95", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "upper_95", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "method", Type: arrow.BinaryTypes.String},
}, nil)

// ModelSchema is the layout of the model table: one row per group.
var ModelSchema = arrow.NewSchema([]arrow.Field{
	{Name: "group", Type: arrow.BinaryTypes.String},
	{Name: "method", Type: arrow.BinaryTypes.String},
	{Name: "n", Type: arrow.PrimitiveTypes.Int64},
	{Name: "alpha", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "beta", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "gamma", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "phi", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "loglik", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "aicc", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "sigma2", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "backtest_origins", Type: arrow.PrimitiveTypes.Int64},
	{Name: "mase", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "coverage_80", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "coverage_95", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "error", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// WriteTable writes the forecast table of results to path (format from
// the name), atomically.
func WriteTable(path string, p Period, results []Result) error {
	b := array.NewRecordBuilder(memory.DefaultAllocator, TableSchema)
	defer b.Release()
	group := b.Field(0).(*array.StringBuilder)
	label := b.Field(1).(*array.StringBuilder)
	start := b.Field(2).(*array.Date32Builder)
	kind := b.Field(3).(*array.StringBuilder)
	value := b.Field(4).(*array.Float64Builder)
	bounds := [4]*array.Float64Builder{}
	for i := range bounds {
		bounds[i] = b.Field(5 + i).(*array.Float64Builder)
	}
	method := b.Field(9).(*array.StringBuilder)
	for _, r := range results {
		name := "NONE"
		if r.Model != nil {
			name = r.Model.Name
		}
		s := r.Series
		for i, v := range s.Values {
			per := s.First + int32(i)
			group.Append(s.Group)
			label.Append(p.Label(per))
			start.Append(arrow.Date32(p.Start(per)))
			kind.Append("history")
			value.Append(v)
			for _, bb := range bounds {
				bb.AppendNull()
			}
			method.Append(name)
		}
		for i, v := range r.Prediction.Mean {
			per := s.First + int32(len(s.Values)+i)
			group.Append(s.Group)
			label.Append(p.Label(per))
			start.Append(arrow.Date32(p.Start(per)))
			kind.Append("forecast")
			value.Append(v)
			bounds[0].Append(r.Prediction.Lower[0][i])
			bounds[1].Append(r.Prediction.Upper[0][i])
			bounds[2].Append(r.Prediction.Lower[1][i])
			bounds[3].Append(r.Prediction.Upper[1][i])
			method.Append(name)
		}
	}
	return writeOne(path, b)
}

// WriteModels writes the model table of results to path.
func WriteModels(path string, results []Result) error {
	b := array.NewRecordBuilder(memory.DefaultAllocator, ModelSchema)
	defer b.Release()
	opt := func(i int, v float64, ok bool) {
		fb := b.Field(i).(*array.Float64Builder)
		if ok && !math.IsNaN(v) {
			fb.Append(v)
		} else {
			fb.AppendNull()
		}
	}
	for _, r := range results {
		b.Field(0).(*array.StringBuilder).Append(r.Series.Group)
		name := "NONE"
		var e *ETS
		if r.Model != nil {
			name, e = r.Model.Name, r.Model.ETS
		}
		b.Field(1).(*array.StringBuilder).Append(name)
		b.Field(2).(*array.Int64Builder).Append(int64(len(r.Series.Values)))
		has := e != nil
		var a, be, g, ph, ll, ic, s2 float64
		if has {
			a, be, g, ph, ll, ic, s2 = e.Alpha, e.Beta, e.Gamma, e.Phi, e.LogLik, e.AICc, e.Sigma2
		}
		opt(3, a, has)
		opt(4, be, has && e.Trend != 'N')
		opt(5, g, has && e.Season != 'N')
		opt(6, ph, has && e.Damped)
		opt(7, ll, has)
		opt(8, ic, has)
		opt(9, s2, has)
		bt := r.Backtest
		b.Field(10).(*array.Int64Builder).Append(int64(bt.Origins))
		opt(11, bt.MASE, bt.Points > 0)
		opt(12, bt.Coverage[0], bt.Points > 0)
		opt(13, bt.Coverage[1], bt.Points > 0)
		if r.Err != nil {
			b.Field(14).(*array.StringBuilder).Append(r.Err.Error())
		} else {
			b.Field(14).(*array.StringBuilder).AppendNull()
		}
	}
	return writeOne(path, b)
}

func writeOne(path string, b *array.RecordBuilder) error {
	rec := b.NewRecordBatch()
	defer rec.Release()
	return sink.WriteTable(path, rec)
}

// Point is one period of a forecast table: the observed value (history) or
// the point forecast with its 80% and 95% bounds.
type Point struct {
	Period           string
	Value            float64
	Lower80, Upper80 float64
	Lower95, Upper95 float64
}

// Curve is one group of a forecast table, as the report draws it.
type Curve struct {
	Group, Method     string
	History, Forecast []Point
}

// ReadTable reads a forecast table that WriteTable wrote, group by group in
// the file's order.
func ReadTable(path string) ([]Curve, error) {
	rec, err := ingest.ReadRecord(path, func([]string) (*arrow.Schema, error) { return TableSchema, nil })
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	str := func(i int) *array.String { return rec.Column(i).(*array.String) }
	num := func(c, i int) float64 {
		a := rec.Column(c).(*array.Float64)
		if a.IsNull(i) {
			return math.NaN()
		}
		return a.Value(i)
	}
	var out []Curve
	for i := 0; i < int(rec.NumRows()); i++ {
		g := str(0).Value(i)
		if len(out) == 0 || out[len(out)-1].Group != g {
			out = append(out, Curve{Group: g, Method: str(9).Value(i)})
		}
		c := &out[len(out)-1]
		p := Point{Period: str(1).Value(i), Value: num(4, i), Lower80: num(5, i), Upper80: num(6, i), Lower95: num(7, i), Upper95: num(8, i)}
		switch str(3).Value(i) {
		case "history":
			if len(c.Forecast) > 0 {
				return nil, fmt.Errorf("%s: row %d: group %q has history after its forecast", path, i+1, g)
			}
			c.History = append(c.History, p)
		case "forecast":
			c.Forecast = append(c.Forecast, p)
		default:
			return nil, fmt.Errorf("%s: row %d: kind %q: want history or forecast", path, i+1, str(3).Value(i))
		}
	}
	return out, nil
}
