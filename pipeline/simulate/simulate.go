// Package simulate replays declarations period by period to compare
// inspection strategies (BACUDA series 8; docs/simulate.md): each period a
// strategy picks the declarations to inspect within the budget, only those
// reveal their labels, and the strategy's model retrains on what inspection
// revealed. The simulator knows every label; a strategy sees only its own.
package simulate

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"risklane/decl"
	"risklane/ingest"
	"risklane/models"
	"risklane/models/metrics"
)

// Budget is the share of a period's declarations inspected: Start in the
// first period, End in the last, linear in between (End == Start:
// constant).
type Budget struct {
	Start, End float64
}

// At returns the share of period p of n (0-based).
func (b Budget) At(p, n int) float64 {
	if n <= 1 {
		return b.Start
	}
	return b.Start + (b.End-b.Start)*float64(p)/float64(n-1)
}

// Config says what to replay and how.
type Config struct {
	// Start is the first day of the first simulated period.
	Start time.Time
	// PeriodDays is the length of a period; Periods their number.
	PeriodDays, Periods int
	// InitialDays is the history before Start whose labels the data gives
	// (the inspections of the past) and every strategy starts from.
	InitialDays int
	// InitialLabels is the share of the initial window's labelled rows
	// whose labels the strategies get (drawn once, the same for every
	// strategy); 0 is read as 1, all of them.
	InitialLabels float64
	// Budget is the inspected share of each period.
	Budget Budget
	// RetrainEvery retrains a strategy's model every so many periods.
	RetrainEvery int
	// Seed seeds the strategies' draws and the models.
	Seed uint64
	// Kind trains the models of the model-based strategies (a kind of
	// package risklane/models/kinds) with Train; Train.Seed is set from
	// Seed. Kinds names the other kinds a strategy may name (date, gbdtlr).
	Kind  models.Kind
	Kinds map[string]models.Kind
	Train models.TrainConfig
	// Strategies are the strategy specs (ParseStrategy), all run on the
	// same replay.
	Strategies []string
	// Progress, when set, gets one line per period and strategy.
	Progress io.Writer
	// Parallel is the number of strategies replayed at once (0 or 1: one
	// after another). Each strategy's draws and models depend only on
	// Seed and its position, so the table is the same whatever Parallel is;
	// memory grows with it (a retraining holds the history's feature
	// matrix). Configured feature signals (Train.Features.Signals) are
	// fitted in place, so with them the strategies run one after another.
	Parallel int

	// onPicks, when a test sets it, sees each period's inspections (row
	// positions in the period's batches, in order, and whether an exploring
	// part picked each), to break the revenue of a strategy down by what the
	// generator planted. It must be safe for strategies replayed at once.
	// Only tests set it.
	onPicks func(strategy string, period int, batches []arrow.RecordBatch, picks []int, explored []bool)
}

// Row is the outcome of one strategy in one period.
type Row struct {
	Strategy string
	Period   int // 1-based
	From, To time.Time
	Rows     int
	Budget   float64
	// Inspected rows, the frauds among them and the revenue they raised.
	Inspected, Frauds int
	Revenue           float64
	// Precision is Frauds / Inspected; FraudRecall and RevenueRecall are
	// against every fraud and all revenue of the period (the truth).
	Precision, FraudRecall, RevenueRecall float64
	// AUC is the AUC of the strategy's current score on the whole period
	// against the truth; NaN when it has no score (random).
	AUC float64
	// Exploration is the share of the inspected rows picked by exploring
	// components (random, diversity, gatekeeper, anomaly).
	Exploration float64
	// Retrained says whether the model was retrained for this period.
	Retrained bool
}

// slot holds the rows of the initial window (slot 0) or of one period.
type slot struct {
	batches []arrow.RecordBatch
	labels  []int8    // the truth
	revenue []float64 // the truth, NaN read as 0
	n       int
	from    time.Time
}

// data is the replay: the slots and the column positions of the labels.
type data struct {
	slots              []slot
	illicitCol, revCol int
}

func (d *data) release() {
	for _, s := range d.slots {
		ingest.Release(s.batches)
	}
}

// Run replays batches under cfg and returns one Row per period and
// strategy, strategies in the order given.
func Run(batches []arrow.RecordBatch, cfg Config) ([]Row, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	strats := make([]*strategy, len(cfg.Strategies))
	for i, spec := range cfg.Strategies {
		s, err := ParseStrategy(spec)
		if err != nil {
			return nil, err
		}
		for _, c := range s.parts {
			if c.kind != "" && c.kind != cfg.Kind.Name {
				if _, ok := cfg.Kinds[c.kind]; !ok {
					return nil, fmt.Errorf("strategy %q: this risklane has no %q model kind", spec, c.kind)
				}
			}
		}
		strats[i] = s
	}
	d, err := split(batches, cfg)
	if err != nil {
		return nil, err
	}
	defer d.release()
	if cfg.Progress != nil {
		cfg.Progress = &lockedWriter{w: cfg.Progress}
	}
	workers := max(1, cfg.Parallel)
	if len(cfg.Train.Features.Signals) > 0 {
		workers = 1
	}
	out := make([][]Row, len(strats))
	errs := make([]error, len(strats))
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for si, s := range strats {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[si], errs[si] = d.replay(s, si, cfg)
		})
	}
	wg.Wait()
	var rows []Row
	for si, s := range strats {
		if errs[si] != nil {
			return nil, fmt.Errorf("strategy %s: %w", s.name, errs[si])
		}
		rows = append(rows, out[si]...)
	}
	return rows, nil
}

// lockedWriter serialises the progress lines of strategies replayed at
// once.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (c Config) check() error {
	switch {
	case c.Start.IsZero():
		return errors.New("simulate: no start date")
	case c.PeriodDays < 1 || c.Periods < 1:
		return fmt.Errorf("simulate: %d periods of %d days: give at least one period of at least one day", c.Periods, c.PeriodDays)
	case c.InitialDays < 1:
		return fmt.Errorf("simulate: an initial window of %d days: give at least one day of labelled history", c.InitialDays)
	case !(c.Budget.Start > 0 && c.Budget.Start <= 1 && c.Budget.End > 0 && c.Budget.End <= 1):
		return fmt.Errorf("simulate: budget %g to %g: give shares in (0, 1]", c.Budget.Start, c.Budget.End)
	case !(c.InitialLabels >= 0 && c.InitialLabels <= 1):
		return fmt.Errorf("simulate: initial labels %g: give a share in (0, 1]", c.InitialLabels)
	case c.RetrainEvery < 1:
		return fmt.Errorf("simulate: retrain every %d periods: give 1 or more", c.RetrainEvery)
	case len(c.Strategies) == 0:
		return errors.New("simulate: no strategy")
	case c.Kind.Train == nil:
		return fmt.Errorf("simulate: the %q model kind cannot be trained", c.Kind.Name)
	}
	return nil
}

// split sorts the rows into slots by date; rows outside the initial window
// and the periods are left out. A period's row without a label is refused:
// the simulator must know every truth it replays.
func split(batches []arrow.RecordBatch, cfg Config) (*data, error) {
	if len(batches) == 0 {
		return nil, errors.New("simulate: no declarations")
	}
	d := &data{slots: make([]slot, cfg.Periods+1)}
	sc := batches[0].Schema()
	il, rv := sc.FieldIndices(decl.Illicit), sc.FieldIndices(decl.Revenue)
	if len(il) != 1 || len(rv) != 1 {
		return nil, fmt.Errorf("simulate: the data needs one %q and one %q column (the truth to replay)", decl.Illicit, decl.Revenue)
	}
	d.illicitCol, d.revCol = il[0], rv[0]
	start := int32(arrow.Date32FromTime(cfg.Start))
	for s := range d.slots {
		if s == 0 {
			d.slots[s].from = cfg.Start.AddDate(0, 0, -cfg.InitialDays)
		} else {
			d.slots[s].from = cfg.Start.AddDate(0, 0, (s-1)*cfg.PeriodDays)
		}
	}
	slotOf := func(day int32) int {
		off := int(day - start)
		switch {
		case off < -cfg.InitialDays:
			return -1
		case off < 0:
			return 0
		case off/cfg.PeriodDays < cfg.Periods:
			return 1 + off/cfg.PeriodDays
		}
		return -1
	}
	unlabelled := 0
	for bi, b := range batches {
		if !b.Schema().Equal(sc) {
			d.release()
			return nil, fmt.Errorf("simulate: batch %d has another schema than the first", bi+1)
		}
		dates, err := decl.Need[*array.Date32](b, decl.Date)
		if err != nil {
			d.release()
			return nil, fmt.Errorf("simulate: %w", err)
		}
		labels, revenue, err := models.Outcomes([]arrow.RecordBatch{b})
		if err != nil {
			d.release()
			return nil, fmt.Errorf("simulate: %w", err)
		}
		n := int(b.NumRows())
		slotOfRow := make([]int, n)
		for i := range n {
			slotOfRow[i] = -1
			if dates.IsValid(i) {
				slotOfRow[i] = slotOf(int32(dates.Value(i)))
			}
		}
		runs := make([][][2]int, len(d.slots))
		for i := 0; i < n; {
			s, j := slotOfRow[i], i+1
			for j < n && slotOfRow[j] == s {
				j++
			}
			if s >= 0 {
				runs[s] = append(runs[s], [2]int{i, j})
				sl := &d.slots[s]
				for k := i; k < j; k++ {
					if labels[k] < 0 && s > 0 {
						unlabelled++
					}
					sl.labels = append(sl.labels, labels[k])
					r := revenue[k]
					if math.IsNaN(r) || labels[k] != 1 {
						r = 0
					}
					sl.revenue = append(sl.revenue, r)
				}
				sl.n += j - i
			}
			i = j
		}
		for s, rs := range runs {
			if len(rs) == 0 {
				continue
			}
			rec, err := decl.Take(b, rs)
			if err != nil {
				d.release()
				return nil, fmt.Errorf("simulate: %w", err)
			}
			d.slots[s].batches = append(d.slots[s].batches, rec)
		}
	}
	if unlabelled > 0 {
		d.release()
		return nil, fmt.Errorf("simulate: %d rows of the simulated periods have no label; the simulator replays the truth, so every row from the start date on must be labelled (label them, or start later)", unlabelled)
	}
	for s, sl := range d.slots {
		if sl.n == 0 {
			d.release()
			if s == 0 {
				return nil, fmt.Errorf("simulate: no declaration in the %d days before %s (the initial window)", cfg.InitialDays, cfg.Start.Format(time.DateOnly))
			}
			return nil, fmt.Errorf("simulate: period %d (from %s) has no declaration: the data ends before %d periods of %d days", s, sl.from.Format(time.DateOnly), cfg.Periods, cfg.PeriodDays)
		}
	}
	return d, nil
}

// masked returns the batches of slots [0, upto) with the labels of the rows
// not revealed set to null: what a strategy's model may learn from. With
// pseudo (self-training), a row not revealed takes the pseudo-label
// pseudo[s][r] when it is 0 or 1 (revenue null for a pseudo-illicit row).
func (d *data) masked(upto int, revealed [][]bool, pseudo [][]int8) ([]arrow.RecordBatch, error) {
	var out []arrow.RecordBatch
	for s := range upto {
		off := 0
		for _, b := range d.slots[s].batches {
			n := int(b.NumRows())
			rev := revealed[s][off : off+n]
			ib := array.NewInt8Builder(memory.DefaultAllocator)
			rb := array.NewFloat64Builder(memory.DefaultAllocator)
			ib.Reserve(n)
			rb.Reserve(n)
			lab, money := d.slots[s].labels[off:off+n], d.slots[s].revenue[off:off+n]
			for i := range n {
				switch {
				case rev[i] && lab[i] >= 0:
					ib.Append(lab[i])
					rb.Append(money[i])
				case !rev[i] && pseudo != nil && pseudo[s][off+i] >= 0:
					ib.Append(pseudo[s][off+i])
					if pseudo[s][off+i] == 0 {
						rb.Append(0)
					} else {
						rb.AppendNull()
					}
				default:
					ib.AppendNull()
					rb.AppendNull()
				}
			}
			cols := append([]arrow.Array(nil), b.Columns()...)
			ic, rc := ib.NewArray(), rb.NewArray()
			ib.Release()
			rb.Release()
			cols[d.illicitCol], cols[d.revCol] = ic, rc
			out = append(out, array.NewRecordBatch(b.Schema(), cols, int64(n)))
			ic.Release()
			rc.Release()
			off += n
		}
	}
	return out, nil
}

// auc is the AUC of score on the period's truth, NaN without a score or
// with one class.
func auc(score []float64, labels []int8) float64 {
	if score == nil {
		return math.NaN()
	}
	a, err := metrics.AUC(score, labels)
	if err != nil {
		return math.NaN()
	}
	return a
}
