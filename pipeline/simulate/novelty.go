package simulate

import (
	"cmp"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/decl"
)

// Novelty exploration (docs/simulate.md, "novelty"): the exploring share
// draws rows whose keys (importer, declarant, HS6 code, origin x HS6 flow)
// the strategy has inspected few times lately. Each key value's count of
// inspections is weighted by recency, halving every noveltyHalfLife days,
// so a trader or flow not looked at for months is new again; a row's
// novelty is the mean over its keys of 1 / (1 + count). The draw weight is
// novelty times 1 + log1p(expected revenue) (novelty) or novelty alone
// (noveltyflat), and the part draws its rows without replacement with
// probabilities proportional to the weights (Efraimidis and Spirakis'
// keys u^(1/w)).
const (
	Novelty     = "novelty"     // novelty of the keys times the model's expected revenue factor
	NoveltyFlat = "noveltyflat" // novelty of the keys alone
)

// noveltyHalfLife is the age in days at which an inspection counts half.
const noveltyHalfLife = 56.0

// noveltyCols are the key columns; the HS6 code and the origin x HS6 flow
// are derived from decl.HSCode and decl.OriginCountry.
const noveltyKeys = 4

// keys is one row's key values ("" for a missing one): importer,
// declarant, HS6, origin x HS6.
type keys [noveltyKeys]string

// hs6 is the key of an HS code: its first 6 characters (as riskyScores).
func hs6(s string) string {
	if len(s) > 6 {
		return s[:6]
	}
	return s
}

// keysOf reads the key values of every row of batches, in order.
func keysOf(batches []arrow.RecordBatch) ([]keys, error) {
	var out []keys
	for _, b := range batches {
		var t [4]decl.Text
		for c, name := range []string{decl.ImporterID, decl.DeclarantID, decl.HSCode, decl.OriginCountry} {
			var err error
			if t[c], _, err = decl.Strings(b, name); err != nil {
				return nil, err
			}
		}
		for i := range int(b.NumRows()) {
			var k keys
			k[0], _ = t[0].Value(i)
			k[1], _ = t[1].Value(i)
			hs, okHS := t[2].Value(i)
			if okHS && hs != "" {
				k[2] = hs6(hs)
				if o, ok := t[3].Value(i); ok && o != "" {
					k[3] = o + "|" + k[2]
				}
			}
			out = append(out, k)
		}
	}
	return out, nil
}

// novelty holds, per key and value, the recency-weighted count of the
// inspections: the sum of 2^(day/halfLife) over them (day relative to the
// replay's start), so that the count at day t is that sum times
// 2^(-t/halfLife). halfLife 0 counts every inspection as 1.
type novelty struct {
	counts   [noveltyKeys]map[string]float64
	halfLife float64
}

func newNovelty(halfLife float64) *novelty {
	n := &novelty{halfLife: halfLife}
	for i := range n.counts {
		n.counts[i] = map[string]float64{}
	}
	return n
}

func (n *novelty) grow(day float64) float64 {
	if n.halfLife == 0 {
		return 1
	}
	return math.Exp2(day / n.halfLife)
}

// add counts an inspection of a row with keys k on day.
func (n *novelty) add(k keys, day float64) {
	g := n.grow(day)
	for c, v := range k {
		if v != "" {
			n.counts[c][v] += g
		}
	}
}

// of is the novelty of a row with keys k on day: the mean over its present
// keys of 1 / (1 + the count of that value's inspections at day); 1 when
// none is present.
func (n *novelty) of(k keys, day float64) float64 {
	g := n.grow(day)
	sum, m := 0.0, 0
	for c, v := range k {
		if v != "" {
			sum += 1 / (1 + n.counts[c][v]/g)
			m++
		}
	}
	if m == 0 {
		return 1
	}
	return sum / float64(m)
}

// noveltyWeights is the draw weight of each row of a period: its novelty,
// times 1 + log1p(expected revenue) unless flat.
func (n *novelty) weights(ks []keys, day float64, expRev []float64, flat bool) []float64 {
	w := make([]float64, len(ks))
	for i, k := range ks {
		w[i] = n.of(k, day)
		if !flat {
			w[i] *= 1 + math.Log1p(max(0, expRev[i]))
		}
	}
	return w
}

// weightedPick draws k free rows without replacement, each draw with
// probability proportional to w among the rows left: the k largest keys
// log(u)/w (Efraimidis and Spirakis, "Weighted random sampling with a
// reservoir", IPL 2006), u uniform in (0, 1) drawn in row order. Rows of
// weight 0 come last, in row order.
func weightedPick(pd *period, w []float64, k int) []int {
	c := pd.free()
	key := make([]float64, pd.n)
	for _, r := range c {
		u := 1 - pd.rng.Float64() // (0, 1]
		if w[r] > 0 {
			key[r] = math.Log(u) / w[r]
		} else {
			key[r] = math.Inf(-1)
		}
	}
	slices.SortStableFunc(c, func(a, b int) int { return cmp.Compare(key[b], key[a]) })
	return c[:min(k, len(c))]
}
