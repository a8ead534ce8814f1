package run

import (
	"errors"
	"testing"
)

// FuzzParseJob: any bytes give a job or a usage error, never a panic; a job
// it accepts has its required keys and a valid plan.
func FuzzParseJob(f *testing.F) {
	f.Add([]byte("input: a/*.csv\nprofile: date\nmodel: m\noutputs: out\nbudget: 5%\nyellow: 300\nmax_reject_rate: 2%\nretention: {keep_nights: 3}\n"))
	f.Add([]byte("input: a\nprofile: p\nmodel: m\noutputs: o\nmax_reject_rate: 0.5\nseed: 18446744073709551615\n"))
	f.Add([]byte("budget: [1, 2]\n"))
	f.Add(aliasBomb(3))
	f.Add([]byte("{input: x, profile: y, model: z, outputs: w, explore: 100%, rank_by: expected-revenue, log: json}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := parseJob(data, "/jobs/nightly.yaml")
		if err != nil {
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("error is not a usage error: %v", err)
			}
			return
		}
		if j.Input == "" || j.Profile == "" || j.Model == "" || j.Outputs == "" {
			t.Fatalf("accepted a job without its required keys: %+v", j)
		}
		p := j.Plan()
		for _, s := range []float64{p.Budget.Percent, p.Yellow.Percent, p.Explore.Percent} {
			if s < 0 || s > 100 {
				t.Fatalf("share %v out of range", s)
			}
		}
		if j.MaxRejectRate != nil && !(*j.MaxRejectRate >= 0 && *j.MaxRejectRate <= 1) {
			t.Fatalf("reject rate %v out of range", *j.MaxRejectRate)
		}
	})
}
