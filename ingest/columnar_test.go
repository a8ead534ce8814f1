package ingest

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"risklane/ingest/profile"
)

// readResult is everything a read gives: its batches, its rejects in the
// order the sink saw them, its counts and error.
type readResult struct {
	batches []arrow.RecordBatch
	rejects []Reject
	stats   Stats
	files   []FileStats
	err     string
}

func (r *readResult) release() {
	for _, b := range r.batches {
		b.Release()
	}
}

// readPath reads paths on the column path (col) or the row path.
func readPath(t testing.TB, col bool, paths []string, p *profile.Profile, opt Options) *readResult {
	t.Helper()
	opt.rowPath = !col
	return readFiles(t, paths, p, opt)
}

// readFiles reads paths with opt, its rejects collected in the result.
func readFiles(t testing.TB, paths []string, p *profile.Profile, opt Options) *readResult {
	t.Helper()
	rj := &collect{}
	opt.Rejects = rj
	res := &readResult{}
	r, err := OpenFiles(paths, p, opt)
	if err != nil {
		res.err = "open: " + err.Error()
		return res
	}
	defer r.Close()
	for r.Next() {
		b := r.RecordBatch()
		b.Retain()
		res.batches = append(res.batches, b)
	}
	if err := r.Err(); err != nil {
		res.err = err.Error()
	}
	res.rejects, res.stats, res.files = rj.got, r.Stats(), r.Files()
	return res
}

// sameAsRows reads paths on both paths and requires the same batches (cut
// at the same rows), rejects, counts and error. It returns the row path's
// result, which the caller releases.
func sameAsRows(t testing.TB, paths []string, p *profile.Profile, opt Options) *readResult {
	t.Helper()
	rows := readPath(t, false, paths, p, opt)
	cols := readPath(t, true, paths, p, opt)
	defer cols.release()
	if msg := diffResults(rows, cols); msg != "" {
		t.Fatalf("%s, profile %s, options %+v: the column path differs from the row path: %s", paths, p.Name, opt, msg)
	}
	return rows
}

func diffResults(rows, cols *readResult) string {
	if rows.err != cols.err {
		// A panic inside arrow-go on a damaged file may strike another
		// column first: both must fail on it, naming the file.
		if !strings.Contains(rows.err, ErrDamaged.Error()) || !strings.Contains(cols.err, ErrDamaged.Error()) {
			return fmt.Sprintf("error %q, row path %q", cols.err, rows.err)
		}
		return ""
	}
	if rows.err != "" && strings.Contains(rows.err, ErrDamaged.Error()) {
		return ""
	}
	if !reflect.DeepEqual(rows.stats, cols.stats) || !reflect.DeepEqual(rows.files, cols.files) {
		return fmt.Sprintf("counts %+v %+v, row path %+v %+v", cols.stats, cols.files, rows.stats, rows.files)
	}
	if len(rows.rejects) != len(cols.rejects) {
		return fmt.Sprintf("%d rejects, row path %d", len(cols.rejects), len(rows.rejects))
	}
	for i := range rows.rejects {
		if rows.rejects[i] != cols.rejects[i] {
			return fmt.Sprintf("reject %d: %+v, row path %+v", i, cols.rejects[i], rows.rejects[i])
		}
	}
	if len(rows.batches) != len(cols.batches) {
		return fmt.Sprintf("%d batches, row path %d", len(cols.batches), len(rows.batches))
	}
	for i := range rows.batches {
		a, b := rows.batches[i], cols.batches[i]
		if !a.Schema().Equal(b.Schema()) || a.NumRows() != b.NumRows() {
			return fmt.Sprintf("batch %d: %d rows %v, row path %d rows %v", i, b.NumRows(), b.Schema(), a.NumRows(), a.Schema())
		}
		for c := range int(a.NumCols()) {
			if !array.Equal(a.Column(c), b.Column(c)) || a.Column(c).NullN() != b.Column(c).NullN() || !sameFloatBits(a.Column(c), b.Column(c)) {
				return fmt.Sprintf("batch %d column %s:\n%v\nrow path\n%v", i, a.Schema().Field(c).Name, b.Column(c), a.Column(c))
			}
		}
	}
	return ""
}

// sameFloatBits compares the bits of two float64 columns' values, which
// array.Equal does not (it finds -0 equal to 0).
func sameFloatBits(a, b arrow.Array) bool {
	fa, ok := a.(*array.Float64)
	if !ok {
		return true
	}
	fb := b.(*array.Float64)
	for i := range fa.Len() {
		if fa.IsValid(i) && math.Float64bits(fa.Value(i)) != math.Float64bits(fb.Value(i)) {
			return false
		}
	}
	return true
}

// mixedKind chooses the column types of mixedRecord.
type mixedKind struct {
	typedHS, dictText, timestamps, largeText, textNumbers, boolIllicit bool
	// padOnly: the only damage to text is blanks around a value, so that
	// text columns have no nulls and are ASCII.
	padOnly bool
	// pageTypes: only types risklane's Parquet page decoder reads
	// (pqpages.go): plain strings, no dictionary, large string, decimal,
	// boolean or timestamp column (timestamps, largeText, boolIllicit and
	// dictText are then ignored). required: every column non-nullable (for
	// undamaged rows).
	pageTypes, required bool
}

// mixedRecord builds n rows under the kcs profile's column names, of the
// types kind chooses, damaged at the rate bad: nulls, empty and padded
// text, non-UTF-8 and NUL bytes, overlong values, NaN, infinities,
// negative and implausible numbers, dates out of range, HS codes too short
// or written as numbers, illicit values outside 0/1, repeated ids.
func mixedRecord(rng *rand.Rand, n int, kind mixedKind, bad float64) arrow.RecordBatch {
	mem := memory.NewGoAllocator()
	textType := arrow.DataType(arrow.BinaryTypes.String)
	if kind.largeText {
		textType = arrow.BinaryTypes.LargeString
	}
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}
	officeType := textType
	if kind.dictText {
		officeType = dictType
	}
	var dateType arrow.DataType = arrow.FixedWidthTypes.Date32
	if kind.timestamps {
		dateType = &arrow.TimestampType{Unit: arrow.Second, TimeZone: "Asia/Seoul"}
	}
	var hsType arrow.DataType = arrow.BinaryTypes.String
	if kind.typedHS {
		hsType = arrow.PrimitiveTypes.Int64
	}
	var massType arrow.DataType = arrow.PrimitiveTypes.Float64
	var taxType arrow.DataType = arrow.PrimitiveTypes.Float32
	if kind.textNumbers {
		massType, taxType = arrow.BinaryTypes.String, arrow.BinaryTypes.String
	}
	var illType arrow.DataType = arrow.PrimitiveTypes.Int8
	if kind.boolIllicit {
		illType = arrow.FixedWidthTypes.Boolean
	}
	var payType arrow.DataType = &arrow.Decimal128Type{Precision: 10, Scale: 2}
	if kind.pageTypes {
		textType, officeType, dictType = arrow.BinaryTypes.String, arrow.BinaryTypes.String, nil
		dateType, illType, payType = arrow.FixedWidthTypes.Date32, arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int64
	}
	originType := arrow.DataType(dictType)
	if dictType == nil {
		originType = arrow.BinaryTypes.String
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "Declaration ID", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "Date", Type: dateType, Nullable: true},
		{Name: "Office ID", Type: officeType, Nullable: true},
		{Name: "Importer ID", Type: textType, Nullable: true},
		{Name: "Declarant ID", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "Seller ID", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "HS6 Code", Type: hsType, Nullable: true},
		{Name: "Country of Origin", Type: originType, Nullable: true},
		{Name: "Country of Departure", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "Net Mass", Type: massType, Nullable: true},
		{Name: "Item Price", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "Tax Rate", Type: taxType, Nullable: true},
		{Name: "Fraud", Type: illType, Nullable: true},
		{Name: "Process Type", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "Import Type", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "Import Use", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "Payment Type", Type: payType, Nullable: true},
		{Name: "Mode of Transport", Type: textType, Nullable: true},
		{Name: "Courier ID", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "Tax Type", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "Country of Origin Indicator", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "Critical Fraud", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	if kind.required {
		fields := schema.Fields()
		for i := range fields {
			fields[i].Nullable = false
		}
		schema = arrow.NewSchema(fields, nil)
	}
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	damaged := func() bool { return rng.Float64() < bad }
	text := func(good string) (string, bool) { // value, valid
		if !damaged() {
			return good, true
		}
		if kind.padOnly {
			return []string{" ", "\t", ""}[rng.IntN(3)] + good + []string{" ", "\t", ""}[rng.IntN(3)], true
		}
		switch rng.IntN(9) {
		case 0:
			return "", false
		case 1:
			return "", true
		case 2:
			return "  " + good + "\t", true
		case 3:
			return good + "\xff\xfe", true
		case 4:
			return good + "\x00", true
		case 5:
			return strings.Repeat(good, 12), true // past MaxFieldBytes in the tests
		case 6:
			return "é" + good, true
		case 7:
			return "   ", true
		}
		return "x" + good, true
	}
	appendText := func(f array.Builder, good string) {
		v, ok := text(good)
		switch fb := f.(type) {
		case *array.StringBuilder:
			if ok {
				fb.Append(v)
			} else {
				fb.AppendNull()
			}
		case *array.LargeStringBuilder:
			if ok {
				fb.Append(v)
			} else {
				fb.AppendNull()
			}
		case *array.BinaryDictionaryBuilder:
			if ok {
				fb.AppendString(v)
			} else {
				fb.AppendNull()
			}
		}
	}
	number := func(good float64) (float64, bool) {
		if !damaged() {
			return good, true
		}
		switch rng.IntN(9) {
		case 0:
			return 0, false
		case 1:
			return math.NaN(), true
		case 2:
			return math.Inf(1 - 2*rng.IntN(2)), true
		case 3:
			return -good - 1, true
		case 4:
			return 2e15, true
		case 5:
			return 1e-7, true
		case 6:
			return math.Copysign(0, -1), true
		case 7:
			return 1500, true
		}
		return 0, true
	}
	day0 := arrow.Date32FromTime(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := range n {
		id := fmt.Sprintf("D%06d", i)
		if rng.Float64() < bad/4 && i > 0 {
			id = fmt.Sprintf("D%06d", rng.IntN(i)) // a repeated id
		}
		appendText(b.Field(0), id)
		day := day0 + arrow.Date32(rng.IntN(700))
		if damaged() {
			day = []arrow.Date32{-30000, 90000, day0 + 5}[rng.IntN(3)]
		}
		switch db := b.Field(1).(type) {
		case *array.Date32Builder:
			if damaged() {
				db.AppendNull()
			} else {
				db.Append(day)
			}
		case *array.TimestampBuilder:
			if damaged() {
				db.AppendNull()
			} else {
				// 22:00 UTC is the next day in Seoul.
				db.Append(arrow.Timestamp(int64(day)*86400 + int64(rng.IntN(86400))))
			}
		}
		appendText(b.Field(2), fmt.Sprintf("OF%02d", rng.IntN(12)))
		appendText(b.Field(3), fmt.Sprintf("IMP%04d", rng.IntN(3000)))
		appendText(b.Field(4), fmt.Sprintf("DEC%03d", rng.IntN(200)))
		appendText(b.Field(5), fmt.Sprintf("SEL%04d", rng.IntN(2000)))
		hs := []int64{870323, 12345, 640399, 1234567890, 85171200}[rng.IntN(5)]
		if damaged() {
			hs = 123
		}
		switch hb := b.Field(6).(type) {
		case *array.Int64Builder:
			if damaged() {
				hb.Append(-hs)
			} else {
				hb.Append(hs)
			}
		case *array.StringBuilder:
			switch {
			case damaged():
				hb.Append([]string{"870323.0", "8703.23", "87O323", " 0101 29 ", ""}[rng.IntN(5)])
			default:
				hb.Append(fmt.Sprint(hs))
			}
		}
		appendText(b.Field(7), []string{"CHN", "DEU", "USA", "KEN"}[rng.IntN(4)])
		appendText(b.Field(8), []string{"CHN", "DEU", "USA", "KEN"}[rng.IntN(4)])
		mass, ok := number(rng.Float64() * 1000)
		switch mb := b.Field(9).(type) {
		case *array.Float64Builder:
			mb.AppendValues([]float64{mass}, []bool{ok})
		case *array.StringBuilder:
			s := fmt.Sprint(mass)
			if damaged() {
				s = []string{"1,5", "abc", "1e400", " 12 ", "-3"}[rng.IntN(5)]
			}
			mb.AppendValues([]string{s}, []bool{ok})
		}
		price := int32(rng.IntN(100000))
		if damaged() {
			price = -price - 1
		}
		b.Field(10).(*array.Int32Builder).AppendValues([]int32{price}, []bool{!damaged()})
		tax, ok := number(float64(rng.IntN(30)))
		switch tb := b.Field(11).(type) {
		case *array.Float32Builder:
			tb.AppendValues([]float32{float32(tax)}, []bool{ok})
		case *array.StringBuilder:
			tb.AppendValues([]string{fmt.Sprint(tax)}, []bool{ok})
		}
		fraud := int8(rng.IntN(2))
		if damaged() {
			fraud = 2
		}
		switch fb := b.Field(12).(type) {
		case *array.Int8Builder:
			fb.AppendValues([]int8{fraud}, []bool{!damaged()})
		case *array.BooleanBuilder:
			fb.AppendValues([]bool{fraud == 1}, []bool{!damaged()})
		}
		appendText(b.Field(13), "B")
		b.Field(14).(*array.Int64Builder).AppendValues([]int64{int64(rng.IntN(90)) - 3}, []bool{!damaged()})
		appendText(b.Field(15), "21")
		switch pb := b.Field(16).(type) {
		case *array.Decimal128Builder:
			pb.AppendValues([]decimal128.Num{decimal128.FromI64(int64(rng.IntN(100000)))}, []bool{!damaged()})
		case *array.Int64Builder:
			pb.AppendValues([]int64{int64(rng.IntN(100000))}, []bool{!damaged()})
		}
		appendText(b.Field(17), "10")
		appendText(b.Field(18), "")
		appendText(b.Field(19), "A")
		appendText(b.Field(20), "Y")
		appendText(b.Field(21), fmt.Sprint(rng.IntN(3)))
	}
	return b.NewRecordBatch()
}

// writeParquetRG writes rec to a Parquet file with row groups of rg rows
// (dictionary pages, no compression, the Arrow schema stored).
func writeParquetRG(t testing.TB, path string, rec arrow.RecordBatch, rg int64) {
	t.Helper()
	writeParquetLayout(t, path, rec, pqLayout{rowGroup: rg})
}

// writeArrowIPC writes rec as an Arrow IPC file or stream in batches of
// size rows.
func writeArrowIPC(t testing.TB, path string, rec arrow.RecordBatch, stream bool, size int64) {
	t.Helper()
	var buf bytes.Buffer
	var w interface {
		Write(arrow.RecordBatch) error
		Close() error
	}
	if stream {
		w = ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
	} else {
		fw, err := ipc.NewFileWriter(&buf, ipc.WithSchema(rec.Schema()))
		if err != nil {
			t.Fatal(err)
		}
		w = fw
	}
	for lo := int64(0); lo < rec.NumRows(); lo += size {
		s := rec.NewSlice(lo, min(lo+size, rec.NumRows()))
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
		s.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestColumnarSameAsRows reads the same files on the column path and on
// the row path and requires the same batches, rejects and counts: clean and
// damaged files of many column types, in Parquet (several row groups,
// dictionary columns) and Arrow IPC, under the kcs profile (unique ids,
// revenue formula, HS code padding), the canonical profile on a file
// risklane wrote (every text column copied as a whole), small batches and a
// small text limit (batches cut inside source batches), and Columns.
func TestColumnarSameAsRows(t *testing.T) {
	dir := t.TempDir()
	kcs := mustProfile(t, "kcs")
	rng := rand.New(rand.NewPCG(13, 17))
	kinds := []mixedKind{
		{},
		{typedHS: true, dictText: true, timestamps: true},
		{largeText: true, textNumbers: true, boolIllicit: true},
		{dictText: true, largeText: true, typedHS: true, textNumbers: true},
		{padOnly: true},
		{padOnly: true, largeText: true},
	}
	var cleanKCS string
	for k, kind := range kinds {
		for _, bad := range []float64{0, 0.02, 0.3} {
			rec := mixedRecord(rng, 2000, kind, bad)
			pq := filepath.Join(dir, fmt.Sprintf("kcs-%d-%g.parquet", k, bad))
			writeParquetRG(t, pq, rec, 1100)
			if k == 0 && bad == 0 {
				cleanKCS = pq
			}
			af := filepath.Join(dir, fmt.Sprintf("kcs-%d-%g.arrow", k, bad))
			writeArrowIPC(t, af, rec, false, 700)
			as := filepath.Join(dir, fmt.Sprintf("kcs-%d-%g.arrows", k, bad))
			writeArrowIPC(t, as, rec, true, 1000)
			rec.Release()
			opts := []Options{{}, {BatchSize: 257, MaxFieldBytes: 40}}
			if k == 0 {
				opts = append(opts, Options{BatchSize: 1})
			}
			for _, opt := range opts {
				sameAsRows(t, []string{pq, af, as}, kcs, opt).release()
			}
		}
	}

	// A file risklane wrote, read by the canonical profile: its text columns
	// are copied as a whole.
	canon := filepath.Join(dir, "canonical.parquet")
	ingestTo(t, []string{cleanKCS}, kcs, canon, Options{})
	res := sameAsRows(t, []string{canon}, mustProfile(t, "canonical"), Options{})
	if res.stats.Accepted != 2000 || res.stats.Rejected != 0 {
		t.Fatalf("canonical copy: %+v, want the rows kcs accepted, none rejected", res.stats)
	}
	res.release()
	sameAsRows(t, []string{canon}, mustProfile(t, "canonical"), Options{BatchSize: 999}).release()
	// Batches handed over whole, then a second file continuing the batch
	// the first one's last rows began.
	sameAsRows(t, []string{canon, canon}, mustProfile(t, "canonical"), Options{BatchSize: 256}).release()
	sameAsRows(t, []string{cleanKCS, cleanKCS}, kcs, Options{BatchSize: 128}).release()
	sameAsRows(t, []string{canon}, mustProfile(t, "canonical"), Options{Columns: []string{"declaration_id", "hs_code", "office_id"}}).release()

	// Batches cut on their text: a limit of a few values.
	defer func(v int) { maxBatchText = v }(maxBatchText)
	maxBatchText = 500
	sameAsRows(t, []string{canon}, mustProfile(t, "canonical"), Options{}).release()
	sameAsRows(t, []string{filepath.Join(dir, "kcs-1-0.3.parquet")}, kcs, Options{}).release()
}

// TestColumnarDiffSees makes sure the comparison of TestColumnarSameAsRows
// can fail: a value changed in one batch, a reject moved by a line, a batch
// cut elsewhere must each be seen. (Bugs planted in columnar.go, such as a
// text column copied untrimmed or a reject one row late, fail
// TestColumnarSameAsRows; docs/ingest.md.)
func TestColumnarDiffSees(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	rec := mixedRecord(rng, 2000, mixedKind{}, 0.05)
	pq := filepath.Join(dir, "in.parquet")
	writeParquetRG(t, pq, rec, 500)
	rec.Release()
	kcs := mustProfile(t, "kcs")
	rows := readPath(t, false, []string{pq}, kcs, Options{BatchSize: 600})
	defer rows.release()
	if len(rows.rejects) == 0 || len(rows.batches) < 2 {
		t.Fatalf("want rejects and several batches, have %d and %d", len(rows.rejects), len(rows.batches))
	}
	cols := readPath(t, true, []string{pq}, kcs, Options{BatchSize: 600})
	defer cols.release()
	if msg := diffResults(rows, cols); msg != "" {
		t.Fatal(msg)
	}
	moved := *cols
	moved.rejects = append([]Reject(nil), cols.rejects...)
	moved.rejects[len(moved.rejects)/2].Line++
	if diffResults(rows, &moved) == "" {
		t.Error("a reject one line late was not seen")
	}
	changed := *cols
	changed.batches = append([]arrow.RecordBatch(nil), cols.batches...)
	b := changed.batches[1]
	c := fieldIndex(b.Schema(), "declaration_id")
	ids := array.NewStringBuilder(memory.NewGoAllocator())
	for i := range int(b.NumRows()) {
		v := b.Column(c).(*array.String).Value(i)
		if i == 3 {
			v += " "
		}
		ids.Append(v)
	}
	arrs := append([]arrow.Array(nil), b.Columns()...)
	arrs[c] = ids.NewArray()
	changed.batches[1] = array.NewRecordBatch(b.Schema(), arrs, b.NumRows())
	if diffResults(rows, &changed) == "" {
		t.Error("an id with a blank left was not seen")
	}
	cut := readPath(t, true, []string{pq}, kcs, Options{BatchSize: 601})
	defer cut.release()
	if diffResults(rows, cut) == "" {
		t.Error("batches cut at 601 rows instead of 600 were not seen")
	}
}

// TestColumnsReadsOnlyThose: with Options.Columns, only those columns are
// read (the others null, their checks not made), on both paths; an unknown
// name fails at Open.
func TestColumnsReadsOnlyThose(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.csv", "declaration_id,date,hs_code,net_mass_kg,fob_value,office_id\n"+
		"A,2024-01-02,870323,5,100,OF1\n"+
		"B,2024-01-02,870323,5,-100,OF2\n"+ // negative value: not read
		"C,yesterday,870323,,,OF3\n"+ // bad date, no mass, no value: not read
		"D,2024-01-02,87,5,100,OF4\n") // bad HS code: read
	// The same rows as text columns in Parquet.
	names := []string{"declaration_id", "date", "hs_code", "net_mass_kg", "fob_value", "office_id"}
	rows := [][]string{{"A", "2024-01-02", "870323", "5", "100", "OF1"}, {"B", "2024-01-02", "870323", "5", "-100", "OF2"},
		{"C", "yesterday", "870323", "", "", "OF3"}, {"D", "2024-01-02", "87", "5", "100", "OF4"}}
	var fields []arrow.Field
	for _, n := range names {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.BinaryTypes.String})
	}
	rb := array.NewRecordBuilder(memory.NewGoAllocator(), arrow.NewSchema(fields, nil))
	for _, row := range rows {
		for c, v := range row {
			rb.Field(c).(*array.StringBuilder).Append(v)
		}
	}
	rec := rb.NewRecordBatch()
	pq := filepath.Join(dir, "in.parquet")
	writeParquetRG(t, pq, rec, 3)
	rec.Release()
	p := mustProfile(t, "canonical")
	full := sameAsRows(t, []string{in}, p, Options{})
	if full.stats.Accepted != 1 {
		t.Fatalf("without Columns: %+v, want only A accepted", full.stats)
	}
	full.release()
	for _, path := range []string{in, pq} {
		res := sameAsRows(t, []string{path}, p, Options{Columns: []string{"declaration_id", "hs_code", "office_id"}})
		if res.stats.Accepted != 3 || len(res.rejects) != 1 || res.rejects[0].Column != "hs_code" {
			t.Fatalf("%s with Columns: %+v %+v, want 3 accepted and D rejected for its HS code", path, res.stats, res.rejects)
		}
		b := res.batches[0]
		if c := b.Column(fieldIndex(b.Schema(), "fob_value")); c.NullN() != c.Len() {
			t.Errorf("%s: fob_value was read: %v", path, c)
		}
		if c := b.Column(fieldIndex(b.Schema(), "office_id")).(*array.String); c.Value(2) != "OF3" {
			t.Errorf("%s: office_id %v, want OF1 OF2 OF3", path, c)
		}
		res.release()
	}
	if _, err := Open(pq, mustProfile(t, "kcs"), Options{Columns: []string{"no_such"}}); err == nil || !strings.Contains(err.Error(), "no_such") {
		t.Errorf("unknown column: error %v", err)
	}
}

// FuzzColumnarParquet writes generated rows of the types and damage the
// input chooses (mixedRecord) to Parquet, in row groups and read batches of
// the sizes it chooses, and requires the column path to give what the row
// path gives under the kcs profile.
func FuzzColumnarParquet(f *testing.F) {
	f.Add(uint64(1), uint16(300), uint8(0), uint8(10), uint16(64), uint16(100), uint8(0))
	f.Add(uint64(2), uint16(1000), uint8(0x3f), uint8(80), uint16(7), uint16(333), uint8(1))
	f.Add(uint64(3), uint16(50), uint8(0x40), uint8(255), uint16(1), uint16(1), uint8(2))
	f.Add(uint64(4), uint16(1999), uint8(0x80), uint8(30), uint16(300), uint16(1000), uint8(0))
	f.Add(uint64(5), uint16(700), uint8(0x91), uint8(3), uint16(4095), uint16(77), uint8(3))
	f.Add(uint64(6), uint16(1200), uint8(0xc0), uint8(0), uint16(64), uint16(1499), uint8(6))
	dir := f.TempDir()
	kcs := mustProfile(f, "kcs")
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, kinds, bad uint8, batch, rg uint16, format uint8) {
		rows := int(n%2000) + 1
		kind := mixedKind{typedHS: kinds&1 != 0, dictText: kinds&2 != 0, timestamps: kinds&4 != 0, largeText: kinds&8 != 0,
			textNumbers: kinds&16 != 0, boolIllicit: kinds&32 != 0, padOnly: kinds&64 != 0, pageTypes: kinds&128 != 0}
		rec := mixedRecord(rand.New(rand.NewPCG(seed, 99)), rows, kind, float64(bad)/255)
		defer rec.Release()
		var path string
		switch format % 3 {
		case 0:
			path = filepath.Join(dir, "in.parquet")
			if !kind.pageTypes {
				writeParquetRG(t, path, rec, int64(rg%1500)+1)
				break
			}
			// Types the page decoder reads (pqpages.go), in a layout of
			// pqLayouts with the fuzzed row groups: compared with pqarrow's
			// reader on the column path too.
			l := pqLayouts[int(format/3)%len(pqLayouts)]
			l.rowGroup = int64(rg%1500) + 1
			writeParquetLayout(t, path, rec, l)
			samePages(t, []string{path}, kcs, Options{BatchSize: int(batch%4096) + 1, MaxFieldBytes: 40})
			return
		case 1:
			path = filepath.Join(dir, "in.arrow")
			writeArrowIPC(t, path, rec, false, int64(rg%1500)+1)
		default:
			path = filepath.Join(dir, "in.arrows")
			writeArrowIPC(t, path, rec, true, int64(rg%1500)+1)
		}
		sameAsRows(t, []string{path}, kcs, Options{BatchSize: int(batch%4096) + 1, MaxFieldBytes: 40}).release()
	})
}

// TestDictionaryOnly: a text column dictionary-encoded in the first row
// group but not in later ones, whose dictionary overflowed (arrow-go then
// writes the row group plain), is not read as an Arrow dictionary (pqarrow
// would hash every plain value into one); a column dictionary-encoded in
// every row group is. A row group with a dictionary page and plain pages
// after it (pyarrow's overflow) is refused by the page encoding stats; no
// writer at hand here makes one.
// (TestColumnarSameAsRows compares what the column path reads from such
// dictionaries with the row path's plain strings.)
func TestDictionaryOnly(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "office", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "id", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range 5000 {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("OF%02d", i%7))
		id := i
		if i < 2000 {
			id = i % 5 // the first row group's dictionary is small
		}
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("D%08d", id))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "dict.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(true), parquet.WithMaxRowGroupLength(2000),
		parquet.WithDictionaryPageSizeLimit(4096))
	w, err := pqarrow.NewFileWriter(schema, f, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if got := []bool{dictionaryOnly(pf.MetaData(), 0), dictionaryOnly(pf.MetaData(), 1)}; !reflect.DeepEqual(got, []bool{true, false}) {
		t.Errorf("dictionaryOnly(office, id) = %v, want [true false]", got)
	}
}
