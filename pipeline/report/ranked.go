package report

import (
	"risklane/models/metrics"
	"risklane/pipeline/rank"
	"risklane/pipeline/score"
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
	s := &RankedSection{Path: path}
	add := func(r rank.Row) error {
		s.Total++
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
	if err := rank.Read(path, add); err != nil {
		return nil, err
	}
	return s, nil
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
