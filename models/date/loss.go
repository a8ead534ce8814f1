package date

import (
	"math"
	"math/rand/v2"
	"sync"
)

// Batch is a set of rows in the network's terms: Leaves[i*Trees+t] the
// leaf-embedding row of row i's leaf in tree t, Imp and Item the importer's
// and HS code's embedding rows (0 = unseen), Y the label (0 or 1) and Rev
// the revenue target (log1p of the revenue over its training maximum; read
// only where Y is 1, unless the revenue head trains on every row); X[i*RevIn+j] is row i's revenue input j. W, when
// not empty, weighs row i's cross-entropy by W[i] (Config.RevWeight); empty,
// every row weighs 1.
type Batch struct {
	Leaves    []int32
	Imp, Item []int32
	X         []float32
	Y, Rev    []float32
	// Margin, when not nil, is each row's tree margin, in place of the sum
	// of its leaves' values (Config.MarginFolds: out-of-fold margins).
	Margin []float32
	W      []float32 `json:",omitempty"`
	// Base, when not empty, is each row's revenue base (Config.RevBase:
	// log1p of the row's duty or value), which the revenue target is
	// relative to.
	Base []float32 `json:",omitempty"`
	// revenue, on training batches, is each row's revenue (NaN where
	// unknown), from which setRevTargets builds Rev.
	revenue []float64
}

// revInputs returns row i's r revenue inputs of b in the network's
// precision, in dst (grown as needed), or nil when r is 0.
func revInputs[F Float](b *Batch, i, r int, dst []F) []F {
	if r == 0 {
		return nil
	}
	dst = dst[:0]
	for _, x := range b.X[i*r : (i+1)*r] {
		dst = append(dst, F(x))
	}
	return dst
}

// Rows is the number of rows of b.
func (b *Batch) Rows() int { return len(b.Imp) }

// chunks is the fixed number of pieces a mini-batch is cut into for the
// gradient: each piece's gradient is summed in its own vector and the pieces
// are added in order, so the result does not depend on the thread count.
const chunks = 4

// trainer computes a network's loss and gradient over mini-batches on
// several goroutines.
type trainer[F Float] struct {
	n     *net[F]
	alpha F
	// smooth is the label smoothing (Config.LabelSmooth): the classifier's
	// target is y (1 - smooth) + smooth / 2.
	smooth F
	// revAll trains the revenue head on every row with a known target
	// (Config.RevAllRows), not on the illicit rows only.
	revAll  bool
	threads int
	works   [chunks]*work[F]
	xs      [chunks][]F
	grads   [chunks][]F
	grad    []F
}

func newTrainer[F Float](n *net[F], alpha float64, threads int) *trainer[F] {
	tr := &trainer[F]{n: n, alpha: F(alpha), threads: max(1, min(threads, chunks)), grad: make([]F, len(n.p))}
	for c := range chunks {
		tr.works[c] = newWork[F](n.a)
		tr.grads[c] = make([]F, len(n.p))
	}
	return tr
}

// lossGrad computes the mean loss over the rows idx of b, binary
// cross-entropy of the classifier (each row's weighed by b.W[i] when b has
// weights, against the smoothed label) plus alpha times the squared error of
// the revenue head on illicit rows (every row with revAll), and leaves its gradient in tr.grad.
func (tr *trainer[F]) lossGrad(b *Batch, idx []int) float64 {
	B := len(idx)
	var losses [chunks]float64
	var wg sync.WaitGroup
	next := make(chan int, chunks)
	for c := range chunks {
		next <- c
	}
	close(next)
	for range tr.threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				lo, hi := c*B/chunks, (c+1)*B/chunks
				losses[c] = tr.chunk(c, b, idx[lo:hi], B)
			}
		}()
	}
	wg.Wait()
	copy(tr.grad, tr.grads[0])
	for c := 1; c < chunks; c++ {
		for i, x := range tr.grads[c] {
			tr.grad[i] += x
		}
	}
	var loss float64
	for _, l := range losses {
		loss += l
	}
	return loss
}

func (tr *trainer[F]) chunk(c int, b *Batch, idx []int, B int) float64 {
	g, w, T := tr.grads[c], tr.works[c], tr.n.a.Trees
	clear(g)
	inv := 1 / F(B)
	var loss float64
	for _, i := range idx {
		leaves := b.Leaves[i*T : (i+1)*T]
		x := revInputs(b, i, tr.n.a.RevIn, tr.xs[c])
		tr.xs[c] = x
		w.marginIn = nil
		if b.Margin != nil {
			w.marginIn = &b.Margin[i]
		}
		z, r := tr.n.forward(w, leaves, b.Imp[i], b.Item[i], x)
		y := F(b.Y[i])
		p := sigmoid(z)
		ys, wi := y, F(1)
		if tr.smooth != 0 {
			ys = y*(1-tr.smooth) + tr.smooth/2
		}
		if len(b.W) > 0 {
			wi = F(b.W[i])
		}
		// binary cross-entropy from the logit: softplus(z) - y z
		loss += float64(wi * (softplus(z) - ys*z))
		var drev F
		if (y > 0 || tr.revAll) && b.Rev[i] == b.Rev[i] { // NaN: revenue unknown
			e := r - F(b.Rev[i])
			loss += float64(tr.alpha * e * e)
			drev = 2 * tr.alpha * e * inv
		}
		tr.n.backward(w, g, leaves, b.Imp[i], b.Item[i], x, wi*(p-ys)*inv, drev)
	}
	return loss / float64(B)
}

func sigmoid[F Float](z F) F { return F(1 / (1 + math.Exp(-float64(z)))) }

func softplus[F Float](z F) F {
	x := float64(z)
	if x > 0 {
		return F(x + math.Log1p(math.Exp(-x)))
	}
	return F(math.Log1p(math.Exp(x)))
}

// Adam is PyTorch's torch.optim.Adam (L2 weight decay added to the
// gradient, not decoupled).
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
}

type adamState[F Float] struct {
	Adam
	m, v []F
	t    int
}

func newAdam[F Float](o Adam, size int) *adamState[F] {
	return &adamState[F]{Adam: o, m: make([]F, size), v: make([]F, size)}
}

// step updates p by gradient g, as PyTorch's Adam does.
func (s *adamState[F]) step(p, g []F) {
	s.t++
	b1, b2 := F(s.Beta1), F(s.Beta2)
	bc1 := 1 - math.Pow(s.Beta1, float64(s.t))
	bc2 := math.Sqrt(1 - math.Pow(s.Beta2, float64(s.t)))
	stepSize := F(s.LR / bc1)
	invBC2, eps, wd := F(1/bc2), F(s.Eps), F(s.WeightDecay)
	for i, gi := range g {
		gi += wd * p[i]
		m := b1*s.m[i] + (1-b1)*gi
		v := b2*s.v[i] + (1-b2)*gi*gi
		s.m[i], s.v[i] = m, v
		p[i] -= stepSize * m / (F(math.Sqrt(float64(v)))*invBC2 + eps)
	}
}

// initParams draws a's initial parameters from seed: Xavier-uniform for
// embeddings and weight matrices (as DATE does), PyTorch's default
// uniform(±1/√fan-in) for biases, ones and zeros for the layer norm, a
// tree-margin weight of 1 and revenue-input weights of 0.
func initParams(a Arch, seed uint64) []float32 {
	spec, size := a.layout()
	p := make([]float32, size)
	rng := rand.New(rand.NewPCG(seed, 0xda7e))
	uniform := func(dst []float32, bound float64) {
		for i := range dst {
			dst[i] = float32((2*rng.Float64() - 1) * bound)
		}
	}
	fanIn := map[string]int{"sa_bq": a.Dim, "sa_bk": a.Dim, "sa_bv": a.Dim, "sa_bo": a.Dim,
		"att_b": 2 * a.Dim, "fuse_b": 3*a.Dim + a.RevIn, "hid_b": a.Dim, "cls_b": a.Dim, "rev_b": a.Dim, "reg_b": a.regIn()}
	for _, t := range spec {
		dst := p[t.Off : t.Off+t.Size()]
		switch {
		case t.Name == "ln_g", t.Name == "cls_m": // cls_m: the logit starts from the trees' margin
			for i := range dst {
				dst[i] = 1
			}
		case t.Name == "ln_b", t.Name == "reg_x": // reg_x: the revenue inputs start unweighed
		case t.Name == "att_h": // a d×1 matrix in DATE
			uniform(dst, math.Sqrt(6/float64(a.Dim+1)))
		case len(t.Shape) == 2:
			uniform(dst, math.Sqrt(6/float64(t.Shape[0]+t.Shape[1])))
		default:
			uniform(dst, 1/math.Sqrt(float64(fanIn[t.Name])))
		}
	}
	return p
}
