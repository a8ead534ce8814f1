package date

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
	"risklane/models"
	"risklane/models/metrics"
	"risklane/models/riskmodel"
)

// TestCompareGenerated is the quality comparison of docs/date.md, run on
// demand (it trains a GBDT and DATE per seed on 200,000 generated rows):
//
//	RISKLANE_DATE_COMPARE=1,2,3,4,5 go test ./models/date -run CompareGenerated -v -timeout 2h
//
// Each seed generates a year, trains on January-September and scores
// October-December; nothing is tuned on the scored quarter.
func TestCompareGenerated(t *testing.T) {
	seeds := os.Getenv("RISKLANE_DATE_COMPARE")
	if seeds == "" {
		t.Skip("skipping: set RISKLANE_DATE_COMPARE to a list of seeds to run the DATE/GBDT comparison")
	}
	for _, s := range strings.Split(seeds, ",") {
		seed, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		cfg := synth.DefaultConfig()
		cfg.Rows, cfg.Seed = 200_000, seed
		g, err := synth.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var all []arrow.RecordBatch
		for !g.Done() {
			b, err := g.Next()
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b)
		}
		train, test, err := riskmodel.SplitByDate(all, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		compare(t, fmt.Sprintf("generated seed %d", seed), train, test, seed)
	}
}

// TestCompareKCS trains the GBDT and DATE on the KCS training year and
// scores the validation quarter (reported; never tuned on):
//
//	RISKLANE_DATE_COMPARE=1 go test ./models/date -run CompareKCS -v
func TestCompareKCS(t *testing.T) {
	if os.Getenv("RISKLANE_DATE_COMPARE") == "" {
		t.Skip("skipping: set RISKLANE_DATE_COMPARE to run the DATE/GBDT comparison")
	}
	compare(t, "KCS valid", readKCS(t, "train.csv"), readKCS(t, "valid.csv"), 0)
}

func compare(t *testing.T, name string, train, test []arrow.RecordBatch, seed uint64) {
	t.Helper()
	start := time.Now()
	gc := riskmodel.DefaultConfig()
	gc.Classifier.Seed, gc.Revenue.Seed = seed, seed
	gm, err := riskmodel.Train(train, nil, gc)
	if err != nil {
		t.Fatal(err)
	}
	gbdtSecs := time.Since(start).Seconds()
	gp, err := gm.Evaluate(test, models.ByProbability)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := gm.Evaluate(test, models.ByExpectedRevenue)
	if err != nil {
		t.Fatal(err)
	}
	dc := DefaultConfig()
	dc.Seed = seed
	dm, err := Train(train, dc)
	if err != nil {
		t.Fatal(err)
	}
	dp, dr, err := dm.Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}
	row := func(model string, r metrics.Report, secs float64) {
		var b strings.Builder
		fmt.Fprintf(&b, "COMPARE | %s | %s | %.4f |", name, model, r.AUC)
		for _, a := range r.AtRates {
			fmt.Fprintf(&b, " %.3f/%.3f/%.3f |", a.Precision, a.Recall, a.Revenue)
		}
		fmt.Fprintf(&b, " %.0fs", secs)
		t.Log(b.String())
	}
	row("GBDT by probability", gp.Report, gbdtSecs)
	row("GBDT by expected revenue", gr.Report, gbdtSecs)
	row("DATE by probability", dp, dm.History.Seconds)
	row("DATE by dual score", dr, dm.History.Seconds)
}
