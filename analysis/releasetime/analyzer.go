package releasetime

import (
	"fmt"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/decl"
)

// Histogram bins of the arrival-to-release time: one minute up to 14 days,
// then one hour up to 400 days, then one overflow bin. Quantiles are exact
// to the minute for all but the rarest tails, and memory stays flat whatever
// the number of declarations.
const (
	fineBins   = 14 * 1440
	coarseBins = 400 * 24
	numBins    = fineBins + coarseBins + 1
)

func binOf(m int64) int {
	switch {
	case m < fineBins:
		return int(m)
	case m < fineBins+coarseBins*60:
		return fineBins + int((m-fineBins)/60)
	}
	return numBins - 1
}

// binValue is the time a bin stands for (its lower edge).
func binValue(b int) float64 {
	if b < fineBins {
		return float64(b)
	}
	return float64(fineBins + (b-fineBins)*60)
}

// acc accumulates one group.
type acc struct {
	n         int64
	stages    [NumStages]float64
	total     float64
	working   float64
	inspected int64
	prelodged int64
	within    []int64
	hist      []int32
}

func (a *acc) add(m *Measure, targets []int64) {
	a.n++
	for s, v := range m.Stages {
		a.stages[s] += float64(v)
	}
	a.total += float64(m.Total)
	a.working += float64(m.Working)
	if m.Inspected {
		a.inspected++
	}
	if m.PreLodged {
		a.prelodged++
	}
	for i, t := range targets {
		if m.Total <= t {
			a.within[i]++
		}
	}
	a.hist[binOf(m.Total)]++
}

// quantile returns the p-quantile of the group's totals, in minutes (the
// smallest bin value with at least p of the declarations at or below it).
func (a *acc) quantile(p float64) float64 {
	need := int64(p*float64(a.n) + 0.5)
	need = max(need, 1)
	var c int64
	for b, k := range a.hist {
		c += int64(k)
		if c >= need {
			return binValue(b)
		}
	}
	return binValue(numBins - 1)
}

// Config tunes an Analyzer.
type Config struct {
	// Targets are release-time targets in hours (default 24 and 48): the
	// table gives the share of declarations released within each.
	Targets []float64
	// Calendar counts working time (default DefaultCalendar).
	Calendar *Calendar
	// Rejects receives every rejected declaration; it may be nil.
	Rejects func(Reject) error
	// Cost, when not nil, collects what the release-time cost of an
	// inspection budget needs (NewCost).
	Cost *Cost
}

// Stats counts rows. Rows = Items + Measured + Rejected.
type Stats struct {
	Rows int64
	// Items are rows that repeat the declaration id of the row before
	// them: further items of the same declaration, counted once.
	Items    int64
	Measured int64
	Rejected int64
}

// Columns are the columns Add reads: the commands read only these
// (ingest.Options.Columns), column by column.
var Columns = append([]string{decl.DeclarationID, decl.Lane, decl.OfficeID, decl.ModeOfTransport, decl.HSCode}, decl.Timestamps...)

// Analyzer accumulates release times, batch by batch, in flat memory.
type Analyzer struct {
	cfg     Config
	targets []int64
	groups  map[[2]string]*acc
	stats   Stats
	lastID  string
	hasLast bool
	lastDay int64
	month   string
}

// New returns an empty Analyzer.
func New(cfg Config) *Analyzer {
	if cfg.Targets == nil {
		cfg.Targets = []float64{24, 48}
	}
	if cfg.Calendar == nil {
		cfg.Calendar = &DefaultCalendar
	}
	a := &Analyzer{cfg: cfg, groups: map[[2]string]*acc{}}
	for _, h := range cfg.Targets {
		a.targets = append(a.targets, int64(h*60))
	}
	return a
}

// Stats returns the counts so far.
func (a *Analyzer) Stats() Stats { return a.stats }

func (a *Analyzer) group(dim Dimension, key string) *acc {
	k := [2]string{string(dim), key}
	g := a.groups[k]
	if g == nil {
		g = &acc{within: make([]int64, len(a.targets)), hist: make([]int32, numBins)}
		a.groups[k] = g
	}
	return g
}

// Add measures the rows of a canonical record batch. It fails only when
// the batch lacks the release-time columns altogether, holds one of its
// columns as something other than text, or when the Rejects callback fails.
func (a *Analyzer) Add(rec arrow.RecordBatch) error {
	var stamps [7]decl.Text
	present := 0
	for i, name := range decl.Timestamps {
		var ok bool
		var err error
		if stamps[i], ok, err = decl.Strings(rec, name); err != nil {
			return fmt.Errorf("releasetime: %w", err)
		}
		if ok {
			present++
		}
	}
	if present == 0 {
		return fmt.Errorf("releasetime: the declarations have none of the columns %v; map them in the profile (docs/release-time.md) or generate them with 'risklane generate --timestamps'", decl.Timestamps)
	}
	var ids, lanes, offices, modes, hs decl.Text
	for _, c := range []struct {
		name string
		dst  *decl.Text
	}{{decl.DeclarationID, &ids}, {decl.Lane, &lanes}, {decl.OfficeID, &offices}, {decl.ModeOfTransport, &modes}, {decl.HSCode, &hs}} {
		var err error
		if *c.dst, _, err = decl.Strings(rec, c.name); err != nil {
			return fmt.Errorf("releasetime: %w", err)
		}
	}
	var ms milestones
	for i := 0; i < int(rec.NumRows()); i++ {
		a.stats.Rows++
		id, _ := ids.Value(i)
		if a.hasLast && id == a.lastID && id != "" {
			a.stats.Items++
			continue
		}
		a.lastID, a.hasLast = id, true
		var bad Reject
		for k, c := range stamps {
			v, ok := c.Value(i)
			ms.has[k] = ok && v != ""
			if !ms.has[k] {
				continue
			}
			if ms.t[k], ok = parseStamp(v); !ok {
				bad = Reject{Column: decl.Timestamps[k], Value: v, Reason: "not a date-time (want YYYY-MM-DDTHH:MM[:SS])"}
				break
			}
		}
		var m Measure
		if bad.Reason == "" {
			m, bad.Column, bad.Reason = measure(&ms, a.cfg.Calendar)
			if bad.Reason != "" {
				for k, name := range decl.Timestamps {
					if name == bad.Column {
						bad.Value, _ = stamps[k].Value(i)
					}
				}
			}
		}
		if bad.Reason != "" {
			a.stats.Rejected++
			if a.cfg.Rejects != nil {
				bad.Row, bad.ID = a.stats.Rows, id
				if err := a.cfg.Rejects(bad); err != nil {
					return err
				}
			}
			continue
		}
		a.stats.Measured++
		a.group(All, "all").add(&m, a.targets)
		if v, ok := lanes.Value(i); ok {
			a.group(ByLane, v).add(&m, a.targets)
		}
		ctl := "no"
		if m.Inspected {
			ctl = "yes"
		}
		a.group(ByControl, ctl).add(&m, a.targets)
		office, hasOffice := offices.Value(i)
		if hasOffice {
			a.group(ByOffice, office).add(&m, a.targets)
		}
		mode, hasMode := modes.Value(i)
		if hasMode {
			a.group(ByMode, mode).add(&m, a.targets)
		}
		if a.cfg.Cost != nil {
			a.cfg.Cost.observe(id, office, mode, m.Inspected, m.Total)
		}
		if v, ok := hs.Value(i); ok && len(v) >= 2 {
			a.group(ByHS2, v[:2]).add(&m, a.targets)
		}
		// The month of arrival; consecutive rows mostly share the day.
		if day := floorDiv(ms.t[mArr], 1440); day != a.lastDay || a.month == "" {
			a.lastDay = day
			a.month = time.Unix(day*86400, 0).UTC().Format("2006-01")
		}
		a.group(ByMonth, a.month).add(&m, a.targets)
	}
	return nil
}

// Row is one line of the breakdown table; times are in hours.
type Row struct {
	Dimension              Dimension
	Group                  string
	N                      int64
	Mean, Median, P90, P95 float64
	// Within[i] is the share released within Config.Targets[i] hours.
	Within      []float64
	MeanWorking float64
	// Stages are the mean hours of each stage; they add up to Mean.
	Stages    [NumStages]float64
	Inspected float64 // share inspected (yellow or red)
	PreLodged float64 // share lodged before arrival
}

// Table returns the breakdown: every dimension in Dimensions order, groups
// sorted by name.
func (a *Analyzer) Table() []Row {
	var out []Row
	for _, dim := range Dimensions {
		var keys []string
		for k := range a.groups {
			if k[0] == string(dim) {
				keys = append(keys, k[1])
			}
		}
		slices.Sort(keys)
		for _, key := range keys {
			g := a.groups[[2]string{string(dim), key}]
			n := float64(g.n)
			r := Row{Dimension: dim, Group: key, N: g.n,
				Mean: g.total / n / 60, Median: g.quantile(0.5) / 60, P90: g.quantile(0.9) / 60, P95: g.quantile(0.95) / 60,
				MeanWorking: g.working / n / 60, Inspected: float64(g.inspected) / n, PreLodged: float64(g.prelodged) / n}
			for s := range r.Stages {
				r.Stages[s] = g.stages[s] / n / 60
			}
			for _, w := range g.within {
				r.Within = append(r.Within, float64(w)/n)
			}
			out = append(out, r)
		}
	}
	return out
}
