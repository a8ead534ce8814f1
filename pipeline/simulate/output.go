package simulate

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/ingest"
)

// Schema is the schema of Table: one row per period and strategy.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "strategy", Type: arrow.BinaryTypes.String},
	{Name: "period", Type: arrow.PrimitiveTypes.Int32},
	{Name: "from", Type: arrow.FixedWidthTypes.Date32},
	{Name: "to", Type: arrow.FixedWidthTypes.Date32},
	{Name: "rows", Type: arrow.PrimitiveTypes.Int64},
	{Name: "budget", Type: arrow.PrimitiveTypes.Float64},
	{Name: "inspected", Type: arrow.PrimitiveTypes.Int64},
	{Name: "frauds", Type: arrow.PrimitiveTypes.Int64},
	{Name: "precision", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "revenue", Type: arrow.PrimitiveTypes.Float64},
	{Name: "fraud_recall", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "revenue_recall", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "auc", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "exploration", Type: arrow.PrimitiveTypes.Float64},
	{Name: "retrained", Type: arrow.FixedWidthTypes.Boolean},
}, nil)

// Table returns rows as one record batch of Schema; NaN metrics are null.
// The caller releases it.
func Table(rows []Row) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, Schema)
	defer b.Release()
	f := func(i int, v float64) {
		fb := b.Field(i).(*array.Float64Builder)
		if math.IsNaN(v) {
			fb.AppendNull()
		} else {
			fb.Append(v)
		}
	}
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.Strategy)
		b.Field(1).(*array.Int32Builder).Append(int32(r.Period))
		b.Field(2).(*array.Date32Builder).Append(arrow.Date32FromTime(r.From))
		b.Field(3).(*array.Date32Builder).Append(arrow.Date32FromTime(r.To))
		b.Field(4).(*array.Int64Builder).Append(int64(r.Rows))
		f(5, r.Budget)
		b.Field(6).(*array.Int64Builder).Append(int64(r.Inspected))
		b.Field(7).(*array.Int64Builder).Append(int64(r.Frauds))
		f(8, r.Precision)
		f(9, r.Revenue)
		f(10, r.FraudRecall)
		f(11, r.RevenueRecall)
		f(12, r.AUC)
		f(13, r.Exploration)
		b.Field(14).(*array.BooleanBuilder).Append(r.Retrained)
	}
	return b.NewRecordBatch()
}

// ReadTable reads back the table `risklane simulate --out` wrote (CSV,
// Parquet or Arrow), rows in file order; null metrics are NaN. A table
// whose periods of one strategy are not 1, 2, 3, ... in order is refused:
// it is not one replay.
func ReadTable(path string) ([]Row, error) {
	rec, err := ingest.ReadRecord(path, func([]string) (*arrow.Schema, error) { return Schema, nil })
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	f := func(c, i int) float64 {
		a := rec.Column(c).(*array.Float64)
		if a.IsNull(i) {
			return math.NaN()
		}
		return a.Value(i)
	}
	day := func(c, i int) time.Time { return rec.Column(c).(*array.Date32).Value(i).ToTime() }
	count := func(c, i int) int { return int(rec.Column(c).(*array.Int64).Value(i)) }
	next := map[string]int{}
	rows := make([]Row, rec.NumRows())
	for i := range rows {
		for c := range rec.NumCols() {
			if c != 8 && c != 10 && c != 11 && c != 12 && rec.Column(int(c)).IsNull(i) {
				return nil, fmt.Errorf("%s: row %d: column %q is empty", path, i+1, Schema.Field(int(c)).Name)
			}
		}
		r := Row{Strategy: rec.Column(0).(*array.String).Value(i), Period: int(rec.Column(1).(*array.Int32).Value(i)),
			From: day(2, i), To: day(3, i), Rows: count(4, i), Budget: f(5, i), Inspected: count(6, i), Frauds: count(7, i),
			Precision: f(8, i), Revenue: f(9, i), FraudRecall: f(10, i), RevenueRecall: f(11, i), AUC: f(12, i),
			Exploration: f(13, i), Retrained: rec.Column(14).(*array.Boolean).Value(i)}
		if want := next[r.Strategy] + 1; r.Period != want {
			return nil, fmt.Errorf("%s: row %d: strategy %q period %d, want %d (the periods of a strategy in order from 1)", path, i+1, r.Strategy, r.Period, want)
		}
		next[r.Strategy] = r.Period
		rows[i] = r
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no period in the table", path)
	}
	return rows, nil
}

// Summary is one strategy's outcome over a run of periods.
type Summary struct {
	Strategy string
	Periods  int
	// Inspected, Frauds and Revenue are totals; Precision is Frauds over
	// Inspected; RevenueRecall the revenue raised over all revenue of the
	// periods; AUC and Exploration are means over the periods (AUC over
	// those that have one).
	Inspected, Frauds             int
	Revenue                       float64
	Precision, RevenueRecall, AUC float64
	Exploration, FraudRecall      float64
}

// Summarize sums each strategy's rows over the periods from first on
// (1-based; 1 for all), strategies in the order of rows.
func Summarize(rows []Row, first int) []Summary {
	var out []Summary
	idx := map[string]int{}
	totalRev := map[string]float64{}
	totalFr := map[string]float64{}
	aucN := map[string]int{}
	for _, r := range rows {
		if r.Period < first {
			continue
		}
		i, ok := idx[r.Strategy]
		if !ok {
			i = len(out)
			idx[r.Strategy] = i
			out = append(out, Summary{Strategy: r.Strategy})
		}
		s := &out[i]
		s.Periods++
		s.Inspected += r.Inspected
		s.Frauds += r.Frauds
		s.Revenue += r.Revenue
		s.Exploration += r.Exploration
		if !math.IsNaN(r.AUC) {
			s.AUC += r.AUC
			aucN[r.Strategy]++
		}
		if r.RevenueRecall > 0 {
			totalRev[r.Strategy] += r.Revenue / r.RevenueRecall
		}
		if r.FraudRecall > 0 {
			totalFr[r.Strategy] += float64(r.Frauds) / r.FraudRecall
		}
	}
	for i := range out {
		s := &out[i]
		s.Precision = ratio(float64(s.Frauds), float64(s.Inspected))
		s.RevenueRecall = ratio(s.Revenue, totalRev[s.Strategy])
		s.FraudRecall = ratio(float64(s.Frauds), totalFr[s.Strategy])
		s.Exploration /= float64(max(1, s.Periods))
		s.AUC = ratio(s.AUC, float64(aucN[s.Strategy]))
	}
	return out
}

// WriteSummary prints the summaries as a table.
func WriteSummary(w io.Writer, sums []Summary) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\tperiods\tinspected\tfrauds\tprecision\trevenue\trevenue recall\tfraud recall\tmean AUC\texploration\t")
	for _, s := range sums {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%.0f\t%s\t%s\t%s\t%.3f\t\n", s.Strategy, s.Periods, s.Inspected, s.Frauds,
			num(s.Precision), s.Revenue, num(s.RevenueRecall), num(s.FraudRecall), num(s.AUC), s.Exploration)
	}
	tw.Flush()
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", v)
}
