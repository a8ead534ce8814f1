package simulate

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/datasets/synth"
	"risklane/decl"
	"risklane/features"
	"risklane/ingest"
	"risklane/models"
	"risklane/models/kinds"
)

// TestDriftSweep replays one drift setting, the runs behind
// docs/simulate.md's drift tables (sessions 7 and 8): it measures, it
// asserts nothing, and runs only when RISKLANE_SIM_TUNE gives the setting
// as key=value words (defaults in kv below; the synth.Drift fields flows,
// offenders, prices, hidden, hshare, persist, newcomers, turn, turnu=1 for
// TurnUniform, hest=1 for HiddenEstablished; nodrift=1 for the same rows
// without drift; initlabels for
// Config.InitialLabels; halflife for the features' fraud-rate half-life in
// days, features.Config.HalfLife; strats separated by ";"), e.g.
//
//	RISKLANE_SIM_TUNE='seed=20 turn=2 persist=0.4' go test ./pipeline/simulate -run DriftSweep -v
//
// It logs per strategy the weekly precision in the 6 weeks before the date
// and the 4 after, the precision and revenue of the last 20 weeks (revenue
// against the first strategy's), and what the strategy inspected over them
// of the newcomers (importers never seen before the date, Drift.Newcomers)
// and of the turners (the clean importers that turn offender at the date,
// synth.Generator.Starters): rows, frauds, revenue, and how many of those
// rows its exploring part picked; the same of the concealment rows (the
// hidden drift's fraud, synth.FraudQuantity; the strategies never read the
// fraud type) against all of them in those weeks; and the rows, frauds and
// revenue of its exploring part over the last 20 weeks.
// thalflife=DAYS weights the training rows by recency (TrainConfig.RowHalfLife).
func TestDriftSweep(t *testing.T) {
	spec := os.Getenv("RISKLANE_SIM_TUNE")
	if spec == "" {
		t.Skip("skipping: a measuring run; set RISKLANE_SIM_TUNE (docs/simulate.md)")
	}
	kv := map[string]string{"rows": "100000", "seed": "10", "feats": "hs,risk,traders", "periods": "44", "at": "2024-06-03"}
	for _, f := range strings.Fields(spec) {
		k, v, _ := strings.Cut(f, "=")
		kv[k] = v
	}
	fl := func(k string) float64 { v, _ := strconv.ParseFloat(kv[k], 64); return v }
	at, _ := time.Parse(time.DateOnly, kv["at"])
	gc := synth.DefaultConfig()
	gc.Rows, gc.Seed = int64(fl("rows")), uint64(fl("seed"))
	if kv["nodrift"] == "" {
		gc.Drift = synth.Drift{At: at, Flows: int(fl("flows")), Offenders: fl("offenders"), PriceShift: fl("prices"),
			Hidden: int(fl("hidden")), HiddenShare: fl("hshare"), Persist: fl("persist"), Newcomers: fl("newcomers"), Turn: fl("turn"),
			TurnUniform: kv["turnu"] == "1", HiddenEstablished: kv["hest"] == "1"}
	}
	gen, err := synth.New(gc)
	if err != nil {
		t.Fatal(err)
	}
	turner := map[string]bool{}
	for _, id := range gen.Starters() {
		turner[id] = true
	}
	batches := generated(t, gc)
	defer ingest.Release(batches)
	// the importers seen before the date
	seen := map[string]bool{}
	for _, b := range batches {
		sc := b.Schema()
		im := b.Column(sc.FieldIndices(decl.ImporterID)[0]).(*array.String)
		dt := b.Column(sc.FieldIndices(decl.Date)[0]).(*array.Date32)
		for i := range int(b.NumRows()) {
			if dt.Value(i).ToTime().Before(at) {
				seen[im.Value(i)] = true
			}
		}
	}
	gbdt, _ := kinds.Lookup(models.DefaultKind)
	// who: the rows, frauds, revenue and explored rows of one group
	type who struct{ rows, frauds, rev, explored float64 }
	type acc struct{ newc, turn, turnAll, expl, conc, concAll who }
	got := map[string]*acc{}
	var mu sync.Mutex
	periods := int(fl("periods"))
	onPicks := func(s string, p int, bs []arrow.RecordBatch, picks []int, explored []bool) {
		if p <= periods-20 {
			return
		}
		var isNew, isTurn, isConc []bool
		var rev []float64
		var ill []bool
		for _, b := range bs {
			sc := b.Schema()
			im := b.Column(sc.FieldIndices(decl.ImporterID)[0]).(*array.String)
			rv := b.Column(sc.FieldIndices(decl.Revenue)[0]).(*array.Float64)
			il := b.Column(sc.FieldIndices(decl.Illicit)[0]).(*array.Int8)
			ft := b.Column(sc.FieldIndices(synth.FraudTypeColumn)[0]).(*array.String)
			for i := range int(b.NumRows()) {
				isNew, isTurn = append(isNew, !seen[im.Value(i)]), append(isTurn, turner[im.Value(i)])
				isConc = append(isConc, ft.Value(i) == synth.FraudQuantity)
				rev, ill = append(rev, rv.Value(i)), append(ill, il.Value(i) == 1)
			}
		}
		add := func(w *who, r int, ex bool) {
			w.rows++
			if ill[r] {
				w.frauds++
				w.rev += rev[r]
			}
			if ex {
				w.explored++
			}
		}
		mu.Lock()
		defer mu.Unlock()
		a := got[s]
		if a == nil {
			a = &acc{}
			got[s] = a
		}
		for k, r := range picks {
			if explored[k] {
				add(&a.expl, r, true)
			}
			if isNew[r] {
				add(&a.newc, r, explored[k])
			}
			if isTurn[r] {
				add(&a.turn, r, explored[k])
			}
			if isConc[r] {
				add(&a.conc, r, explored[k])
			}
		}
		for r := range isTurn {
			if isTurn[r] {
				add(&a.turnAll, r, false)
			}
			if isConc[r] {
				add(&a.concAll, r, false)
			}
		}
	}
	strats := []string{"gbdt", "gbdt:0.9+random:0.1"}
	if kv["strats"] != "" {
		strats = strings.Split(kv["strats"], ";")
	}
	cfg := Config{Start: time.Date(2024, 2, 26, 0, 0, 0, 0, time.UTC), PeriodDays: 7, Periods: periods, InitialDays: 56,
		Budget: Budget{0.1, 0.1}, RetrainEvery: 1, Seed: gc.Seed, Kind: gbdt, Parallel: 2,
		Train: models.TrainConfig{Features: features.Config{Groups: strings.Split(kv["feats"], ","), Folds: 5, Smoothing: 10, HalfLife: fl("halflife")},
			Params: map[string]float64{"rounds": 60, "max-depth": 6, "eta": 0.2}},
		Strategies: strats, onPicks: onPicks, InitialLabels: fl("initlabels")}
	cfg.Train.RowHalfLife = fl("thalflife")
	rows, err := Run(batches, cfg)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string][]Row{}
	for _, r := range rows {
		by[r.Strategy] = append(by[r.Strategy], r)
	}
	var base float64
	for i, s := range strats {
		g := by[s]
		var pre, post, rev, l20 float64
		var np, nq int
		for k, x := range g {
			if !x.From.Before(at.AddDate(0, 0, -42)) && x.From.Before(at) {
				pre += x.Precision
				np++
			}
			if !x.From.Before(at) && x.From.Before(at.AddDate(0, 0, 28)) {
				post += x.Precision
				nq++
			}
			if k >= len(g)-20 {
				rev += x.Revenue
				l20 += x.Precision / 20
			}
		}
		if i == 0 {
			base = rev
		}
		a := got[s]
		if a == nil {
			a = &acc{}
		}
		t.Logf("RESULT %s | %s: prec %.3f -> %.3f, last20 prec %.3f, rev20 %.0f (%+.1f%%); last20 newcomers: inspected %.0f (explored %.0f) frauds %.0f rev %.0f; turners (%d, %.0f rows, %.0f frauds, rev %.0f): inspected %.0f (explored %.0f) frauds %.0f rev %.0f; concealment (%.0f rows, rev %.0f): inspected %.0f (explored %.0f) rev %.0f; explored rows %.0f frauds %.0f rev %.0f",
			spec, s, pre/float64(max(1, np)), post/float64(max(1, nq)), l20, rev, 100*(rev/base-1),
			a.newc.rows, a.newc.explored, a.newc.frauds, a.newc.rev,
			len(turner), a.turnAll.rows, a.turnAll.frauds, a.turnAll.rev, a.turn.rows, a.turn.explored, a.turn.frauds, a.turn.rev,
			a.concAll.rows, a.concAll.rev, a.conc.rows, a.conc.explored, a.conc.rev,
			a.expl.rows, a.expl.frauds, a.expl.rev)
	}
}
