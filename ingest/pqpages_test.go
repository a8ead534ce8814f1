package ingest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"risklane/ingest/profile"
)

// pqLayout is how writeParquetLayout writes a file: what arrow-go's writer
// lets one choose that changes the pages risklane's decoder meets.
type pqLayout struct {
	rowGroup  int64
	v2        bool // data pages v2 (levels outside the compressed body)
	codec     compress.Compression
	pageSize  int64 // data page size (small: many pages, cut inside batches)
	dictLimit int64 // dictionary page size limit (small: dictionaries overflow into plain pages)
	noDict    bool  // plain pages only
	noSchema  bool  // no stored Arrow schema: types from the Parquet schema
}

func (l pqLayout) String() string {
	return fmt.Sprintf("rg%d-v2%v-%s-page%d-dict%d-nodict%v-noschema%v", l.rowGroup, l.v2, l.codec, l.pageSize, l.dictLimit, l.noDict, l.noSchema)
}

// writeParquetLayout writes rec to path as l says.
func writeParquetLayout(t testing.TB, path string, rec arrow.RecordBatch, l pqLayout) {
	t.Helper()
	opts := []parquet.WriterProperty{parquet.WithMaxRowGroupLength(l.rowGroup), parquet.WithDictionaryDefault(!l.noDict),
		parquet.WithCompression(l.codec)}
	if l.v2 {
		opts = append(opts, parquet.WithDataPageVersion(parquet.DataPageV2))
	}
	if l.pageSize > 0 {
		opts = append(opts, parquet.WithDataPageSize(l.pageSize))
	}
	if l.dictLimit > 0 {
		opts = append(opts, parquet.WithDictionaryPageSizeLimit(l.dictLimit))
	}
	aprops := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
	if l.noSchema {
		aprops = pqarrow.DefaultWriterProps()
	}
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(rec.Schema(), &buf, parquet.NewWriterProperties(opts...), aprops)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pagesUsed reports whether the Reader's column path reads path with the
// page decoder (pqpages.go) rather than pqarrow's record reader.
func pagesUsed(t testing.TB, path string, p *profile.Profile) bool {
	t.Helper()
	r := &Reader{prof: p}
	src, _, _, err := r.openBound(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.close()
	bs, ok := src.(*batchSource)
	return ok && bs.pages
}

// samePages reads paths on the column path with the page decoder and
// through pqarrow, and on the row path (through pqarrow), and requires the
// same batches, rejects, counts and error.
func samePages(t testing.TB, paths []string, p *profile.Profile, opt Options) {
	t.Helper()
	rows := sameAsRows(t, paths, p, opt)
	defer rows.release()
	opt.pqarrow = true
	arrowCols := readPath(t, true, paths, p, opt)
	defer arrowCols.release()
	if msg := diffResults(arrowCols, rows); msg != "" {
		t.Fatalf("%s, options %+v: the row path differs from the column path through pqarrow: %s", paths, opt, msg)
	}
}

var pqLayouts = []pqLayout{
	{rowGroup: 1100, codec: compress.Codecs.Snappy},
	{rowGroup: 700, codec: compress.Codecs.Zstd, v2: true, pageSize: 512},
	{rowGroup: 2000, codec: compress.Codecs.Uncompressed, dictLimit: 200, pageSize: 300},
	{rowGroup: 999, codec: compress.Codecs.Snappy, noDict: true, noSchema: true},
	{rowGroup: 1 << 20, codec: compress.Codecs.Gzip, v2: true, dictLimit: 64, noSchema: true},
}

// TestPagesSameAsPqarrow reads files that the page decoder reads (flat
// columns of strings, doubles, floats, int64, int32, date32 and int8;
// clean and damaged, nullable and required) in several page layouts
// (pqLayouts: row groups, data pages v1 and v2, codecs, small pages cut
// inside batches, dictionaries overflowing into plain pages, no
// dictionary, no stored Arrow schema), and requires what pqarrow's reader
// gives, on the column and row paths: batches, rejects, counts.
func TestPagesSameAsPqarrow(t *testing.T) {
	dir := t.TempDir()
	kcs := mustProfile(t, "kcs")
	rng := rand.New(rand.NewPCG(41, 43))
	kinds := []mixedKind{
		{pageTypes: true},
		{pageTypes: true, typedHS: true},
		{pageTypes: true, textNumbers: true},
		{pageTypes: true, padOnly: true},
	}
	n := 0
	for k, kind := range kinds {
		for _, bad := range []float64{0, 0.02, 0.3} {
			rec := mixedRecord(rng, 2500, kind, bad)
			for _, l := range pqLayouts {
				path := filepath.Join(dir, fmt.Sprintf("p%d.parquet", n))
				n++
				writeParquetLayout(t, path, rec, l)
				if !pagesUsed(t, path, kcs) {
					t.Fatalf("kind %+v, layout %v: not read by the page decoder", kind, l)
				}
				samePages(t, []string{path}, kcs, Options{})
				if k == 0 {
					samePages(t, []string{path}, kcs, Options{BatchSize: 257, MaxFieldBytes: 40})
				}
			}
			rec.Release()
		}
	}
	// Required columns (no definition levels).
	rec := mixedRecord(rng, 3000, mixedKind{pageTypes: true, required: true}, 0)
	for _, l := range pqLayouts {
		path := filepath.Join(dir, fmt.Sprintf("req-%d.parquet", n))
		n++
		writeParquetLayout(t, path, rec, l)
		if !pagesUsed(t, path, kcs) {
			t.Fatalf("required, layout %v: not read by the page decoder", l)
		}
		samePages(t, []string{path}, kcs, Options{BatchSize: 1000})
	}
	rec.Release()

	// A file risklane wrote (sink's encoder), canonical profile.
	src := filepath.Join(dir, "p0.parquet")
	canon := filepath.Join(dir, "canonical.parquet")
	ingestTo(t, []string{src}, kcs, canon, Options{})
	if !pagesUsed(t, canon, mustProfile(t, "canonical")) {
		t.Fatal("a canonical file risklane wrote is not read by the page decoder")
	}
	samePages(t, []string{canon, canon}, mustProfile(t, "canonical"), Options{BatchSize: 5000})
}

// TestPagesFallBack: files with a column type the decoder does not read
// (decimal, timestamp, large string, an Arrow dictionary in the stored
// schema, boolean) are read through pqarrow.
func TestPagesFallBack(t *testing.T) {
	dir := t.TempDir()
	kcs := mustProfile(t, "kcs")
	rng := rand.New(rand.NewPCG(7, 8))
	for i, kind := range []mixedKind{{}, {timestamps: true, pageTypes: false}, {largeText: true}, {boolIllicit: true}} {
		rec := mixedRecord(rng, 300, kind, 0.1)
		path := filepath.Join(dir, fmt.Sprintf("f%d.parquet", i))
		writeParquetRG(t, path, rec, 100)
		rec.Release()
		if pagesUsed(t, path, kcs) {
			t.Errorf("kind %+v: read by the page decoder", kind)
		}
	}
}

// TestHybrid decodes the RLE / bit-packed hybrid encoding against values
// encoded by hand: repeated runs, bit-packed runs of widths 1 to 32 (a
// last run cut short), and refuses truncated or out-of-range input.
func TestHybrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for width := 0; width <= 32; width++ {
		var want []int32
		var data []byte
		for range 20 {
			if rng.IntN(2) == 0 {
				// A repeated run.
				k := rng.IntN(50) + 1
				v := uint32(0)
				if width > 0 {
					v = uint32(rng.Uint64() & (1<<uint(width) - 1))
				}
				data = binary.AppendUvarint(data, uint64(k)<<1)
				for b := 0; b < (width+7)/8; b++ {
					data = append(data, byte(v>>(8*b)))
				}
				for range k {
					want = append(want, int32(v))
				}
				continue
			}
			groups := rng.IntN(4) + 1
			data = binary.AppendUvarint(data, uint64(groups)<<1|1)
			var acc uint64
			nacc := 0
			for range groups * 8 {
				v := uint64(0)
				if width > 0 {
					v = rng.Uint64() & (1<<uint(width) - 1)
				}
				want = append(want, int32(uint32(v)))
				acc |= v << uint(nacc)
				nacc += width
				for nacc >= 8 {
					data = append(data, byte(acc))
					acc >>= 8
					nacc -= 8
				}
			}
		}
		h := hybrid{data: data, width: width}
		got := make([]int32, len(want))
		// In pieces of random sizes, as pages are read.
		for i := 0; i < len(got); {
			k := min(len(got)-i, rng.IntN(40)+1)
			if err := h.read(got[i : i+k]); err != nil {
				t.Fatalf("width %d: %v", width, err)
			}
			i += k
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("width %d: value %d = %d, want %d", width, i, got[i], want[i])
			}
		}
		if err := h.read(make([]int32, 1)); err == nil {
			t.Fatalf("width %d: a value read past the end", width)
		}
	}
	// Definition levels as runs.
	lv := []int32{1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1}
	var data []byte
	data = binary.AppendUvarint(data, 2<<1|1) // 16 bit-packed levels, 12 used
	var bitsv uint16
	for i, v := range lv {
		bitsv |= uint16(v) << i
	}
	data = append(data, byte(bitsv), byte(bitsv>>8))
	data = binary.AppendUvarint(data, 5<<1)
	data = append(data, 0)
	h := hybrid{data: data, width: 1}
	var got []int32
	for len(got) < len(lv) {
		n, valid, err := h.run(len(lv) - len(got))
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			got = append(got, map[bool]int32{true: 1, false: 0}[valid])
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(lv) {
		t.Fatalf("levels %v, want %v", got, lv)
	}
	for _, bad := range [][]byte{
		{},          // nothing
		{0x80},      // a header cut short
		{2 << 1},    // a repeated run without its value
		{2 << 1, 2}, // a repeated value wider than 1 bit
		{0},         // a run of no values
		{1<<1 | 1},  // a bit-packed run without its bytes
	} {
		h := hybrid{data: bad, width: 1}
		if _, _, err := h.run(2); err == nil {
			t.Errorf("% x: no error", bad)
		}
	}
}

// FuzzParquetPages damages a Parquet file the page decoder reads (bytes
// overwritten at fuzzed places, or the file cut) and reads it with the
// decoder (column path) and on the row path (pqarrow, dictionaries
// resolved): neither may hang or crash the process; an error names the
// file; when both read the file, they give the same batches, rejects and
// counts. (Not the column path through pqarrow: on a dictionary page
// holding a value twice, as seed 316b70cca04fe6f3 makes, pqarrow's
// dictionary reader shifts every later index by one; the decoder and the
// row path read the values the pages hold.)
func FuzzParquetPages(f *testing.F) {
	f.Add(uint64(1), uint8(0), uint32(100), []byte{0xff})
	f.Add(uint64(2), uint8(1), uint32(4000), []byte{0, 0, 0, 0})
	f.Add(uint64(3), uint8(2), uint32(20000), []byte{0x7f, 0x80})
	f.Add(uint64(4), uint8(3), uint32(0), []byte{})
	dir := f.TempDir()
	kcs := mustProfile(f, "kcs")
	f.Fuzz(func(t *testing.T, seed uint64, layout uint8, at uint32, patch []byte) {
		rng := rand.New(rand.NewPCG(seed, 3))
		rec := mixedRecord(rng, 400, mixedKind{pageTypes: true}, 0.05)
		defer rec.Release()
		clean := filepath.Join(dir, "clean.parquet")
		l := pqLayouts[int(layout)%len(pqLayouts)]
		l.rowGroup = 150
		writeParquetLayout(t, clean, rec, l)
		data, err := os.ReadFile(clean)
		if err != nil {
			t.Fatal(err)
		}
		if len(patch) == 0 {
			data = data[:int(at)%len(data)]
		} else {
			p := int(at) % len(data)
			copy(data[p:], patch)
		}
		path := filepath.Join(dir, "damaged.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opt := Options{BatchSize: 100}
		pages := readPath(t, true, []string{path}, kcs, opt)
		defer pages.release()
		rows := readPath(t, false, []string{path}, kcs, opt)
		defer rows.release()
		for _, r := range []*readResult{pages, rows} {
			if r.err != "" && !strings.Contains(r.err, path) {
				t.Fatalf("error %q does not name the file", r.err)
			}
		}
		if pages.err == "" && rows.err == "" {
			if msg := diffResults(rows, pages); msg != "" {
				t.Fatalf("the page decoder differs from the row path: %s", msg)
			}
		}
	})
}

// TestLoadDictCount: a dictionary page whose header claims more values than
// its bytes can hold is refused before anything is allocated for them.
func TestLoadDictCount(t *testing.T) {
	for _, kind := range []pageKind{pageText, pageDict, pageDouble, pageFloat, pageInt32, pageInt64} {
		c := &pageCol{kind: kind}
		if err := c.loadDict(make([]byte, 64), 1<<30); err == nil {
			t.Errorf("kind %d: a dictionary of 2^30 values in 64 bytes accepted", kind)
		}
		if err := c.loadDict([]byte{1, 0, 0, 0, 'a'}, 1); (kind == pageText || kind == pageDict) && err != nil {
			t.Errorf("kind %d: %v", kind, err)
		}
	}
}
