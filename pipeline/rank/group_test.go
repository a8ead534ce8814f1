package rank

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// groupRows are rows whose texts vary in length, so that pages and
// dictionaries fill differently from one row group to the next.
func groupRows(n int) []Row {
	rng := rand.New(rand.NewPCG(3, 5))
	rows := sampleRows(n)
	words := strings.Fields(`unit value below the HS median importer's past fraud rate declared origin "with quotes", comma`)
	for i := range rows {
		if rows[i].Lane != Green {
			var b strings.Builder
			for range 1 + rng.IntN(12) {
				b.WriteString(words[rng.IntN(len(words))])
				b.WriteByte(' ')
			}
			rows[i].Reasons = b.String()
		}
		rows[i].DeclarationID = "D" + strconv.FormatUint(rng.Uint64()>>rng.IntN(60), 36)
		rows[i].Score = rng.Float32()
		rows[i].ExpectedRevenue = rng.NormFloat64() * 1000
	}
	// A rank range's lanes: red, then yellow, then green, per file.
	return rows
}

// Row groups encoded apart (EncodeGroup, several at once) and appended in
// order (WriteGroup) give the very bytes of the same rows written by
// WriteExtra, a rank range (RowGroupRows rows) per call, as the scoring
// run's write stage calls it: Parquet (whose row groups WriteGroup copies
// verbatim) and CSV.
func TestGroupsSameBytes(t *testing.T) {
	rows := groupRows(2*RowGroupRows + 12345)
	dir := t.TempDir()
	meta := RunMeta("model-1", "run-1")
	for _, ext := range []string{"parquet", "csv"} {
		serial, err := CreateConfig(filepath.Join(dir, "serial."+ext), Config{Meta: meta})
		if err != nil {
			t.Fatal(err)
		}
		apart, err := CreateConfig(filepath.Join(dir, "apart."+ext), Config{Meta: meta})
		if err != nil {
			t.Fatal(err)
		}
		if !apart.EncodesApart() {
			t.Fatalf("%s: a plain ranked file is not encoded apart", ext)
		}
		var ranges [][]Row
		for r := rows; len(r) > 0; r = r[min(len(r), RowGroupRows):] {
			ranges = append(ranges, r[:min(len(r), RowGroupRows)])
		}
		groups := make([]*Group, len(ranges))
		errs := make([]error, len(ranges))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2) // so that a third group reuses an encoder
		for i, r := range ranges {
			if err := serial.WriteExtra(r, nil); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				groups[i], errs[i] = apart.EncodeGroup(r, nil)
				<-sem
			}()
		}
		wg.Wait()
		for i, g := range groups {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if err := apart.WriteGroup(g); err != nil {
				t.Fatal(err)
			}
		}
		a, err := serial.Commit()
		if err != nil {
			t.Fatal(err)
		}
		b, err := apart.Commit()
		if err != nil {
			t.Fatal(err)
		}
		if a.Rows != b.Rows || a.Bytes != b.Bytes || a.SHA256 != b.SHA256 {
			ab, _ := os.ReadFile(a.Path)
			bb, _ := os.ReadFile(b.Path)
			at := 0
			for at < min(len(ab), len(bb)) && ab[at] == bb[at] {
				at++
			}
			t.Errorf("%s: encoded apart %d rows, %d bytes; written in place %d rows, %d bytes; first difference at byte %d (equal: %v)",
				ext, b.Rows, b.Bytes, a.Rows, a.Bytes, at, bytes.Equal(ab, bb))
		}
	}
}

// A file with contributions or kept columns is not encoded apart, and
// EncodeGroup says so rather than writing something else.
func TestGroupsRefused(t *testing.T) {
	dir := t.TempDir()
	for i, cfg := range []Config{{Contributions: 2}, {Keep: []string{"importer_id"}}} {
		w, err := CreateConfig(filepath.Join(dir, strconv.Itoa(i)+".parquet"), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if w.EncodesApart() {
			t.Errorf("%+v: encodes apart", cfg)
		}
		if _, err := w.EncodeGroup(sampleRows(10), nil); err == nil {
			t.Errorf("%+v: EncodeGroup gave no error", cfg)
		}
		w.Abort()
	}
	w, err := CreateConfig(filepath.Join(dir, "big.parquet"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.EncodeGroup(make([]Row, RowGroupRows+1), nil); err == nil {
		t.Error("a group of more than RowGroupRows rows: no error")
	}
}
