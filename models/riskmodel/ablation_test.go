package riskmodel

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/datasets/synth"
	"risklane/features"
	"risklane/features/pricecluster"
	"risklane/models/metrics"
	"risklane/models/modeltest"
)

var (
	ablation     = flag.Bool("ablation", false, "run TestAblationTable: the feature-group ablation tables on generated and KCS data (minutes)")
	ablationRows = flag.Int64("ablation.rows", 200_000, "rows of generated data in TestAblationTable")
)

// without returns groups less g.
func without(groups []string, g string) []string {
	return slices.DeleteFunc(slices.Clone(groups), func(x string) bool { return x == g })
}

// ablationRow is one trained variant and its validation metrics (ranked by
// probability).
type ablationRow struct {
	name string
	rep  metrics.Report
}

func (r ablationRow) at(rate float64) metrics.AtRateResult {
	for _, a := range r.rep.AtRates {
		if a.Rate == rate {
			return a
		}
	}
	panic(fmt.Sprintf("no rate %v in the report", rate))
}

// trainVariant trains the default model with the given groups (and the
// mirror group over trade, when trade is set) and returns its validation
// metrics.
func trainVariant(t *testing.T, name string, groups []string, trade string, train, valid []arrow.RecordBatch, seed uint64) ablationRow {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Features.Groups = groups
	cfg.Features.Seed, cfg.Classifier.Seed, cfg.Revenue.Seed = seed, seed, seed
	if trade != "" {
		cfg = withMirror(cfg, trade)
	}
	m, err := Train(train, valid, cfg)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ablationRow{name, *m.Metrics.Validation}
}

// ablationTable writes rows as a Markdown table: Precision at 1, 2, 5 and
// 10%, Recall at 5%, Revenue at 5 and 10%, AUC.
func ablationTable(rows []ablationRow) string {
	var b strings.Builder
	b.WriteString("| features | P@1% | P@2% | P@5% | P@10% | R@5% | Rev@5% | Rev@10% | AUC |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.4f |\n", r.name,
			r.at(1).Precision, r.at(2).Precision, r.at(5).Precision, r.at(10).Precision,
			r.at(5).Recall, r.at(5).Revenue, r.at(10).Revenue, r.rep.AUC)
	}
	return b.String()
}

// splitSynth splits generated 2024 data at October 1st: about three
// quarters to train on, the last quarter to score.
func splitSynth(t *testing.T, all []arrow.RecordBatch) (train, valid []arrow.RecordBatch) {
	t.Helper()
	train, valid, err := SplitByDate(all, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return train, valid
}

// TestClusterAblation measures what the cluster group adds on generated
// data (50,000 rows, trained on January to September, scored on October to
// December).
//
// Issue 5 asks that the cluster features raise the default model's
// Precision@5%. On generated data they do not, beyond noise: the unitvalue
// group already places each price against its HS6 reference (robust z,
// percentile, ratio to the median), which is what planted undervaluation
// moves, and at 6% fraud the model finds over 90% fraud in its top 5%.
// Over seeds 1 to 4 adding them changed Precision@5% by -0.008 to +0.002.
// What the test can assert is that the cluster features carry that signal
// on their own: a model without the unitvalue group gains at least 0.015
// Precision@5% from them (seeds 1 to 4: +0.029 to +0.057), and that
// adding them to a model that has it costs no more than noise (0.015).
func TestClusterAblation(t *testing.T) {
	all, _ := generateWithTrade(t, smallSynth(50_000, 1))
	train, valid := splitSynth(t, all)
	base := without(DefaultGroups, pricecluster.GroupName)
	noUV := without(base, features.GroupUnitValue)
	rows := []ablationRow{
		trainVariant(t, strings.Join(base, ","), base, "", train, valid, 0),
		trainVariant(t, "+cluster", append(slices.Clone(base), pricecluster.GroupName), "", train, valid, 0),
		trainVariant(t, "-unitvalue", noUV, "", train, valid, 0),
		trainVariant(t, "-unitvalue,+cluster", append(slices.Clone(noUV), pricecluster.GroupName), "", train, valid, 0),
	}
	t.Logf("generated data, 50,000 rows, seed 1:\n%s", ablationTable(rows))
	p5 := func(i int) float64 { return rows[i].at(5).Precision }
	if gain := p5(3) - p5(2); gain < 0.015 {
		t.Errorf("without the unitvalue group, the cluster features raise Precision@5%% by %.3f (%.3f to %.3f); want at least 0.015", gain, p5(2), p5(3))
	}
	if loss := p5(0) - p5(1); loss > 0.015 {
		t.Errorf("adding the cluster features lowers Precision@5%% by %.3f (%.3f to %.3f); want at most 0.015", loss, p5(0), p5(1))
	}
}

// TestAblationTable prints the ablation tables of the cluster and mirror
// groups: on generated data (-ablation.rows rows of `risklane generate
// --seed 1`, with its trade statistics), the model without both, with each
// and with both; on KCS (train.csv -> valid.csv, no trade statistics) without
// and with the cluster group; and the time-ordered cross-validation on the
// KCS training year alone (train on the months before a quarter of 2020,
// score the quarter, for Q2 to Q4) over model seeds 0 to 3, which chose
// the default groups. It takes minutes, so it runs only with -ablation:
//
//	go test ./models/riskmodel -run TestAblationTable -v -timeout 1h -args -ablation
func TestAblationTable(t *testing.T) {
	if !*ablation {
		t.Skip("the ablation tables take minutes; run with -args -ablation")
	}
	base := without(DefaultGroups, pricecluster.GroupName)
	withCluster := append(slices.Clone(base), pricecluster.GroupName)
	name := strings.Join(base, ",")

	t.Run("generated", func(t *testing.T) {
		cfg := synth.DefaultConfig()
		cfg.Rows = *ablationRows
		all, trade := generateWithTrade(t, cfg)
		train, valid := splitSynth(t, all)
		rows := []ablationRow{
			trainVariant(t, name, base, "", train, valid, 0),
			trainVariant(t, "+cluster", withCluster, "", train, valid, 0),
			trainVariant(t, "+mirror", base, trade, train, valid, 0),
			trainVariant(t, "+cluster,+mirror", withCluster, trade, train, valid, 0),
		}
		t.Logf("generated data, %d rows, seed %d, trained to September, scored on October to December:\n%s", cfg.Rows, cfg.Seed, ablationTable(rows))
	})

	t.Run("kcs", func(t *testing.T) {
		train, valid := modeltest.KCS(t, "train.csv"), modeltest.KCS(t, "valid.csv")
		rows := []ablationRow{
			trainVariant(t, name, base, "", train, valid, 0),
			trainVariant(t, "+cluster", withCluster, "", train, valid, 0),
		}
		t.Logf("KCS train.csv -> valid.csv:\n%s", ablationTable(rows))
	})

	t.Run("kcs-cv", func(t *testing.T) {
		all := modeltest.KCS(t, "train.csv")
		var folds [][2][]arrow.RecordBatch
		for _, month := range []time.Month{4, 7, 10} {
			from := time.Date(2020, month, 1, 0, 0, 0, 0, time.UTC)
			before, rest, err := SplitByDate(all, from)
			if err != nil {
				t.Fatal(err)
			}
			quarter, _, err := SplitByDate(rest, from.AddDate(0, 3, 0))
			if err != nil {
				t.Fatal(err)
			}
			folds = append(folds, [2][]arrow.RecordBatch{before, quarter})
		}
		var b strings.Builder
		b.WriteString("| model seed | features | AUC | P@5% | P@10% |\n| ---: | --- | ---: | ---: | ---: |\n")
		for seed := range uint64(4) {
			for _, v := range []struct {
				name   string
				groups []string
			}{{name, base}, {"+cluster", withCluster}} {
				var auc, p5, p10 float64
				for _, f := range folds {
					r := trainVariant(t, v.name, v.groups, "", f[0], f[1], seed)
					auc += r.rep.AUC / 3
					p5 += r.at(5).Precision / 3
					p10 += r.at(10).Precision / 3
				}
				fmt.Fprintf(&b, "| %d | %s | %.4f | %.3f | %.3f |\n", seed, v.name, auc, p5, p10)
			}
		}
		t.Logf("KCS train.csv, time-ordered CV (Q2, Q3, Q4 of 2020; means of the three quarters):\n%s", b.String())
	})
}
