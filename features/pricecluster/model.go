package pricecluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sync"

	"risklane/stats"
)

// Level is the product level a group is defined at.
type Level int8

// The group levels, from the most to the least specific.
const (
	LevelHS6 Level = iota // one HS6 subheading
	LevelHS4              // one HS4 heading: the fallback for small or unseen HS6 groups
	LevelAll              // every product: the fallback for small or unseen HS4 groups
)

var levelNames = [...]string{"hs6", "hs4", "all"}

func (l Level) String() string {
	if l >= 0 && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", int8(l))
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) error {
	for i, n := range levelNames {
		if string(b) == n {
			*l = Level(i)
			return nil
		}
	}
	return fmt.Errorf("unknown group level %q; want hs6, hs4 or all", b)
}

// Basis says what a unit value is per: unit values per kg and per unit of
// quantity are never compared, so every group is one basis.
type Basis int8

// The bases.
const (
	PerKg   Basis = 0  // value per kg of net mass
	PerUnit Basis = 1  // value per unit of quantity: the mass is zero or missing
	NoBasis Basis = -1 // no unit value: the value, or both mass and quantity, are not positive
)

func (b Basis) String() string {
	switch b {
	case PerKg:
		return "kg"
	case PerUnit:
		return "unit"
	}
	return "none"
}

// MarshalText writes "kg" or "unit".
func (b Basis) MarshalText() ([]byte, error) {
	if b != PerKg && b != PerUnit {
		return nil, fmt.Errorf("basis %d cannot be saved", int8(b))
	}
	return []byte(b.String()), nil
}

// UnmarshalText reads "kg" or "unit".
func (b *Basis) UnmarshalText(t []byte) error {
	switch string(t) {
	case "kg":
		*b = PerKg
	case "unit":
		*b = PerUnit
	default:
		return fmt.Errorf("unknown unit-value basis %q; want kg or unit", t)
	}
	return nil
}

// Group is the fitted price structure of one product group. All prices are
// natural logs of unit values.
type Group struct {
	Level Level `json:"level"`
	Basis Basis `json:"basis"`
	// Code is the HS6 number (LevelHS6), the HS4 number (LevelHS4) or 0.
	Code int32 `json:"code"`
	// N is the training rows of the group; FitRows of them were clustered
	// (fewer when the group exceeded Config.MaxFitRows).
	N       int `json:"n"`
	FitRows int `json:"fit_rows"`
	// Quantiles of log unit value at 0%, 5%, ..., 100% of the fitted rows;
	// Quantiles[10] is the median.
	Quantiles []float64 `json:"log_uv_quantiles"`
	// K clusters, ranked by centre: rank 0 is the cheapest. Centres are log
	// unit values; Sizes count fitted rows; Spreads are the standard
	// deviations of log unit value within each cluster.
	K          int       `json:"k"`
	Silhouette float64   `json:"silhouette"`
	Centres    []float64 `json:"centres"`
	Sizes      []int     `json:"sizes"`
	Spreads    []float64 `json:"spreads"`
	// The clusters of rank below NumLow are low: their centre lies at least
	// LowGap below the median (see Config.LowMinGap). The highest-ranked
	// cluster is never low.
	NumLow int     `json:"num_low"`
	LowGap float64 `json:"low_gap"`
	// With Config.ValueMass: the standardisation of the three dimensions and
	// the K standardised centres, row-major in rank order.
	Mean   []float64 `json:"mean,omitempty"`
	Scale  []float64 `json:"scale,omitempty"`
	Points []float64 `json:"points,omitempty"`
}

// Median returns the group's median log unit value.
func (g *Group) Median() float64 { return g.Quantiles[numQuantiles/2] }

// Quantile returns the log unit value at p percent for p a multiple of 5.
func (g *Group) Quantile(p int) float64 { return g.Quantiles[p/5] }

// LowThreshold returns the log unit value below which a declaration falls in
// a low cluster (in one dimension exactly; with ValueMass it is the same
// midpoint between centres, an approximation), and false when the group has
// no low cluster.
func (g *Group) LowThreshold() (float64, bool) {
	if g.NumLow == 0 {
		return 0, false
	}
	return (g.Centres[g.NumLow-1] + g.Centres[g.NumLow]) / 2, true
}

// Name is the group's code as analysts write it: "870321", "8703" or "all".
func (g *Group) Name() string {
	switch g.Level {
	case LevelHS6:
		return fmt.Sprintf("%06d", g.Code)
	case LevelHS4:
		return fmt.Sprintf("%04d", g.Code)
	}
	return "all"
}

// LowRows is the number of fitted rows in low clusters.
func (g *Group) LowRows() int {
	s := 0
	for _, v := range g.Sizes[:g.NumLow] {
		s += v
	}
	return s
}

// setLow applies the low-cluster rule: a cluster is low when its centre is at
// least gap = max(LowMinGap, LowSpreads*sigma) below the median, with sigma
// the group's robust standard deviation IQR/1.349 (exact for a normal
// distribution and hardly moved by the low rows themselves). Centres are
// ascending, so the low clusters are the lowest ranks.
func (g *Group) setLow(cfg Config) {
	sigma := (g.Quantile(75) - g.Quantile(25)) / 1.349
	g.LowGap = max(cfg.LowMinGap, cfg.LowSpreads*sigma)
	g.NumLow = 0
	for g.NumLow < g.K-1 && g.Centres[g.NumLow] <= g.Median()-g.LowGap {
		g.NumLow++
	}
}

const modelVersion = 1

// Model is a fitted clustering: what Fit learns from training declarations
// and Apply uses on new ones. It is saved as JSON (WriteJSON, ReadModel).
type Model struct {
	Version int     `json:"version"`
	Config  Config  `json:"config"`
	Dims    int     `json:"dims"` // 1, or 3 with Config.ValueMass
	Groups  []Group `json:"groups"`

	once sync.Once
	idx  index
}

// index finds a row's group without maps: per basis, a table over all
// 1,000,000 HS6 codes and one over all 10,000 HS4 codes.
type index struct {
	hs6 [2][]int32
	hs4 [2][]int32
	all [2]int32
}

func (m *Model) buildIndex() {
	m.once.Do(func() {
		for b := range 2 {
			m.idx.hs4[b] = make([]int32, 10_000)
			for i := range m.idx.hs4[b] {
				m.idx.hs4[b][i] = -1
			}
			m.idx.all[b] = -1
		}
		for i, g := range m.Groups {
			b := g.Basis
			switch g.Level {
			case LevelHS6:
				if m.idx.hs6[b] == nil {
					m.idx.hs6[b] = make([]int32, 1_000_000)
					for j := range m.idx.hs6[b] {
						m.idx.hs6[b][j] = -1
					}
				}
				m.idx.hs6[b][g.Code] = int32(i)
			case LevelHS4:
				m.idx.hs4[b][g.Code] = int32(i)
			case LevelAll:
				m.idx.all[b] = int32(i)
			}
		}
	})
}

// lookup returns the group of a row: its HS6 group, else its HS4 group, else
// the global group of its basis; -1 when there is none.
func (m *Model) lookup(b Basis, hs6 int32) int32 {
	if hs6 >= 0 && hs6 <= 999999 {
		if t := m.idx.hs6[b]; t != nil {
			if g := t[hs6]; g >= 0 {
				return g
			}
		}
		if g := m.idx.hs4[b][hs6/100]; g >= 0 {
			return g
		}
	}
	return m.idx.all[b]
}

// Assignment holds, per declaration, where it falls in its group. Apply
// fills it; its slices are reused across batches.
type Assignment struct {
	Group   []int32   // index into Model.Groups; -1 when the row has no unit value or no group
	LogUV   []float64 // natural log of the unit value; NaN when there is none
	Rank    []int8    // cluster rank within the group, 0 = cheapest; -1 when unknown
	Low     []int8    // 1 in a low cluster, 0 not, -1 unknown
	LogDist []float64 // LogUV minus the group's median: negative is cheaper; NaN when unknown
	Pctl    []float64 // unit-value percentile within the group, 0 to 100; NaN when unknown
}

// FeatureNames names the model features that Features returns, in order.
var FeatureNames = []string{"uv_cluster_rank", "uv_low_cluster", "uv_log_dist_median", "uv_percentile"}

// Features returns the assignment as float64 feature columns in FeatureNames
// order, unknown values as NaN (the missing value of the tree models),
// reusing dst's slices.
func (a *Assignment) Features(dst [][]float64) [][]float64 {
	n := len(a.Group)
	dst = grow(dst, len(FeatureNames))
	for i := range dst {
		dst[i] = grow(dst[i], n)
	}
	for i := range n {
		if a.Rank[i] < 0 {
			dst[0][i], dst[1][i] = math.NaN(), math.NaN()
		} else {
			dst[0][i], dst[1][i] = float64(a.Rank[i]), float64(a.Low[i])
		}
	}
	copy(dst[2], a.LogDist)
	copy(dst[3], a.Pctl)
	return dst
}

func (a *Assignment) resize(n int) {
	a.Group = grow(a.Group, n)
	a.LogUV = grow(a.LogUV, n)
	a.Rank = grow(a.Rank, n)
	a.Low = grow(a.Low, n)
	a.LogDist = grow(a.LogDist, n)
	a.Pctl = grow(a.Pctl, n)
}

// Apply assigns every declaration to the nearest cluster centre of its group
// (HS6, else HS4, else global, for its basis) and writes the results into
// out, resized to the rows given. The columns are as for Fit. Apply is safe
// for concurrent use.
func (m *Model) Apply(hs6 []int32, value, mass, qty []float64, out *Assignment) error {
	if err := checkColumns(hs6, value, mass, qty); err != nil {
		return err
	}
	m.buildIndex()
	out.resize(len(hs6))
	var pt [3]float64
	for i := range hs6 {
		lu, b := logUnitValue(value[i], at(mass, i), at(qty, i))
		g := int32(-1)
		if b != NoBasis {
			g = m.lookup(b, hs6[i])
		}
		out.Group[i], out.LogUV[i] = g, lu
		if g < 0 {
			out.Rank[i], out.Low[i] = -1, -1
			out.LogDist[i], out.Pctl[i] = math.NaN(), math.NaN()
			continue
		}
		grp := &m.Groups[g]
		var r int
		if m.Dims == 1 {
			for r < grp.K-1 && lu > (grp.Centres[r]+grp.Centres[r+1])/2 {
				r++
			}
		} else {
			point(pt[:], value[i], at(mass, i), at(qty, i))
			for d := range pt {
				pt[d] = (pt[d] - grp.Mean[d]) / grp.Scale[d]
			}
			bd := math.Inf(1)
			for c := range grp.K {
				if d := sqDist(pt[:], grp.Points[c*3:(c+1)*3]); d < bd {
					r, bd = c, d
				}
			}
		}
		out.Rank[i] = int8(r)
		out.Low[i] = 0
		if r < grp.NumLow {
			out.Low[i] = 1
		}
		out.LogDist[i] = lu - grp.Median()
		out.Pctl[i] = stats.Percentile(grp.Quantiles, lu)
	}
	return nil
}

// WriteJSON saves the model.
func (m *Model) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("saving price clusters: %w", err)
	}
	return nil
}

// ReadModel loads a model saved by WriteJSON and checks it, so that Apply
// cannot fail on it; name (a file name) goes into error messages.
func ReadModel(r io.Reader, name string) (*Model, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	m := new(Model)
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("%s: not a price-cluster model: %w", name, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// maxMagnitude bounds every number of a loaded model. Log unit values of
// float64 prices lie within about +-1500; the bound keeps Apply's arithmetic
// (differences, interpolation) far from overflow whatever the file says.
const maxMagnitude = 1e6

func sane(xs ...float64) bool {
	for _, x := range xs {
		if !(math.Abs(x) <= maxMagnitude) {
			return false
		}
	}
	return true
}

func (m *Model) check() error {
	if m.Version != modelVersion {
		return fmt.Errorf("price-cluster model version %d; this risklane reads version %d", m.Version, modelVersion)
	}
	if m.Dims != 1 && m.Dims != 3 || (m.Dims == 3) != m.Config.ValueMass {
		return fmt.Errorf("price-cluster model has %d dimensions with value_mass %v; want 1 without or 3 with", m.Dims, m.Config.ValueMass)
	}
	type key struct {
		l Level
		b Basis
		c int32
	}
	seen := make(map[key]bool, len(m.Groups))
	for i := range m.Groups {
		g := &m.Groups[i]
		bad := func(format string, a ...any) error {
			return fmt.Errorf("group %d (%s %s per %s): %s", i, g.Level, g.Name(), g.Basis, fmt.Sprintf(format, a...))
		}
		limit := int32(0)
		switch g.Level {
		case LevelHS6:
			limit = 999999
		case LevelHS4:
			limit = 9999
		}
		switch {
		case g.Level < LevelHS6 || g.Level > LevelAll:
			return bad("unknown level")
		case g.Basis != PerKg && g.Basis != PerUnit:
			return bad("unknown basis")
		case g.Code < 0 || g.Code > limit:
			return bad("code %d out of range", g.Code)
		case seen[key{g.Level, g.Basis, g.Code}]:
			return bad("appears twice")
		case len(g.Quantiles) != numQuantiles:
			return bad("%d quantiles, want %d", len(g.Quantiles), numQuantiles)
		case g.K < 1 || g.K > maxK || len(g.Centres) != g.K || len(g.Sizes) != g.K || len(g.Spreads) != g.K:
			return bad("k = %d with %d centres, %d sizes, %d spreads", g.K, len(g.Centres), len(g.Sizes), len(g.Spreads))
		case g.NumLow < 0 || g.NumLow > g.K-1:
			return bad("num_low %d with k = %d", g.NumLow, g.K)
		case !sane(g.Quantiles...) || !sane(g.Centres...) || !sane(g.Spreads...) || !sane(g.Silhouette, g.LowGap):
			return bad("a number is not finite or beyond +-%g", maxMagnitude)
		}
		seen[key{g.Level, g.Basis, g.Code}] = true
		for j := 1; j < numQuantiles; j++ {
			if g.Quantiles[j] < g.Quantiles[j-1] {
				return bad("quantiles are not ascending")
			}
		}
		for j := 1; j < g.K; j++ {
			if g.Centres[j] < g.Centres[j-1] {
				return bad("centres are not ascending")
			}
		}
		if m.Dims == 3 {
			if len(g.Mean) != 3 || len(g.Scale) != 3 || len(g.Points) != 3*g.K {
				return bad("%d means, %d scales and %d centre values for 3 dimensions and k = %d", len(g.Mean), len(g.Scale), len(g.Points), g.K)
			}
			if !sane(g.Mean...) || !sane(g.Points...) {
				return bad("a number is not finite or beyond +-%g", maxMagnitude)
			}
			for _, s := range g.Scale {
				if !(s >= minScale && s <= maxMagnitude) {
					return bad("scale %v is outside [%g, %g]", s, minScale, maxMagnitude)
				}
			}
		}
	}
	return nil
}
