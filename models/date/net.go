package date

import (
	"fmt"
	"math"
)

// Float is the element type of a network: float32 for training and scoring,
// float64 for the finite-difference gradient checks.
type Float interface{ ~float32 | ~float64 }

// Arch fixes the shape of a network: everything its parameter tensors'
// sizes depend on.
type Arch struct {
	Trees     int  // leaves per row (one per tree)
	Leaves    int  // rows of the leaf embedding (all trees' leaves)
	Importers int  // rows of the importer embedding, row 0 the unseen row
	Items     int  // rows of the HS-code embedding, row 0 the unseen row
	Dim       int  // embedding and hidden width
	Heads     int  // self-attention heads (Dim a multiple of Heads)
	SelfAtt   bool // refine the leaf embeddings by multi-head self-attention
	// RevIn is the number of the revenue inputs (log declared value, log
	// duty, ...; Config.RevenueInputs): they join the fusion layer's input
	// (importer, HS code, attended leaves), and the revenue head also weighs
	// them linearly beside the hidden layer.
	RevIn int
	// Margin adds the cross-feature trees' margin (the sum of the row's
	// leaf values), weighed by a learned scalar, to the classifier's logit:
	// the network starts from what the trees know and learns what the
	// importer, the HS code and the attention add to it.
	Margin bool
	// RevHid is the width of the revenue tower (0: none): a dense layer
	// and leaky ReLU of its own on the fusion layer's output, feeding the
	// revenue output instead of the hidden layer the classifier shares.
	RevHid int
}

// check refuses shapes the network cannot take, and sizes that would
// overflow or exhaust memory (a model file states them).
func (a Arch) check() error {
	const maxRows, maxDim, maxTrees = 1 << 24, 256, 4096
	switch {
	case a.Trees < 1 || a.Trees > maxTrees:
		return fmt.Errorf("trees %d: want 1..%d", a.Trees, maxTrees)
	case a.Leaves < 1 || a.Leaves > maxRows:
		return fmt.Errorf("leaf embedding rows %d: want 1..%d", a.Leaves, maxRows)
	case a.Importers < 1 || a.Importers > maxRows:
		return fmt.Errorf("importer embedding rows %d: want 1..%d", a.Importers, maxRows)
	case a.Items < 1 || a.Items > maxRows:
		return fmt.Errorf("HS-code embedding rows %d: want 1..%d", a.Items, maxRows)
	case a.Dim < 1 || a.Dim > maxDim:
		return fmt.Errorf("dim %d: want 1..%d", a.Dim, maxDim)
	case a.SelfAtt && (a.Heads < 1 || a.Dim%a.Heads != 0):
		return fmt.Errorf("heads %d: want a divisor of dim %d", a.Heads, a.Dim)
	case a.RevIn < 0 || a.RevIn > maxRevIn:
		return fmt.Errorf("revenue inputs %d: want 0..%d", a.RevIn, maxRevIn)
	case a.RevHid < 0 || a.RevHid > maxDim:
		return fmt.Errorf("revenue tower width %d: want 0..%d", a.RevHid, maxDim)
	}
	if int64(a.Leaves+a.Importers+a.Items)*int64(a.Dim) > 1<<28 {
		return fmt.Errorf("embeddings of %d+%d+%d rows of %d: too large", a.Leaves, a.Importers, a.Items, a.Dim)
	}
	return nil
}

// maxRevIn is the most direct inputs the revenue head takes.
const maxRevIn = 16

// Tensor names one parameter tensor of the flat parameter vector. Names and
// shapes are those of the PyTorch reference (testdata/date_torch.py).
type Tensor struct {
	Name  string
	Shape []int
	Off   int
}

// Size is the number of elements of t.
func (t Tensor) Size() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// layout lists a's parameter tensors in order and returns the total size.
func (a Arch) layout() ([]Tensor, int) {
	d, T := a.Dim, a.Trees
	var spec []Tensor
	add := func(name string, shape ...int) { spec = append(spec, Tensor{Name: name, Shape: shape}) }
	add("leaf", a.Leaves, d)
	add("importer", a.Importers, d)
	add("item", a.Items, d)
	if a.SelfAtt {
		for _, p := range []string{"q", "k", "v", "o"} {
			add("sa_w"+p, d, d)
			add("sa_b"+p, d)
		}
		add("ln_g", T, d)
		add("ln_b", T, d)
	}
	add("att_w", d, 2*d)
	add("att_b", d)
	add("att_h", d)
	add("fuse_w", d, 3*d+a.RevIn)
	add("fuse_b", d)
	add("hid_w", d, d)
	add("hid_b", d)
	add("cls_w", 1, d)
	add("cls_b", 1)
	if a.RevHid > 0 {
		add("rev_w", a.RevHid, d)
		add("rev_b", a.RevHid)
	}
	add("reg_w", 1, a.regIn())
	add("reg_b", 1)
	if a.RevIn > 0 {
		add("reg_x", 1, a.RevIn)
	}
	if a.Margin {
		add("cls_m", 1)
	}
	off := 0
	for i := range spec {
		spec[i].Off = off
		off += spec[i].Size()
	}
	return spec, off
}

// regIn is the width of the revenue output's input: the revenue tower's,
// or without one the hidden layer's.
func (a Arch) regIn() int {
	if a.RevHid > 0 {
		return a.RevHid
	}
	return a.Dim
}

// net is a DATE network over parameters p (flat, laid out by Arch.layout).
// Its forward and backward passes work one row at a time on a workspace,
// so that rows of a batch run on several goroutines, each with its own
// workspace and gradient vector.
type net[F Float] struct {
	a Arch
	p []F
	// offsets into p
	leaf, imp, item                    int
	wq, bq, wk, bk, wv, bv, wo, bo     int
	lng, lnb                           int
	attW, attB, attH, fuseW, fuseB     int
	hidW, hidB, clsW, clsB, regW, regB int
	regX, clsM, revW, revB             int
	// lv is the leaf value of each row of the leaf embedding (the trees'
	// own output for that leaf), read when Arch.Margin is set; fixed, not
	// trained.
	lv []F
}

func newNet[F Float](a Arch, p []F) *net[F] {
	spec, _ := a.layout()
	off := map[string]int{}
	for _, t := range spec {
		off[t.Name] = t.Off
	}
	return &net[F]{a: a, p: p,
		leaf: off["leaf"], imp: off["importer"], item: off["item"],
		wq: off["sa_wq"], bq: off["sa_bq"], wk: off["sa_wk"], bk: off["sa_bk"],
		wv: off["sa_wv"], bv: off["sa_bv"], wo: off["sa_wo"], bo: off["sa_bo"],
		lng: off["ln_g"], lnb: off["ln_b"],
		attW: off["att_w"], attB: off["att_b"], attH: off["att_h"],
		fuseW: off["fuse_w"], fuseB: off["fuse_b"], hidW: off["hid_w"], hidB: off["hid_b"],
		clsW: off["cls_w"], clsB: off["cls_b"], regW: off["reg_w"], regB: off["reg_b"],
		regX: off["reg_x"], clsM: off["cls_m"], revW: off["rev_w"], revB: off["rev_b"],
	}
}

// LeakySlope is the negative slope of the fusion and hidden layers' leaky
// ReLU (PyTorch's default).
const LeakySlope = 0.01

// lnEps is the layer norm's epsilon (PyTorch's default).
const lnEps = 1e-5

// work holds one row's activations, kept for the backward pass.
type work[F Float] struct {
	E, Q, K, V, O, Y, xhat, L []F // T×d
	A                         []F // heads×T×T attention weights
	invstd                    F
	q, u, v                   []F // d
	P                         []F // T×d attention projection (after ReLU)
	w                         []F // T query-attention weights
	s, f, h                   []F // d
	fpre, hpre                []F
	tpre, tt, dt, dft         []F // the revenue tower's (RevHid; dft: d)
	cat                       []F // 3d + RevIn
	p, rpre, margin           F
	marginIn                  *float32 // when set, the margin, not the leaves' sum (Batch.Margin)
	// backward scratch
	dE, dQ, dK, dV, dO, dY, dL []F
	dA                         []F // T×T
	dPsum, dq, du, dv, ds      []F
	dcat, df, dh               []F
	dw                         []F
	// scoring many rows at once (forwardScoreRows)
	rows        scoreRows[F]
	kernel      kernelRows // the AVX-512 kernels' (score.go), float32 only
	zs, rs, att []F
}

func newWork[F Float](a Arch) *work[F] {
	T, d := a.Trees, a.Dim
	td := func() []F { return make([]F, T*d) }
	vd := func() []F { return make([]F, d) }
	w := &work[F]{
		E: td(), Q: td(), K: td(), V: td(), O: td(), Y: td(), xhat: td(), L: td(),
		q: vd(), u: vd(), v: vd(), P: td(), w: make([]F, T), s: vd(), f: vd(), h: vd(),
		fpre: vd(), hpre: vd(), cat: make([]F, 3*d+a.RevIn),
		dE: td(), dQ: td(), dK: td(), dV: td(), dO: td(), dY: td(), dL: td(),
		dPsum: vd(), dq: vd(), du: vd(), dv: vd(), ds: vd(), dcat: make([]F, 3*d+a.RevIn), df: vd(), dh: vd(),
		dw: make([]F, T),
	}
	if a.RevHid > 0 {
		w.tpre, w.tt, w.dt, w.dft = make([]F, a.RevHid), make([]F, a.RevHid), make([]F, a.RevHid), vd()
	}
	if a.SelfAtt {
		w.A = make([]F, a.Heads*T*T)
		w.dA = make([]F, T*T)
	}
	return w
}

func relu[F Float](x F) F {
	if x > 0 {
		return x
	}
	return 0
}

func leaky[F Float](x F) F {
	if x > 0 {
		return x
	}
	return LeakySlope * x
}

func exp[F Float](x F) F { return F(math.Exp(float64(x))) }

// linear computes y = W x + b for W of shape out×in (PyTorch's layout).
func linear[F Float](W, b, x, y []F, out, in int) {
	for o := range out {
		row := W[o*in : o*in+in]
		s := b[o]
		for i, xi := range x[:in] {
			s += row[i] * xi
		}
		y[o] = s
	}
}

// linearBack accumulates the gradients of y = W x + b given dy: dW += dy
// xᵀ, db += dy, and dx = Wᵀ dy when dx is not nil (dx is overwritten).
func linearBack[F Float](W, dW, db, x, dy, dx []F, out, in int) {
	if dx != nil {
		clear(dx[:in])
	}
	for o := range out {
		g := dy[o]
		if g == 0 {
			continue
		}
		db[o] += g
		drow := dW[o*in : o*in+in]
		for i, xi := range x[:in] {
			drow[i] += g * xi
		}
		if dx != nil {
			row := W[o*in : o*in+in]
			for i, wi := range row {
				dx[i] += g * wi
			}
		}
	}
}

// softmax replaces x by its softmax.
func softmax[F Float](x []F) {
	m := x[0]
	for _, v := range x[1:] {
		m = max(m, v)
	}
	softmaxFrom(x, 1, len(x), m)
}

// softmaxFrom replaces x[0], x[stride], ... x[(n-1)*stride] by their
// softmax, given m, the largest of them: the one softmax of the package,
// for a row's trees laid out row by row (stride 1) or tree by tree (stride:
// the rows of a block).
func softmaxFrom[F Float](x []F, stride, n int, m F) {
	var s F
	for t := range n {
		e := exp(x[t*stride] - m)
		x[t*stride] = e
		s += e
	}
	inv := 1 / s
	for t := range n {
		x[t*stride] *= inv
	}
}

// forward computes one row: leaves (one leaf embedding row per tree), the
// importer and item rows and x, the row's Arch.RevIn revenue inputs (nil:
// all 0). It leaves the
// activations in w and returns the classifier's logit and the revenue
// head's output.
func (n *net[F]) forward(w *work[F], leaves []int32, imp, item int32, x []F) (logit, rev F) {
	a, p := n.a, n.p
	T, d := a.Trees, a.Dim
	for t, l := range leaves {
		copy(w.E[t*d:(t+1)*d], p[n.leaf+int(l)*d:])
	}
	n.treeMargin(w, leaves)
	L := w.E
	if a.SelfAtt {
		n.selfAttention(w)
		L = w.L
	}
	copy(w.u, p[n.imp+int(imp)*d:n.imp+int(imp)*d+d])
	copy(w.v, p[n.item+int(item)*d:n.item+int(item)*d+d])
	for i := range d {
		w.q[i] = w.u[i] * w.v[i]
	}

	// query attention over the leaves: score_t = hᵀ relu(Wq q + Wl L_t + b),
	// with Wq, Wl the halves of att_w; Wq q + b is the same for every t.
	attW, attH := p[n.attW:n.attW+2*d*d], p[n.attH:n.attH+d]
	qb := w.dcat[:d] // scratch: reused by backward after it is consumed
	for o := range d {
		s := p[n.attB+o]
		row := attW[o*2*d : o*2*d+d]
		for i, qi := range w.q {
			s += row[i] * qi
		}
		qb[o] = s
	}
	for t := range T {
		Lt, Pt := L[t*d:(t+1)*d], w.P[t*d:(t+1)*d]
		var score F
		for o := range d {
			row := attW[o*2*d+d : o*2*d+2*d]
			s := qb[o]
			for i, li := range Lt {
				s += row[i] * li
			}
			s = relu(s)
			Pt[o] = s
			score += s * attH[o]
		}
		w.w[t] = score
	}
	return n.fuse(w, L, x)
}

// fuse finishes a row whose query-attention scores are in w.w: the
// softmax over the trees, the attended leaf vector, the fusion and hidden
// layers and the two heads.
func (n *net[F]) fuse(w *work[F], L, x []F) (logit, rev F) {
	d := n.a.Dim
	softmax(w.w)
	clear(w.s)
	for t, wt := range w.w {
		for i, li := range L[t*d : (t+1)*d] {
			w.s[i] += wt * li
		}
	}
	return n.head(w, x)
}

// head finishes a row whose importer and item vectors are in w.u and w.v,
// attended leaf vector in w.s and tree margin in w.margin: the fusion and
// hidden layers and the two heads.
func (n *net[F]) head(w *work[F], x []F) (logit, rev F) {
	p, d := n.p, n.a.Dim
	copy(w.cat[:d], w.u)
	copy(w.cat[d:2*d], w.v)
	copy(w.cat[2*d:3*d], w.s)
	if x != nil {
		copy(w.cat[3*d:], x[:n.a.RevIn])
	} else {
		clear(w.cat[3*d:])
	}
	linear(p[n.fuseW:], p[n.fuseB:], w.cat, w.fpre, d, 3*d+n.a.RevIn)
	for i, x := range w.fpre {
		w.f[i] = leaky(x)
	}
	linear(p[n.hidW:], p[n.hidB:], w.f, w.hpre, d, d)
	for i, x := range w.hpre {
		w.h[i] = leaky(x)
	}
	logit, rpre := p[n.clsB], p[n.regB]
	for i, hi := range w.h {
		logit += p[n.clsW+i] * hi
	}
	r := w.h
	if n.a.RevHid > 0 {
		linear(p[n.revW:], p[n.revB:], w.f, w.tpre, n.a.RevHid, d)
		for i, x := range w.tpre {
			w.tt[i] = leaky(x)
		}
		r = w.tt
	}
	for i, ri := range r {
		rpre += p[n.regW+i] * ri
	}
	if x != nil {
		for j, xj := range x[:n.a.RevIn] {
			rpre += p[n.regX+j] * xj
		}
	}
	if n.a.Margin {
		logit += p[n.clsM] * w.margin
	}
	w.rpre = rpre
	return logit, rpre
}

// treeMargin leaves in w.margin the sum of the leaf values of leaves.
func (n *net[F]) treeMargin(w *work[F], leaves []int32) {
	if !n.a.Margin {
		return
	}
	if w.marginIn != nil {
		w.margin = F(*w.marginIn)
		return
	}
	var s F
	for _, l := range leaves {
		s += n.lv[l]
	}
	w.margin = s
}

// leafProjections returns, for each row of the leaf embedding, its product
// with the leaf half of att_w (the part of the query attention's
// pre-activation that depends on the leaf alone) followed by the row
// itself: 2d values a leaf. Without self-attention a row's leaves are
// embedding rows as they are, so scoring (forwardScoreRows) adds this
// once-computed table instead of multiplying a d×d matrix per tree and
// row, and finds a leaf's embedding next to its projection: with hundreds
// of trees the tables outgrow the caches, and one leaf's values then cost
// one fetch from memory instead of two.
func (n *net[F]) leafProjections() []F {
	d := n.a.Dim
	attW := n.p[n.attW : n.attW+2*d*d]
	out := make([]F, n.a.Leaves*2*d)
	for l := range n.a.Leaves {
		e := n.p[n.leaf+l*d : n.leaf+(l+1)*d]
		for o := range d {
			row := attW[o*2*d+d : o*2*d+2*d]
			var s F
			for i, x := range e {
				s += row[i] * x
			}
			out[l*2*d+o] = s
		}
		copy(out[l*2*d+d:(l+1)*2*d], e)
	}
	return out
}

// scoreRows is the scratch of forwardScoreRows.
type scoreRows[F Float] struct {
	qb, sc, s, margin []F
}

// scoreGroup is how many rows forwardScoreRows takes at a time: their
// scratch (the attention scores of every tree) stays in cache.
const scoreGroup = 64

// forwardScoreRows is forward for n rows (leaves, imp, item and x
// row-major as in a Batch) of a network without self-attention, from proj
// = leafProjections(): the same outputs up to rounding (the query
// attention's sums are added in another order). It writes each row's logit
// and revenue output, and when att is not nil its attention weights
// (att[i*T+t]), and keeps nothing backward would need. It goes tree by tree
// over the rows, not row by row over the trees: with hundreds of trees the
// leaf table outgrows the caches, and one tree's leaves are few enough to
// stay in them while every row reads its own.
func (n *net[F]) forwardScoreRows(w *work[F], rs *scoreRows[F], proj []F, leaves []int32, nrows int, imp, item []int32, x []F, logit, rev, att []F) {
	p, d, T := n.p, n.a.Dim, n.a.Trees
	attW, attH := p[n.attW:n.attW+2*d*d], p[n.attH:n.attH+d]
	for lo := 0; lo < nrows; lo += scoreGroup {
		k := min(scoreGroup, nrows-lo)
		rs.qb = growF(rs.qb, k*d)
		rs.sc = growF(rs.sc, k*T)
		rs.s = growF(rs.s, k*d)
		rs.margin = growF(rs.margin, k)
		clear(rs.s)
		clear(rs.margin)
		for r := range k {
			i := lo + r
			u, v := p[n.imp+int(imp[i])*d:n.imp+int(imp[i])*d+d], p[n.item+int(item[i])*d:n.item+int(item[i])*d+d]
			for j := range d {
				w.q[j] = u[j] * v[j]
			}
			qb := rs.qb[r*d : (r+1)*d]
			for o := range d {
				s := p[n.attB+o]
				row := attW[o*2*d : o*2*d+d]
				for j, qj := range w.q {
					s += row[j] * qj
				}
				qb[o] = s
			}
		}
		// the scores (tree-major: rs.sc[t*k+r]) and the margins
		for t := range T {
			sc := rs.sc[t*k : (t+1)*k]
			for r := range k {
				l := int(leaves[(lo+r)*T+t])
				pl := proj[l*2*d : l*2*d+d]
				qb := rs.qb[r*d : (r+1)*d]
				var score F
				for o, x := range pl {
					score += relu(qb[o]+x) * attH[o]
				}
				sc[r] = score
				if n.a.Margin {
					rs.margin[r] += n.lv[l]
				}
			}
		}
		// the softmax over each row's trees, as softmax does it
		for r := range k {
			m := rs.sc[r]
			for t := 1; t < T; t++ {
				m = max(m, rs.sc[t*k+r])
			}
			softmaxFrom(rs.sc[r:], k, T, m)
		}
		// the attended leaf vectors
		for t := range T {
			for r := range k {
				l := int(leaves[(lo+r)*T+t])
				wt := rs.sc[t*k+r]
				s := rs.s[r*d : (r+1)*d]
				for j, e := range proj[l*2*d+d : (l+1)*2*d] {
					s[j] += wt * e
				}
			}
		}
		for r := range k {
			n.rowHead(w, lo+r, imp, item, rs.s[r*d:(r+1)*d], rs.margin[r], x, logit, rev, att, rs.sc[r:], k)
		}
	}
}

// rowHead finishes row i of a scoring block (forwardScoreRows, the
// kernels' forwardScoreKernel) from its attended leaf vector s and tree
// margin: the fusion, hidden and revenue layers and the heads, whose
// outputs go to logit[i] and rev[i]; when att is not nil, the row's
// attention weights (sc[t*stride], tree by tree) to att[i*T:].
func (n *net[F]) rowHead(w *work[F], i int, imp, item []int32, s []F, margin F, x, logit, rev, att, sc []F, stride int) {
	p, d, T, R := n.p, n.a.Dim, n.a.Trees, n.a.RevIn
	copy(w.u, p[n.imp+int(imp[i])*d:n.imp+int(imp[i])*d+d])
	copy(w.v, p[n.item+int(item[i])*d:n.item+int(item[i])*d+d])
	copy(w.s, s[:d])
	w.margin = margin
	var xi []F
	if R > 0 {
		xi = x[i*R : (i+1)*R]
	}
	logit[i], rev[i] = n.head(w, xi)
	if att != nil {
		for t := range T {
			att[i*T+t] = sc[t*stride]
		}
	}
}

func growF[F Float](s []F, n int) []F {
	if cap(s) < n {
		return make([]F, n)
	}
	return s[:n]
}

// selfAttention refines w.E into w.L: multi-head attention whose query, key,
// value and output projections are each followed by a ReLU, then a layer
// norm over the whole T×d matrix, as DATE's public code has it.
func (n *net[F]) selfAttention(w *work[F]) {
	a, p := n.a, n.p
	T, d, H := a.Trees, a.Dim, a.Heads
	dh := d / H
	for t := range T {
		e := w.E[t*d : (t+1)*d]
		linear(p[n.wq:], p[n.bq:], e, w.Q[t*d:], d, d)
		linear(p[n.wk:], p[n.bk:], e, w.K[t*d:], d, d)
		linear(p[n.wv:], p[n.bv:], e, w.V[t*d:], d, d)
	}
	for i := range w.Q {
		w.Q[i], w.K[i], w.V[i] = relu(w.Q[i]), relu(w.K[i]), relu(w.V[i])
	}
	scale := F(1 / math.Sqrt(float64(dh)))
	clear(w.O)
	for h := range H {
		A := w.A[h*T*T : (h+1)*T*T]
		for i := range T {
			qi := w.Q[i*d+h*dh : i*d+h*dh+dh]
			row := A[i*T : (i+1)*T]
			for j := range T {
				kj := w.K[j*d+h*dh : j*d+h*dh+dh]
				var s F
				for c, x := range qi {
					s += x * kj[c]
				}
				row[j] = s * scale
			}
			softmax(row)
			oi := w.O[i*d+h*dh : i*d+h*dh+dh]
			for j, aij := range row {
				vj := w.V[j*d+h*dh : j*d+h*dh+dh]
				for c, x := range vj {
					oi[c] += aij * x
				}
			}
		}
	}
	for t := range T {
		linear(p[n.wo:], p[n.bo:], w.O[t*d:(t+1)*d], w.Y[t*d:], d, d)
	}
	var mean F
	for i, y := range w.Y {
		y = relu(y)
		w.Y[i] = y
		mean += y
	}
	N := F(T * d)
	mean /= N
	var vr F
	for _, y := range w.Y {
		vr += (y - mean) * (y - mean)
	}
	vr /= N
	w.invstd = F(1 / math.Sqrt(float64(vr)+lnEps))
	g, b := p[n.lng:n.lng+T*d], p[n.lnb:n.lnb+T*d]
	for i, y := range w.Y {
		x := (y - mean) * w.invstd
		w.xhat[i] = x
		w.L[i] = g[i]*x + b[i]
	}
}

// backward accumulates into g (laid out as the parameters) the gradient of
// a loss whose derivatives with respect to this row's logit and revenue
// output are dlogit and drev. w holds the row's forward activations, x
// its revenue inputs.
func (n *net[F]) backward(w *work[F], g []F, leaves []int32, imp, item int32, x []F, dlogit, drev F) {
	a, p := n.a, n.p
	T, d := a.Trees, a.Dim
	g[n.clsB] += dlogit
	g[n.regB] += drev
	if a.Margin {
		g[n.clsM] += dlogit * w.margin
	}
	if x != nil {
		for j, xj := range x[:a.RevIn] {
			g[n.regX+j] += drev * xj
		}
	}
	tower := a.RevHid > 0
	for i, hi := range w.h {
		g[n.clsW+i] += dlogit * hi
		dh := dlogit * p[n.clsW+i]
		if !tower {
			g[n.regW+i] += drev * hi
			dh += drev * p[n.regW+i]
		}
		if w.hpre[i] <= 0 {
			dh *= LeakySlope
		}
		w.dh[i] = dh
	}
	linearBack(p[n.hidW:], g[n.hidW:], g[n.hidB:], w.f, w.dh, w.df, d, d)
	if tower {
		for i, ti := range w.tt {
			g[n.regW+i] += drev * ti
			dt := drev * p[n.regW+i]
			if w.tpre[i] <= 0 {
				dt *= LeakySlope
			}
			w.dt[i] = dt
		}
		linearBack(p[n.revW:], g[n.revW:], g[n.revB:], w.f, w.dt, w.dft, a.RevHid, d)
		for i, x := range w.dft {
			w.df[i] += x
		}
	}
	for i, x := range w.fpre {
		if x <= 0 {
			w.df[i] *= LeakySlope
		}
	}
	linearBack(p[n.fuseW:], g[n.fuseW:], g[n.fuseB:], w.cat, w.df, w.dcat, d, 3*d+a.RevIn)
	copy(w.du, w.dcat[:d])
	copy(w.dv, w.dcat[d:2*d])
	copy(w.ds, w.dcat[2*d:3*d])

	// query attention
	L := w.E
	if a.SelfAtt {
		L = w.L
	}
	dL := w.dL
	var wdw F
	for t := range T {
		Lt := L[t*d : (t+1)*d]
		var dw F
		for i, x := range Lt {
			dw += w.ds[i] * x
			dL[t*d+i] = w.w[t] * w.ds[i]
		}
		w.dw[t] = dw
		wdw += w.w[t] * dw
	}
	attW, attH := p[n.attW:n.attW+2*d*d], p[n.attH:n.attH+d]
	gW, gB, gH := g[n.attW:n.attW+2*d*d], g[n.attB:n.attB+d], g[n.attH:n.attH+d]
	clear(w.dPsum)
	for t := range T {
		da := w.w[t] * (w.dw[t] - wdw)
		if da == 0 {
			continue
		}
		Lt, Pt, dLt := L[t*d:(t+1)*d], w.P[t*d:(t+1)*d], dL[t*d:(t+1)*d]
		for o, po := range Pt {
			gH[o] += da * po
			if po <= 0 {
				continue
			}
			dpre := da * attH[o]
			w.dPsum[o] += dpre
			grow := gW[o*2*d+d : o*2*d+2*d]
			row := attW[o*2*d+d : o*2*d+2*d]
			for i, li := range Lt {
				grow[i] += dpre * li
				dLt[i] += dpre * row[i]
			}
		}
	}
	clear(w.dq)
	for o, s := range w.dPsum {
		gB[o] += s
		grow := gW[o*2*d : o*2*d+d]
		row := attW[o*2*d : o*2*d+d]
		for i, qi := range w.q {
			grow[i] += s * qi
			w.dq[i] += s * row[i]
		}
	}
	gu, gv := g[n.imp+int(imp)*d:], g[n.item+int(item)*d:]
	for i := range d {
		gu[i] += w.du[i] + w.dq[i]*w.v[i]
		gv[i] += w.dv[i] + w.dq[i]*w.u[i]
	}

	dE := dL
	if a.SelfAtt {
		n.selfAttentionBack(w, g)
		dE = w.dE
	}
	for t, l := range leaves {
		gl := g[n.leaf+int(l)*d : n.leaf+int(l)*d+d]
		for i, x := range dE[t*d : (t+1)*d] {
			gl[i] += x
		}
	}
}

// selfAttentionBack takes w.dL, the gradient with respect to the layer
// norm's output, to w.dE and the self-attention's parameter gradients.
func (n *net[F]) selfAttentionBack(w *work[F], g []F) {
	a, p := n.a, n.p
	T, d, H := a.Trees, a.Dim, a.Heads
	dh := d / H
	N := T * d
	gg, gb := g[n.lng:n.lng+N], g[n.lnb:n.lnb+N]
	lg := p[n.lng : n.lng+N]
	var m1, m2 F
	for i, x := range w.dL {
		gg[i] += x * w.xhat[i]
		gb[i] += x
		dx := x * lg[i]
		w.dY[i] = dx
		m1 += dx
		m2 += dx * w.xhat[i]
	}
	m1 /= F(N)
	m2 /= F(N)
	for i, dx := range w.dY {
		dy := w.invstd * (dx - m1 - w.xhat[i]*m2)
		if w.Y[i] <= 0 {
			dy = 0
		}
		w.dY[i] = dy
	}
	for t := range T {
		linearBack(p[n.wo:], g[n.wo:], g[n.bo:], w.O[t*d:(t+1)*d], w.dY[t*d:(t+1)*d], w.dO[t*d:(t+1)*d], d, d)
	}
	scale := F(1 / math.Sqrt(float64(dh)))
	clear(w.dQ)
	clear(w.dK)
	clear(w.dV)
	for h := range H {
		A := w.A[h*T*T : (h+1)*T*T]
		for i := range T {
			doi := w.dO[i*d+h*dh : i*d+h*dh+dh]
			row := A[i*T : (i+1)*T]
			drow := w.dA[i*T : (i+1)*T]
			var dot F
			for j, aij := range row {
				vj := w.V[j*d+h*dh : j*d+h*dh+dh]
				dvj := w.dV[j*d+h*dh : j*d+h*dh+dh]
				var s F
				for c, x := range doi {
					s += x * vj[c]
					dvj[c] += aij * x
				}
				drow[j] = s
				dot += s * aij
			}
			qi := w.Q[i*d+h*dh : i*d+h*dh+dh]
			dqi := w.dQ[i*d+h*dh : i*d+h*dh+dh]
			for j, aij := range row {
				ds := aij * (drow[j] - dot) * scale
				if ds == 0 {
					continue
				}
				kj := w.K[j*d+h*dh : j*d+h*dh+dh]
				dkj := w.dK[j*d+h*dh : j*d+h*dh+dh]
				for c := range dh {
					dqi[c] += ds * kj[c]
					dkj[c] += ds * qi[c]
				}
			}
		}
	}
	for i := range w.dQ {
		if w.Q[i] <= 0 {
			w.dQ[i] = 0
		}
		if w.K[i] <= 0 {
			w.dK[i] = 0
		}
		if w.V[i] <= 0 {
			w.dV[i] = 0
		}
	}
	tmp := w.dO // consumed above; reused as scratch for one row's dx
	clear(w.dE)
	for t := range T {
		e := w.E[t*d : (t+1)*d]
		de := w.dE[t*d : (t+1)*d]
		for _, pr := range [3]struct {
			W, b int
			dy   []F
		}{{n.wq, n.bq, w.dQ}, {n.wk, n.bk, w.dK}, {n.wv, n.bv, w.dV}} {
			linearBack(p[pr.W:], g[pr.W:], g[pr.b:], e, pr.dy[t*d:(t+1)*d], tmp[:d], d, d)
			for i, x := range tmp[:d] {
				de[i] += x
			}
		}
	}
}
