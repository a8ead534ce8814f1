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

// keptValues are values of two kept columns for rows: some empty (a null
// input cell), some long.
func keptValues(n int) *Extra {
	ex := &Extra{Keep: 2, Kept: make([][]string, n)}
	for i := range ex.Kept {
		ex.Kept[i] = []string{strconv.Itoa(840000 + i%977), strings.Repeat("ü", i%7*(i%5))}
	}
	return ex
}

// sliceExtra is ex's values of rows [lo, hi).
func sliceExtra(ex *Extra, lo, hi int) *Extra {
	if ex == nil {
		return nil
	}
	return &Extra{Keep: ex.Keep, Kept: ex.Kept[lo:hi]}
}

// Row groups encoded apart (EncodeGroup, several at once) and appended in
// order (WriteGroup) give the very bytes of the same rows written by
// WriteExtra, a rank range (RowGroupRows rows) per call, as the scoring
// run's write stage calls it, and by Write in uneven calls, as the Beam
// score stage calls it: Parquet (sink's encoder, a row group per range)
// and CSV, without and with kept columns; and by a GroupEncoder fed in
// uneven calls (the scoring run's write stage).
func TestGroupsSameBytes(t *testing.T) {
	rows := groupRows(2*RowGroupRows + 12345)
	kept := keptValues(len(rows))
	dir := t.TempDir()
	meta := RunMeta("model-1", "run-1")
	for _, c := range []struct {
		ext  string
		keep []string
		ex   *Extra
	}{{"parquet", nil, nil}, {"csv", nil, nil}, {"parquet", []string{"hs_code", "importer_name"}, kept}, {"csv", []string{"hs_code", "importer_name"}, kept}} {
		name := c.ext + strconv.Itoa(len(c.keep))
		cfg := Config{Meta: meta, Keep: c.keep}
		serial, err := CreateConfig(filepath.Join(dir, name+"-serial."+c.ext), cfg)
		if err != nil {
			t.Fatal(err)
		}
		uneven, err := CreateConfig(filepath.Join(dir, name+"-uneven."+c.ext), cfg)
		if err != nil {
			t.Fatal(err)
		}
		apart, err := CreateConfig(filepath.Join(dir, name+"-apart."+c.ext), cfg)
		if err != nil {
			t.Fatal(err)
		}
		fed, err := CreateConfig(filepath.Join(dir, name+"-fed."+c.ext), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !apart.EncodesApart() {
			t.Fatalf("%s: a ranked file without contributions is not encoded apart", name)
		}
		for lo := 0; lo < len(rows); lo += 70001 {
			hi := min(lo+70001, len(rows))
			if err := uneven.WriteExtra(rows[lo:hi], sliceExtra(c.ex, lo, hi)); err != nil {
				t.Fatal(err)
			}
		}
		var ranges [][2]int
		for lo := 0; lo < len(rows); lo += RowGroupRows {
			ranges = append(ranges, [2]int{lo, min(lo+RowGroupRows, len(rows))})
		}
		groups := make([]*Group, len(ranges))
		errs := make([]error, len(ranges))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2) // so that a third group reuses an encoder
		for _, lh := range ranges {
			if err := serial.WriteExtra(rows[lh[0]:lh[1]], sliceExtra(c.ex, lh[0], lh[1])); err != nil {
				t.Fatal(err)
			}
		}
		for i := len(ranges) - 1; i >= 0; i-- { // the last first: any order of encoding
			lo, hi := ranges[i][0], ranges[i][1]
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				groups[i], errs[i] = apart.EncodeGroup(rows[lo:hi], sliceExtra(c.ex, lo, hi))
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
		// The same groups given to a GroupEncoder in calls of uneven
		// sizes, across batch boundaries; a dropped group in between.
		if g, err := fed.BeginGroup(); err != nil {
			t.Fatal(err)
		} else if err := g.Add(rows[:100], nil); err != nil {
			t.Fatal(err)
		} else {
			g.Abort()
		}
		for _, lh := range ranges {
			g, err := fed.BeginGroup()
			if err != nil {
				t.Fatal(err)
			}
			sizes := []int{1, 5000, 16383, 40000, 0, 16384}
			for lo, k := lh[0], 0; lo < lh[1]; k++ {
				hi := min(lo+sizes[k%len(sizes)], lh[1])
				if err := g.Add(rows[lo:hi], sliceExtra(c.ex, lo, hi)); err != nil {
					t.Fatal(err)
				}
				lo = hi
			}
			e, err := g.End()
			if err != nil {
				t.Fatal(err)
			}
			if err := fed.WriteGroup(e); err != nil {
				t.Fatal(err)
			}
		}
		a, err := serial.Commit()
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []*Writer{apart, uneven, fed} {
			b, err := w.Commit()
			if err != nil {
				t.Fatal(err)
			}
			if a.Rows != int64(len(rows)) || a.Rows != b.Rows || a.Bytes != b.Bytes || a.SHA256 != b.SHA256 {
				ab, _ := os.ReadFile(a.Path)
				bb, _ := os.ReadFile(b.Path)
				at := 0
				for at < min(len(ab), len(bb)) && ab[at] == bb[at] {
					at++
				}
				t.Errorf("%s: %d rows, %d bytes; written in place a range at a time %d rows, %d bytes; first difference at byte %d (equal: %v)",
					b.Path, b.Rows, b.Bytes, a.Rows, a.Bytes, at, bytes.Equal(ab, bb))
			}
		}
	}
}

// A Parquet file with contributions (parquet-go's) is not encoded apart,
// and EncodeGroup says so rather than writing something else.
func TestGroupsRefused(t *testing.T) {
	dir := t.TempDir()
	for i, cfg := range []Config{{Contributions: 2}, {Contributions: 1, Keep: []string{"importer_id"}}} {
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
