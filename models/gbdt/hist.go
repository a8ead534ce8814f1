package gbdt

// gradPair is one row's gradient and hessian, in float32 as XGBoost keeps them.
type gradPair struct{ g, h float32 }

// gradSum is a sum of gradient pairs, in float64 as XGBoost's histograms
// (GradientPairPrecise) keep them.
type gradSum struct{ g, h float64 }

func (a gradSum) add(b gradSum) gradSum { return gradSum{a.g + b.g, a.h + b.h} }
func (a gradSum) sub(b gradSum) gradSum { return gradSum{a.g - b.g, a.h - b.h} }

// slotsPerFeature is the histogram width of every feature: one slot per
// possible uint8 code, so indexing a feature's histogram by a code needs no
// bounds check.
const slotsPerFeature = 256

// featureHist is one feature's histogram in one node.
type featureHist = [slotsPerFeature]gradSum

// histogram is a node's histograms for all features, feature f at
// [f*slotsPerFeature, (f+1)*slotsPerFeature).
type histogram []gradSum

func (h histogram) feature(f int) *featureHist {
	return (*featureHist)(h[f*slotsPerFeature : (f+1)*slotsPerFeature])
}

// buildFeature sums the gradient pairs of a node's rows into h, slot by bin
// code. og holds the pairs in the order of rows (gathered once per node, so
// the loop reads them sequentially); rows == nil means the node holds every
// row in order and og is indexed by row. Slots up to used are cleared first.
func buildFeature(h *featureHist, used int, codes []uint8, rows []uint32, og []gradPair) {
	clear(h[:used])
	if rows == nil {
		og = og[:len(codes)]
		for r, c := range codes {
			p := og[r]
			s := &h[c]
			s.g += float64(p.g)
			s.h += float64(p.h)
		}
		return
	}
	og = og[:len(rows)]
	for i, r := range rows {
		p := og[i]
		s := &h[codes[r]]
		s.g += float64(p.g)
		s.h += float64(p.h)
	}
}

// subtractFeature turns parent into parent - child over the first used slots:
// the histogram of child's sibling.
func subtractFeature(parent, child *featureHist, used int) {
	for i := range used {
		parent[i].g -= child[i].g
		parent[i].h -= child[i].h
	}
}

// histPool recycles node histograms within and across trees.
type histPool struct {
	size int
	free []histogram
}

func (p *histPool) get() histogram {
	if n := len(p.free); n > 0 {
		h := p.free[n-1]
		p.free = p.free[:n-1]
		return h
	}
	return make(histogram, p.size)
}

func (p *histPool) put(h histogram) {
	if h != nil {
		p.free = append(p.free, h)
	}
}
