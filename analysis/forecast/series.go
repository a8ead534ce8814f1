package forecast

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
)

// Measure is what a series adds up per period.
type Measure string

// The measures: duty (total_taxes), customs value (CIF, else FOB), item
// count (rows) and mass (net, else gross).
const (
	Duty  Measure = "duty"
	Value Measure = "value"
	Count Measure = "count"
	Mass  Measure = "mass"
)

// Key is what series are grouped by: one of the keys below, or several
// joined by commas ("origin,hs4": one series per origin and heading, named
// "CHN/0203").
type Key string

// The grouping keys.
const (
	NoKey  Key = "none"
	HS2    Key = "hs2"
	HS4    Key = "hs4"
	HS6    Key = "hs6"
	Origin Key = "origin"
	Office Key = "office"
)

// Period is the length of a series' step.
type Period string

// Months (season 12), weeks starting on Monday (season 52, which ETS does
// not model: R's ets ignores seasons longer than 24) and years (no season:
// annual trade statistics).
const (
	Month Period = "month"
	Week  Period = "week"
	Year  Period = "year"
)

// Season returns the seasonal period of p.
func (p Period) Season() int {
	switch p {
	case Week:
		return 52
	case Year:
		return 1
	}
	return 12
}

// index returns the period number of a date (days since 1970-01-01).
func (p Period) index(day int32) int32 {
	if p == Week {
		// 1970-01-01 was a Thursday; weeks start on Monday 1969-12-29.
		return int32(math.Floor(float64(day+3) / 7))
	}
	t := time.Unix(int64(day)*86400, 0).UTC()
	if p == Year {
		return int32(t.Year())
	}
	return int32(t.Year())*12 + int32(t.Month()) - 1
}

// Start returns the first day of period number i (days since 1970-01-01).
func (p Period) Start(i int32) int32 {
	if p == Week {
		return i*7 - 3
	}
	if p == Year {
		return int32(time.Date(int(i), 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	}
	t := time.Date(int(i/12), time.Month(i%12+1), 1, 0, 0, 0, 0, time.UTC)
	return int32(t.Unix() / 86400)
}

// Label names period number i: "2024-03" or "2024-W05" (ISO week).
func (p Period) Label(i int32) string {
	t := time.Unix(int64(p.Start(i))*86400, 0).UTC()
	if p == Week {
		y, w := t.ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w)
	}
	if p == Year {
		return t.Format("2006")
	}
	return t.Format("2006-01")
}

// Series is one group's history: Values[i] is the total of period First+i.
type Series struct {
	Group  string
	First  int32
	Values []float64
}

// Aggregator sums declarations into per-group series.
type Aggregator struct {
	measure Measure
	keys    []Key // the parts of the key; none for NoKey
	period  Period
	groups  map[string]map[int32]float64
	lo, hi  int32
	// Rows counts the rows added, Skipped those without a date or without
	// the measure (they add nothing to any series).
	Rows, Skipped int64
}

// NewAggregator checks the choices and returns an empty Aggregator.
func NewAggregator(m Measure, k Key, p Period) (*Aggregator, error) {
	switch m {
	case Duty, Value, Count, Mass:
	default:
		return nil, fmt.Errorf("unknown measure %q: give duty, value, count or mass", m)
	}
	keys, err := k.parts()
	if err != nil {
		return nil, err
	}
	switch p {
	case Month, Week, Year:
	default:
		return nil, fmt.Errorf("unknown period %q: give month, week or year", p)
	}
	return &Aggregator{measure: m, keys: keys, period: p, groups: map[string]map[int32]float64{},
		lo: math.MaxInt32, hi: math.MinInt32}, nil
}

// Add adds the rows of a canonical record batch.
func (a *Aggregator) Add(rec arrow.RecordBatch) error {
	dates, ok, err := decl.Get[*array.Date32](rec, decl.Date)
	if err != nil {
		return fmt.Errorf("forecast: %w", err)
	}
	if !ok {
		return fmt.Errorf("forecast: the declarations need a %s column of dates", decl.Date)
	}
	var firstName, secondName string
	switch a.measure {
	case Duty:
		firstName = decl.TotalTaxes
	case Value:
		firstName, secondName = decl.CIFValue, decl.FOBValue
	case Mass:
		firstName, secondName = decl.NetMassKg, decl.GrossWeightKg
	}
	var first, second *array.Float64
	if firstName != "" {
		if first, err = decl.Float64s(rec, firstName); err != nil {
			return fmt.Errorf("forecast: %w", err)
		}
	}
	if secondName != "" {
		if second, err = decl.Float64s(rec, secondName); err != nil {
			return fmt.Errorf("forecast: %w", err)
		}
	}
	if a.measure == Duty && first == nil {
		return fmt.Errorf("forecast: measure duty needs column %s, which the profile does not map", decl.TotalTaxes)
	}
	if a.measure != Count && first == nil && second == nil {
		return fmt.Errorf("forecast: measure %s has no column in the declarations", a.measure)
	}
	keys := make([]decl.Text, len(a.keys))
	for j, k := range a.keys {
		name := k.column()
		var found bool
		if keys[j], found, err = decl.Strings(rec, name); err != nil {
			return fmt.Errorf("forecast: key %s: %w", k, err)
		}
		if !found {
			return fmt.Errorf("forecast: key %s needs its column %s in the declarations", k, name)
		}
	}
	g := []byte("all")
	n := int(rec.NumRows())
	for i := 0; i < n; i++ {
		a.Rows++
		if dates.IsNull(i) {
			a.Skipped++
			continue
		}
		v := 1.0
		if a.measure != Count {
			v = decl.FloatAt(first, i)
			switch a.measure {
			case Value:
				v = decl.CustomsValue(v, decl.FloatAt(second, i))
			case Mass:
				v = decl.Mass(v, decl.FloatAt(second, i))
			}
			if math.IsNaN(v) {
				a.Skipped++
				continue
			}
		}
		if len(keys) > 0 {
			g = g[:0]
			for j, k := range a.keys {
				if j > 0 {
					g = append(g, '/')
				}
				s, ok := keys[j].Value(i)
				switch {
				case !ok:
					s = "unknown"
				case k == HS2:
					s = s[:min(2, len(s))]
				case k == HS4:
					s = s[:min(4, len(s))]
				case k == HS6:
					s = s[:min(6, len(s))]
				}
				g = append(g, s...)
			}
		}
		a.add(a.group(g), int32(dates.Value(i)), v)
	}
	return nil
}

// parts splits a key into its keys (none for NoKey), checking each.
func (k Key) parts() ([]Key, error) {
	if k == NoKey {
		return nil, nil
	}
	var keys []Key
	for _, s := range strings.Split(string(k), ",") {
		switch p := Key(strings.TrimSpace(s)); p {
		case HS2, HS4, HS6, Origin, Office:
			if slices.Contains(keys, p) {
				return nil, fmt.Errorf("key %q names %s twice", k, p)
			}
			keys = append(keys, p)
		default:
			return nil, fmt.Errorf("unknown key %q: give none, hs2, hs4, hs6, origin or office, or several joined by commas (origin,hs4)", k)
		}
	}
	return keys, nil
}

// column is the declaration column a key reads.
func (k Key) column() string {
	switch k {
	case Origin:
		return decl.OriginCountry
	case Office:
		return decl.OfficeID
	}
	return decl.HSCode
}

// group returns the periods of group g, creating it when new; looking g up
// does not copy it, so a row costs no allocation.
func (a *Aggregator) group(g []byte) map[int32]float64 {
	m := a.groups[string(g)]
	if m == nil {
		m = map[int32]float64{}
		a.groups[string(g)] = m
	}
	return m
}

// add adds v to the period of day in the group's periods m.
func (a *Aggregator) add(m map[int32]float64, day int32, v float64) {
	p := a.period.index(day)
	m[p] += v
	a.lo, a.hi = min(a.lo, p), max(a.hi, p)
}

// AddAt adds v to group g's period of day (days since 1970-01-01): for
// series that come from elsewhere than declarations (trade statistics).
func (a *Aggregator) AddAt(g string, day int32, v float64) {
	a.add(a.group([]byte(g)), day, v)
}

// Series returns one series per group, sorted by group, each from its first
// period with data to the last period of all the data (so that every
// forecast starts at the same period); periods without declarations are 0.
func (a *Aggregator) Series() []Series {
	names := make([]string, 0, len(a.groups))
	for g := range a.groups {
		names = append(names, g)
	}
	slices.Sort(names)
	out := make([]Series, 0, len(names))
	for _, g := range names {
		m := a.groups[g]
		first := a.hi
		for p := range m {
			first = min(first, p)
		}
		v := make([]float64, a.hi-first+1)
		for p, x := range m {
			v[p-first] = x
		}
		out = append(out, Series{Group: g, First: first, Values: v})
	}
	return out
}
