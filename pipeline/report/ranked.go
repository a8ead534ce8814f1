package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"risklane/models/metrics"
	"risklane/pipeline/rank"
	"risklane/pipeline/score"
	"risklane/sink"
)

// ExploredShown is the number of exploration draws a RankedSection keeps.
const ExploredShown = 5

// RankedSection is the top of a ranked file, as `risklane score` writes it.
type RankedSection struct {
	Path string
	// Rows are the first rows of the file, in rank order.
	Rows []rank.Row
	// Outcome holds, per row of Rows, the label of the declaration in the
	// evaluation data (metrics.Unknown when it is not there or not
	// labelled); nil until AttachLabels.
	Outcome []int8
	// Explored are the first exploration draws of the red lane (rows whose
	// reason is score.ExplorationReason), at most as many as ExploredShown;
	// ExploredOutcome their labels, as Outcome.
	Explored        []rank.Row
	ExploredOutcome []int8
	// Total counts every row of the file; Red, Yellow and Green count the
	// lanes, Explore the exploration draws.
	Total, Red, Yellow, Green, Explore int
	ModelID, RunID                     string
}

// ReadRanked reads a ranked file (.parquet or .csv), keeping its first top
// rows and counting its lanes.
func ReadRanked(path string, top int) (*RankedSection, error) {
	format, err := sink.FormatOf(path)
	if err != nil {
		return nil, err
	}
	s := &RankedSection{Path: path}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ranked file: %w", err)
	}
	defer f.Close()
	add := func(r rank.Row) error {
		s.Total++
		if err := checkRow(r); err != nil {
			return fmt.Errorf("row %d: %w", s.Total, err)
		}
		switch r.Lane {
		case rank.Red:
			s.Red++
		case rank.Yellow:
			s.Yellow++
		case rank.Green:
			s.Green++
		}
		if len(s.Rows) < top {
			s.Rows = append(s.Rows, r)
		}
		if r.Lane == rank.Red && r.Reasons == score.ExplorationReason {
			s.Explore++
			if len(s.Explored) < ExploredShown {
				s.Explored = append(s.Explored, r)
			}
		}
		if s.ModelID == "" {
			s.ModelID, s.RunID = r.ModelID, r.RunID
		}
		return nil
	}
	switch format {
	case sink.Parquet:
		err = readRankedParquet(f, add)
	case sink.CSV:
		err = readRankedCSV(f, add)
	default:
		return nil, fmt.Errorf("%s: a ranked file is .parquet or .csv", path)
	}
	if err != nil {
		return nil, fmt.Errorf("ranked file %s: %w", path, err)
	}
	return s, nil
}

// checkRow refuses rows no scoring run writes.
func checkRow(r rank.Row) error {
	switch {
	case r.Rank < 1:
		return fmt.Errorf("rank %d: ranks start at 1", r.Rank)
	case r.DeclarationID == "":
		return fmt.Errorf("rank %d: the declaration_id is empty", r.Rank)
	case r.Lane != rank.Red && r.Lane != rank.Yellow && r.Lane != rank.Green:
		return fmt.Errorf("rank %d: lane %q is not red, yellow or green", r.Rank, r.Lane)
	}
	return nil
}

func readRankedParquet(f *os.File, add func(rank.Row) error) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return err
	}
	r := parquet.NewGenericReader[rank.Row](pf)
	defer r.Close()
	buf := make([]rank.Row, 1024)
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

func readRankedCSV(f io.Reader, add func(rank.Row) error) error {
	cr := csv.NewReader(f)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return err
	}
	if !slices.Equal(head, rank.Header) {
		return fmt.Errorf("line 1: header %q, want %q (the CSV risklane score writes)", head, rank.Header)
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		r := rank.Row{DeclarationID: rec[1], Lane: rank.Lane(rec[4]), Reasons: rec[5], ModelID: rec[6], RunID: rec[7]}
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

// AttachLabels records, for each row kept, the label its declaration has in
// the evaluation data (ids and labels in the same order), so that the report
// can show which of the top rows were frauds.
func (s *RankedSection) AttachLabels(ids []string, labels []int8) {
	s.Outcome = outcomes(s.Rows, ids, labels)
	s.ExploredOutcome = outcomes(s.Explored, ids, labels)
}

func outcomes(rows []rank.Row, ids []string, labels []int8) []int8 {
	want := make(map[string][]int, len(rows))
	out := make([]int8, len(rows))
	for i, r := range rows {
		want[r.DeclarationID] = append(want[r.DeclarationID], i)
		out[i] = metrics.Unknown
	}
	for j, id := range ids {
		for _, i := range want[id] {
			out[i] = labels[j]
		}
	}
	return out
}
