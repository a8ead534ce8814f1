package ingest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/ingest/profile"
)

// readWith reads paths with workers parsing goroutines (1: the serial
// path) and chunks of at most rows records and bytes bytes.
func readWith(t testing.TB, paths []string, p *profile.Profile, opt Options, workers, rows, bytes int) *readResult {
	t.Helper()
	opt.workers, opt.chunkRows, opt.chunkBytes = workers, rows, bytes
	return readFiles(t, paths, p, opt)
}

// sameOutcome fails unless a and b hold the same batches (cut at the same
// rows), rejects, counts and error.
func sameOutcome(t testing.TB, what string, a, b *readResult) {
	t.Helper()
	if a.err != b.err {
		t.Fatalf("%s: error %q, serial %q", what, a.err, b.err)
	}
	if a.stats != b.stats || !reflect.DeepEqual(a.files, b.files) {
		t.Fatalf("%s: stats %+v %+v, serial %+v %+v", what, a.stats, a.files, b.stats, b.files)
	}
	if !reflect.DeepEqual(a.rejects, b.rejects) {
		n := min(len(a.rejects), len(b.rejects))
		for i := range n {
			if a.rejects[i] != b.rejects[i] {
				t.Fatalf("%s: reject %d is %+v, serial %+v", what, i, a.rejects[i], b.rejects[i])
			}
		}
		t.Fatalf("%s: %d rejects, serial %d", what, len(a.rejects), len(b.rejects))
	}
	if len(a.batches) != len(b.batches) {
		t.Fatalf("%s: %d batches, serial %d", what, len(a.batches), len(b.batches))
	}
	for i := range a.batches {
		if !array.RecordEqual(a.batches[i], b.batches[i]) {
			t.Fatalf("%s: batch %d differs:\n%v\nserial:\n%v", what, i, a.batches[i], b.batches[i])
		}
	}
}

// trickyCSV writes a DATE-layout file of n rows mixing good rows with
// every kind of record the scanner treats specially: quoted fields holding
// newlines, CRLF and bare CR, doubled quotes, broken quoting, blank lines,
// wrong field counts, invalid UTF-8, NUL bytes, over-long fields and
// values each check rejects; with a byte-order mark when bom is set.
func trickyCSV(t testing.TB, path string, n int, seed uint64, crlf, bom bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	if bom {
		b.WriteString("\xef\xbb\xbf")
	}
	nl := "\n"
	if crlf {
		nl = "\r\n"
	}
	b.WriteString(strings.TrimSuffix(dateHeader, "\n") + nl)
	good := func(i int) string {
		return fmt.Sprintf("SGD%d,13-01-%02d,IMP%d,DEC%d,CNTRY%d,OFFICE%d,87032329%02d,%d,%d.5,%d.25,%d,%d,%d,0",
			i, 1+i%28, rng.IntN(50), rng.IntN(9), rng.IntN(5), rng.IntN(3), rng.IntN(100), 1+rng.IntN(9), rng.IntN(999), rng.IntN(9999), rng.IntN(99999), rng.IntN(999), rng.IntN(2))
	}
	for i := range n {
		switch rng.IntN(24) {
		case 0:
			b.WriteString(fmt.Sprintf("\"SGD%d\",13-01-02,\"IMP%d\nsecond line\",DEC1,C,O,8703232926,1,2,3,4,5,0,0", i, i))
		case 1:
			b.WriteString(fmt.Sprintf("SGD%d,13-01-02,\"IMP \"\"quoted\"\"\r\nand CRLF\",DEC1,C,O,8703232926,1,2,3,4,5,0,0", i))
		case 2:
			b.WriteString(fmt.Sprintf("SGD%d,13-01-02,IMP\"stray,DEC1,C,O,8703232926,1,2,3,4,5,0,0", i))
		case 3:
			b.WriteString(fmt.Sprintf("SGD%d,\"13-01-02,IMP,DEC1,C,O,8703232926,1,2,3,4,5,0,0", i)) // quote not closed on this line
		case 4:
			b.WriteString(nl + nl)
			b.WriteString(good(i))
		case 5:
			b.WriteString(fmt.Sprintf("SGD%d,13-01-02,IMP,DEC1", i))
		case 6:
			b.WriteString(fmt.Sprintf("SGD%d,13-01-02,IMP\xff\xfe,DEC1,C,O,8703232926,1,2,3,4,5,0,0", i))
		case 7:
			b.WriteString(fmt.Sprintf("SGD%d,13-01-02,IMP\x00,DEC1,C,O,8703232926,1,2,3,4,5,0,0", i))
		case 8:
			b.WriteString(fmt.Sprintf("SGD%d,13-01-02,%s,DEC1,C,O,8703232926,1,2,3,4,5,0,0", i, strings.Repeat("x", 100)))
		case 9:
			b.WriteString(fmt.Sprintf("SGD%d,13-02-30,IMP,DEC1,C,O,8703232926,-1,2,3,4,5,7,0", i))
		case 10:
			b.WriteString(fmt.Sprintf("SGD%d,13-01-02,IMP,DEC1,C,O,87,1,2,3,4,5,0,0", i))
		case 11:
			b.WriteString(fmt.Sprintf("SGD%d,13-01-02,IMPcafé,DEC1,C,O,8703232926,1,2,3,4,5,0,0\r", i)) // bare CR before LF
		case 12:
			b.WriteString(fmt.Sprintf("\"SGD%d\"x,13-01-02,I,D,C,O,8703232926,1,2,3,4,5,0,0", i))
		default:
			b.WriteString(good(i))
		}
		b.WriteString(nl)
	}
	if rng.IntN(2) == 0 {
		b.WriteString(good(n)) // no final line end
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestParallelSameAsSerial reads tricky files on the serial path and on
// the parallel one with chunks cut every few records (so that quoted
// records with line breaks, CRLF, rejects and batch ends fall on every
// side of chunk boundaries), with small batches and a small text limit:
// batches, rejects (line, column, value, reason, order) and counts must be
// the same.
func TestParallelSameAsSerial(t *testing.T) {
	dir := t.TempDir()
	p := mustProfile(t, "date")
	defer func(m int) { maxBatchText = m }(maxBatchText)
	for _, tc := range []struct {
		seed      uint64
		crlf, bom bool
	}{{1, false, false}, {2, true, false}, {3, false, true}, {4, true, true}} {
		a := filepath.Join(dir, fmt.Sprintf("a%d.csv", tc.seed))
		b := filepath.Join(dir, fmt.Sprintf("b%d.csv", tc.seed))
		trickyCSV(t, a, 700, tc.seed, tc.crlf, tc.bom)
		trickyCSV(t, b, 300, tc.seed+10, !tc.crlf, false)
		for _, paths := range [][]string{{a}, {a, b}} {
			for _, batch := range []int{1, 7, 64, DefaultBatchSize} {
				for _, text := range []int{64 << 20, 900} {
					maxBatchText = text
					opt := Options{BatchSize: batch, MaxFieldBytes: 64}
					serial := readWith(t, paths, p, opt, 1, 8192, 512<<10)
					if serial.stats.Rejected == 0 || serial.stats.Accepted == 0 {
						t.Fatalf("test data: %+v", serial.stats)
					}
					for _, cut := range []struct{ rows, bytes int }{{1, 1 << 20}, {2, 1 << 20}, {5, 1 << 20}, {8192, 300}, {8192, 512 << 10}} {
						what := fmt.Sprintf("seed %d crlf %v bom %v files %d batch %d text %d chunk %d rows %d bytes",
							tc.seed, tc.crlf, tc.bom, len(paths), batch, text, cut.rows, cut.bytes)
						par := readWith(t, paths, p, opt, 3, cut.rows, cut.bytes)
						sameOutcome(t, what, par, serial)
						par.release()
					}
					serial.release()
				}
			}
		}
	}
}

// TestParallelReadError: a read error ends the run with the same error and
// counts as on the serial path (a gzip file cut short).
func TestParallelReadError(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(dateHeader)
	for i := range 20000 {
		fmt.Fprintf(&b, "SGD%d,13-01-02,IMP%d,D,C,O,8703232926,1,2,3,4,5,0,0\n", i, i%97)
	}
	path := filepath.Join(dir, "cut.csv.gz")
	gz := gzipBytes(t, []byte(b.String()))
	if err := os.WriteFile(path, gz[:len(gz)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	p := mustProfile(t, "date")
	serial := readWith(t, []string{path}, p, Options{BatchSize: 1000}, 1, 8192, 512<<10)
	if serial.err == "" {
		t.Fatal("a truncated gzip file read without error")
	}
	par := readWith(t, []string{path}, p, Options{BatchSize: 1000}, 2, 100, 512<<10)
	sameOutcome(t, "truncated gzip", par, serial)
}

// FuzzParallelCSV: any body under a DATE header reads the same on the
// parallel path, with chunks of a few records, as on the serial one.
func FuzzParallelCSV(f *testing.F) {
	f.Add("SGD1,13-01-02,I,D,C,O,8703232926,1,2,3,4,5,0,0\nSGD2,13-01-02,\"I\nJ\",D,C,O,8703232926,1,2,3,4,5,0,0\n", uint8(1), false)
	f.Add("SGD1,13-01-02,I,D,C,O,8703232926,1,2,3,4,5,0,0\r\n\r\n\"SGD2\",13-01-02,\"I\"\"\",D,C,O,8703232926,1,2,3,4,5,0,0\r\n", uint8(2), true)
	f.Add("SGD1,\"13-01-02,I,D\nC,O\",8703232926,1,2,3,4,5,0,0\nSGD3,x\"y,1\n", uint8(1), false)
	f.Add("\"a\nb\nc\nd\"\n\"e\r\nf\",,,,,,,,,,,,,\n", uint8(3), true)
	p := mustProfile(f, "date")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string, rows uint8, bom bool) {
		head := dateHeader
		if bom {
			head = "\xef\xbb\xbf" + head
		}
		path := filepath.Join(dir, "in.csv")
		if err := os.WriteFile(path, []byte(head+body), 0o644); err != nil {
			t.Fatal(err)
		}
		opt := Options{BatchSize: 2, MaxFieldBytes: 16}
		serial := readWith(t, []string{path}, p, opt, 1, 8192, 512<<10)
		defer serial.release()
		par := readWith(t, []string{path}, p, opt, 2, 1+int(rows%8), 1+int(rows)*4)
		defer par.release()
		sameOutcome(t, fmt.Sprintf("%q chunk %d rows", body, 1+rows%8), par, serial)
	})
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	if _, err := z.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestParquetSameForAnyWorkersAndReuse: the Parquet file an ingest writes
// is byte for byte the same on the serial path and with 2 or 3 parsing
// workers, with and without Options.ReuseMemory. The Parquet writer holds
// several batches queued while later ones are built, so a batch whose
// memory went back to the pool too early would show as different bytes.
// The Arrow IPC and CSV outputs are compared likewise.
func TestParquetSameForAnyWorkersAndReuse(t *testing.T) {
	dir := t.TempDir()
	p := mustProfile(t, "date")
	clean := filepath.Join(dir, "clean.csv")
	writeDateCSV(t, clean, 30000)
	tricky := filepath.Join(dir, "tricky.csv")
	trickyCSV(t, tricky, 3000, 5, false, false)
	for _, paths := range [][]string{{clean}, {tricky, clean}} {
		var want []byte
		for _, workers := range []int{1, 2, 3} {
			for _, reuse := range []bool{false, true} {
				out := filepath.Join(dir, fmt.Sprintf("out-%d-%v.parquet", workers, reuse))
				s := ingestTo(t, paths, p, out, Options{BatchSize: 1000, ReuseMemory: reuse, workers: workers})
				got, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if want == nil {
					if s.Accepted < 30000 {
						t.Fatalf("test data: %+v", s)
					}
					want = got
					continue
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%v, %d workers, reuse %v: Parquet differs from the serial path's (%d bytes, want %d)", paths, workers, reuse, len(got), len(want))
				}
			}
		}
		// The other writers risklane ingest has: Arrow IPC and CSV.
		for _, ext := range []string{"arrow", "csv"} {
			var outs [2][]byte
			for i, reuse := range []bool{false, true} {
				out := filepath.Join(dir, fmt.Sprintf("out-%v.%s", reuse, ext))
				ingestTo(t, paths, p, out, Options{BatchSize: 1000, ReuseMemory: reuse, workers: 1 + i})
				var err error
				if outs[i], err = os.ReadFile(out); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(outs[0], outs[1]) {
				t.Fatalf("%v: %s output with ReuseMemory on 2 workers differs from the serial path's", paths, ext)
			}
		}
	}
}
