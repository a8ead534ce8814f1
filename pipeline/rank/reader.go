package rank

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"risklane/sink"
)

// Read reads a ranked file that Writer wrote (.parquet or .csv), calling
// each with its rows in file order (rank order). A row no scoring run writes
// (rank below 1, no declaration id, an unknown lane) is an error naming the
// file and row.
func Read(path string, each func(Row) error) error {
	format, err := sink.FormatOf(path)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("ranked file: %w", err)
	}
	defer f.Close()
	n := 0
	check := func(r Row) error {
		n++
		if err := checkRow(r); err != nil {
			return fmt.Errorf("row %d: %w", n, err)
		}
		return each(r)
	}
	switch format {
	case sink.Parquet:
		err = readParquet(f, check)
	case sink.CSV:
		err = readCSV(f, check)
	default:
		return fmt.Errorf("%s: a ranked file is .parquet or .csv", path)
	}
	if err != nil {
		return fmt.Errorf("ranked file %s: %w", path, err)
	}
	return nil
}

// checkRow refuses rows no scoring run writes.
func checkRow(r Row) error {
	switch {
	case r.Rank < 1:
		return fmt.Errorf("rank %d: ranks start at 1", r.Rank)
	case r.DeclarationID == "":
		return fmt.Errorf("rank %d: the declaration_id is empty", r.Rank)
	case r.Lane != Red && r.Lane != Yellow && r.Lane != Green:
		return fmt.Errorf("rank %d: lane %q is not red, yellow or green", r.Rank, r.Lane)
	}
	return nil
}

// readParquet streams the rows with parquet-go, the library Writer writes
// them with, 1024 at a time, rather than through ingest's arrow-go path
// like other inputs: ingest.ReadRecord, its one reader of a typed table,
// holds the whole table. For 500,000 ranked rows it allocated 567 MB
// against this reader's 32 MB and ran 1.7 to 3.3 times slower (go test
// -bench, the two in the same run, load 35), and report and release-time
// read whole nightly ranked files through here.
func readParquet(f *os.File, add func(Row) error) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return err
	}
	r := parquet.NewGenericReader[Row](pf)
	defer r.Close()
	buf := make([]Row, 1024)
	for {
		n, err := r.Read(buf)
		for _, row := range buf[:n] {
			if aerr := add(row); aerr != nil {
				return aerr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func readCSV(f io.Reader, add func(Row) error) error {
	cr := csv.NewReader(f)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return err
	}
	// score --keep and --contributions add columns after Header's.
	if len(head) < len(Header) || !slices.Equal(head[:len(Header)], Header) {
		return fmt.Errorf("line 1: header %q, want it to start with %q (the CSV risklane score writes)", head, Header)
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		r := Row{DeclarationID: rec[1], Lane: Lane(rec[4]), Reasons: rec[5], ModelID: rec[6], RunID: rec[7]}
		if r.Rank, err = strconv.ParseInt(rec[0], 10, 64); err != nil {
			return fmt.Errorf("line %d, column rank: %q is not a whole number", line, rec[0])
		}
		score, err := strconv.ParseFloat(rec[2], 32)
		if err != nil {
			return fmt.Errorf("line %d, column score: %q is not a number", line, rec[2])
		}
		r.Score = float32(score)
		if r.ExpectedRevenue, err = strconv.ParseFloat(rec[3], 64); err != nil {
			return fmt.Errorf("line %d, column expected_revenue: %q is not a number", line, rec[3])
		}
		if err := checkRow(r); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if err := add(r); err != nil {
			return err
		}
	}
}
