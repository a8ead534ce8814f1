package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"

	"risklane/features/mirror"
	"risklane/models/metrics"
)

// FraudMap is BACUDA's "virtual fraud map": fraud by country of origin.
type FraudMap struct {
	// BudgetPct is the inspection rate at which Flagged, Caught and
	// CaughtRevenue are counted (the top BudgetPct% of the labelled rows by
	// score, as Precision@n% counts them).
	BudgetPct float64
	// Countries are sorted by known frauds, then declarations, then code.
	Countries []CountryStat
	// Unplaced names the countries that are not on the map (too small for
	// the 1:110m outlines, or codes the country table does not know); they
	// are still in Countries.
	Unplaced []string
}

// CountryStat is the fraud seen on goods from one country of origin.
type CountryStat struct {
	// Code is the origin as ISO3 when the country table knows it, otherwise
	// as the declarations write it; Name its English name; MapName the name
	// of its outline on the map ("" when it has none).
	Code, Name, MapName string
	// Declarations counts every row; Labelled the inspected ones, Illicit
	// the frauds among them. FraudRate is Illicit/Labelled in percent (NaN
	// with nothing labelled); Revenue the revenue the inspections raised.
	Declarations, Labelled, Illicit int
	FraudRate                       float64
	Revenue                         float64
	// Flagged counts the country's rows in the model's top BudgetPct%;
	// Caught the frauds among them and CaughtRevenue their revenue.
	Flagged, Caught int
	CaughtRevenue   float64
}

// atlasNames maps ISO 3166 numeric codes to the names of the map's
// outlines, decoded once from the embedded world-atlas.
var atlasNames = sync.OnceValues(func() (map[int]string, error) {
	fc, err := worldMap()
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	for _, f := range fc.Features {
		n, err := strconv.Atoi(f.ID)
		if err != nil {
			continue // areas without an ISO code (N. Cyprus, Somaliland, Kosovo)
		}
		var p struct{ Name string }
		if err := json.Unmarshal(f.Properties, &p); err != nil {
			return nil, fmt.Errorf("world map: country %s: %w", f.ID, err)
		}
		names[n] = p.Name
	}
	return names, nil
})

// worldMap decodes the embedded outlines once, without Antarctica (no
// goods come from it, and it would take a fifth of the map's height), with
// rings that cross the antimeridian unwrapped.
var worldMap = sync.OnceValues(func() (*FeatureCollection, error) {
	fc, err := DecodeTopoJSON(worldAtlas, "countries")
	if err != nil {
		return nil, err
	}
	fc.Features = slices.DeleteFunc(fc.Features, func(f Feature) bool { return f.ID == antarctica })
	for _, f := range fc.Features {
		for _, p := range f.Polygons {
			for _, r := range p {
				unwrap(r)
			}
		}
	}
	return fc, nil
})

const antarctica = "010"

// unwrap makes a ring that crosses the antimeridian continuous: a step of
// more than 180 degrees of longitude is the same step the short way round,
// so the rest of the ring moves by 360 degrees. Without it, Russia's and
// Fiji's outlines, which jump from +180 to -180, draw lines across the whole
// map.
func unwrap(ring []Point) {
	offset := 0.0
	for i := 1; i < len(ring); i++ {
		step := ring[i][0] + offset - ring[i-1][0]
		switch {
		case step > 180:
			offset -= 360
		case step < -180:
			offset += 360
		}
		ring[i][0] += offset
	}
}

// NewFraudMap counts declarations, labels and revenue by origin country.
// Labels are metrics label values; revenue may be nil. The rows flagged are
// the top max(1, round(N*budgetPct/100)) labelled rows by score, highest
// first, ties in input order, NaN last: the rows Precision@budgetPct%
// counts, so that the countries' CaughtRevenue adds up to Revenue@n% of the
// total.
func NewFraudMap(origin []string, labels []int8, revenue, scores []float64, budgetPct float64) (*FraudMap, error) {
	n := len(origin)
	if len(labels) != n || len(scores) != n || (revenue != nil && len(revenue) != n) {
		return nil, fmt.Errorf("report: fraud map columns differ in length (%d origins, %d labels, %d scores, %d revenues)",
			n, len(labels), len(scores), len(revenue))
	}
	if !(budgetPct > 0 && budgetPct <= 100) {
		return nil, fmt.Errorf("report: inspection rate %v%% is outside (0, 100]", budgetPct)
	}
	names, err := atlasNames()
	if err != nil {
		return nil, err
	}
	rev := func(i int) float64 {
		if revenue == nil || math.IsNaN(revenue[i]) {
			return 0
		}
		return revenue[i]
	}
	idx := map[string]int{}
	fm := &FraudMap{BudgetPct: budgetPct}
	country := make([]int32, n)
	var labelled []int32
	for i, o := range origin {
		code := mirror.Country(o)
		c, ok := idx[code]
		if !ok {
			c = len(fm.Countries)
			idx[code] = c
			cs := CountryStat{Code: code, Name: code}
			if code == "" {
				cs.Name = "(no origin declared)"
			}
			if num, name, ok := mirror.CountryNumeric(code); ok {
				cs.Name = name
				cs.MapName = names[num]
			}
			fm.Countries = append(fm.Countries, cs)
		}
		country[i] = int32(c)
		cs := &fm.Countries[c]
		cs.Declarations++
		if labels[i] == metrics.Unknown {
			continue
		}
		labelled = append(labelled, int32(i))
		cs.Labelled++
		if labels[i] == metrics.Illicit {
			cs.Illicit++
			cs.Revenue += rev(i)
		}
	}
	key := func(i int32) float64 {
		if math.IsNaN(scores[i]) {
			return math.Inf(-1)
		}
		return scores[i]
	}
	slices.SortStableFunc(labelled, func(a, b int32) int { return cmp.Compare(key(b), key(a)) })
	if len(labelled) > 0 {
		k := min(max(int(math.Round(float64(len(labelled))*budgetPct/100)), 1), len(labelled))
		for _, i := range labelled[:k] {
			cs := &fm.Countries[country[i]]
			cs.Flagged++
			if labels[i] == metrics.Illicit {
				cs.Caught++
				cs.CaughtRevenue += rev(int(i))
			}
		}
	}
	for i := range fm.Countries {
		cs := &fm.Countries[i]
		cs.FraudRate = math.NaN()
		if cs.Labelled > 0 {
			cs.FraudRate = 100 * float64(cs.Illicit) / float64(cs.Labelled)
		}
		if cs.MapName == "" {
			fm.Unplaced = append(fm.Unplaced, cs.Name)
		}
	}
	slices.SortFunc(fm.Countries, func(a, b CountryStat) int {
		if c := cmp.Compare(b.Illicit, a.Illicit); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Declarations, a.Declarations); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	slices.Sort(fm.Unplaced)
	return fm, nil
}
