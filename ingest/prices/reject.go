package prices

import (
	"io"

	"risklane/sink"
)

// Reject is a page, item or list row that gave no price, and why.
type Reject struct {
	// Where is the URL of the page, or FILE:LINE of a price list row.
	Where  string
	Source string
	HS6    string
	Reason string
}

func (r Reject) Error() string {
	s := r.Where
	if r.Source != "" {
		s += " (" + r.Source + ")"
	}
	return s + ": " + r.Reason
}

// RejectsHeader is the header of the rejects file.
var RejectsHeader = []string{"where", "source", "hs6", "reason"}

// WriteRejects writes the rejects as CSV to path atomically (cells that a
// spreadsheet would run as formulas are quoted by sink.CSVWriter).
func WriteRejects(path string, rs []Reject) error {
	return sink.WriteAtomic(path, func(f io.Writer) error {
		w := sink.NewCSVWriter(f)
		if err := w.Write(RejectsHeader); err != nil {
			return err
		}
		for _, r := range rs {
			if err := w.Write([]string{r.Where, r.Source, r.HS6, r.Reason}); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	})
}
