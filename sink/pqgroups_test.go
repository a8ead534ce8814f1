package sink

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// cutGroups cuts batches into row groups of the given sizes (the last
// takes what is left), each a list of slices of the batches: a group may
// span batches and a batch groups.
func cutGroups(batches []arrow.RecordBatch, sizes func() int) [][]arrow.RecordBatch {
	var groups [][]arrow.RecordBatch
	var cur []arrow.RecordBatch
	left := sizes()
	for _, b := range batches {
		for off := int64(0); off < b.NumRows(); {
			n := min(b.NumRows()-off, int64(left))
			cur = append(cur, b.NewSlice(off, off+n))
			off += n
			left -= int(n)
			if left == 0 {
				groups = append(groups, cur)
				cur, left = nil, sizes()
			}
		}
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

// writeGroups encodes the groups with a ParquetGroupWriter, workers at a
// time (in any order: workers > 1 starts them all at once; 0 is one at a
// time, each on a new encoder), and appends them in order; sizeFor, if not
// 0, is given to SizeFor.
func writeGroups(t testing.TB, schema *arrow.Schema, groups [][]arrow.RecordBatch, workers, sizeFor int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewParquetGroupWriter(schema, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if sizeFor > 0 {
		w.SizeFor(sizeFor)
	}
	encoded := make([]*ParquetGroup, len(groups))
	errs := make([]error, len(groups))
	if workers <= 1 {
		for i, g := range groups {
			if workers == 0 {
				w.mu.Lock()
				w.encoders = nil
				w.mu.Unlock()
				idleEncoders.Lock()
				idleEncoders.m[w.layout] = nil
				idleEncoders.Unlock()
			}
			if encoded[i], errs[i] = w.EncodeGroup(g...); errs[i] != nil {
				t.Fatal(errs[i])
			}
			if err := w.WriteGroup(encoded[i]); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		sem := make(chan struct{}, workers)
		var wg sync.WaitGroup
		for i := len(groups) - 1; i >= 0; i-- { // last first: the order of encoding does not matter
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				encoded[i], errs[i] = w.EncodeGroup(groups[i]...)
				<-sem
			}()
		}
		wg.Wait()
		for i, g := range encoded {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if err := w.WriteGroup(g); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func releaseGroups(groups [][]arrow.RecordBatch) {
	for _, g := range groups {
		for _, r := range g {
			r.Release()
		}
	}
}

// checkGroups writes the table as groups one at a time and concurrently:
// the same bytes, which read back as the table through arrow-go and
// parquet-go (values, nulls, types, statistics), in row groups of the
// sizes asked. The same bytes again from encoders a file of the groups in
// reverse order used last (encoders are kept for the next file of the
// process, their buffers sized by other rows), and with buffers sized up
// front (SizeFor) for groups far smaller or larger than these; and the same
// from a new encoder for every group.
func checkGroups(t testing.TB, schema *arrow.Schema, batches []arrow.RecordBatch, groups [][]arrow.RecordBatch) {
	t.Helper()
	serial := writeGroups(t, schema, groups, 1, 0)
	apart := writeGroups(t, schema, groups, 3, 0)
	if !bytes.Equal(serial, apart) {
		t.Fatalf("groups encoded concurrently: %d bytes, one at a time: %d bytes, not the same", len(apart), len(serial))
	}
	if fresh := writeGroups(t, schema, groups, 0, 0); !bytes.Equal(serial, fresh) {
		t.Fatalf("groups encoded by new encoders: %d bytes, by reused ones: %d bytes, not the same", len(fresh), len(serial))
	}
	rev := slices.Clone(groups)
	slices.Reverse(rev)
	writeGroups(t, schema, rev, 2, 0)
	if again := writeGroups(t, schema, groups, 2, 0); !bytes.Equal(serial, again) {
		t.Fatalf("groups encoded by encoders of an earlier file: %d bytes, fresh: %d bytes, not the same", len(again), len(serial))
	}
	for _, n := range []int{1, 1 << 20} {
		if sized := writeGroups(t, schema, groups, 2, n); !bytes.Equal(serial, sized) {
			t.Fatalf("SizeFor(%d): %d bytes, without: %d bytes, not the same", n, len(sized), len(serial))
		}
	}
	checkReadBack(t, schema, batches, serial)
	rd, err := file.NewParquetReader(bytes.NewReader(serial))
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, g := range groups {
		var n int64
		for _, r := range g {
			n += r.NumRows()
		}
		if n > 0 {
			want = append(want, n)
		}
	}
	if rd.NumRowGroups() != len(want) {
		t.Fatalf("%d row groups, want %d", rd.NumRowGroups(), len(want))
	}
	for i, n := range want {
		if got := rd.MetaData().RowGroup(i).NumRows(); got != n {
			t.Fatalf("row group %d: %d rows, want %d", i, got, n)
		}
	}
}

// Random tables (every type sink's encoder takes, nulls, NaN, long texts,
// dictionaries falling back to plain) cut into row groups of random sizes
// across batches: encoded apart and appended, they read back as written,
// and the bytes are the same whichever goroutine encoded which group.
func TestParquetGroupsSameBytes(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 123))
		rows := []int{0, 1, 7, 100, 2500, 9000}[rng.IntN(6)]
		schema, batches := randomTable(rng, rows)
		most := []int{1, 10, 1000, 5000}[rng.IntN(4)]
		least := rows / 200 // at most 200 groups: each is read back
		groups := cutGroups(batches, func() int { return least + 1 + rng.IntN(most) })
		small := rng.IntN(2) == 0
		t.Run(fmt.Sprintf("seed=%d/rows=%d/groups=%d/small=%v", seed, rows, len(groups), small), func(t *testing.T) {
			if small {
				withLimits(300, 2000, func() { checkGroups(t, schema, batches, groups) })
			} else {
				checkGroups(t, schema, batches, groups)
			}
		})
		releaseGroups(groups)
		for _, r := range batches {
			r.Release()
		}
	}
}

// The schema's metadata is the footer's key-value metadata, in order, and
// a file with no group is a valid empty file.
func TestParquetGroupsFooter(t *testing.T) {
	md := arrow.NewMetadata([]string{"model_id", "run_id", "risklane_version"}, []string{"m1", "r1", "v9"})
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}, {Name: "b", Type: arrow.BinaryTypes.String}}, &md)
	for _, rows := range []int{0, 3} {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for i := range rows {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			b.Field(1).(*array.StringBuilder).Append(strings.Repeat("x", i))
		}
		rec := b.NewRecordBatch()
		b.Release()
		data := writeGroups(t, schema, [][]arrow.RecordBatch{{rec}}, 1, 0)
		checkReadBack(t, schema, []arrow.RecordBatch{rec}, data)
		rd, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		kv := rd.MetaData().KeyValueMetadata()
		if got := strings.Join(kv.Keys()[:3], ","); got != "model_id,run_id,risklane_version" || kv.Values()[0] != "m1" || kv.Values()[2] != "v9" {
			t.Errorf("%d rows: footer metadata %v %v", rows, kv.Keys(), kv.Values())
		}
		rec.Release()
	}
}

// Misuse is an error, not a wrong file: a record of another schema, a
// group of another writer, a group written twice, a type the encoder does
// not take.
func TestParquetGroupsRefused(t *testing.T) {
	a := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := arrow.NewSchema([]arrow.Field{{Name: "b", Type: arrow.PrimitiveTypes.Int64}}, nil)
	wa, _ := NewParquetGroupWriter(a, &bytes.Buffer{})
	wb, _ := NewParquetGroupWriter(a, &bytes.Buffer{})
	rb := array.NewRecordBuilder(memory.DefaultAllocator, b)
	rb.Field(0).(*array.Int64Builder).Append(1)
	recB := rb.NewRecordBatch()
	defer recB.Release()
	if _, err := wa.EncodeGroup(recB); err == nil {
		t.Error("a record of another schema: no error")
	}
	ra := array.NewRecordBuilder(memory.DefaultAllocator, a)
	ra.Field(0).(*array.Int64Builder).Append(1)
	recA := ra.NewRecordBatch()
	defer recA.Release()
	g, err := wa.EncodeGroup(recA)
	if err != nil {
		t.Fatal(err)
	}
	if err := wb.WriteGroup(g); err == nil {
		t.Error("a group of another writer: no error")
	}
	if err := wa.WriteGroup(g); err != nil {
		t.Fatal(err)
	}
	if err := wa.WriteGroup(g); err == nil {
		t.Error("a group written twice: no error")
	}
	nested := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)}}, nil)
	if _, err := NewParquetGroupWriter(nested, &bytes.Buffer{}); err == nil {
		t.Error("a list column: no error")
	}
}

// FuzzParquetGroups: any table randomTable makes, cut into groups of any
// size, with any page and dictionary limits, gives the same bytes encoded
// concurrently as one group at a time and reads back as written.
func FuzzParquetGroups(f *testing.F) {
	f.Add(uint64(1), uint16(100), uint16(30), uint16(200), uint16(500))
	f.Add(uint64(2), uint16(3000), uint16(1000), uint16(0), uint16(0))
	f.Add(uint64(3), uint16(1), uint16(0), uint16(0), uint16(0))
	f.Fuzz(func(t *testing.T, seed uint64, rows, most, page, dict uint16) {
		rng := rand.New(rand.NewPCG(seed, 11))
		schema, batches := randomTable(rng, int(rows%2000))
		defer func() {
			for _, r := range batches {
				r.Release()
			}
		}()
		least := int(rows%2000) / 200
		groups := cutGroups(batches, func() int { return least + 1 + rng.IntN(int(most)+1) })
		defer releaseGroups(groups)
		pg, dc := int(page), int(dict)
		if pg == 0 {
			pg = pageBytes
		}
		if dc == 0 {
			dc = dictBytes
		}
		withLimits(pg, dc, func() { checkGroups(t, schema, batches, groups) })
	})
}
