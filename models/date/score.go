package date

// kernelDim is the embedding width the scoring kernels take (DATE's
// default, 16): a leaf is then 32 floats (projection and embedding) and
// the sixteen rows of a group fill the sixteen lanes of a register.
const kernelDim = 16

// kernelRows is the scratch of forwardScoreKernel.
type kernelRows struct {
	idx    []int32   // T×16 leaves × 32, tree-major
	qb     []float32 // 16×16 query parts of the pre-activations, row by row
	sc     []float32 // T×16 scores, then attention weights
	s      []float32 // 16×16 attended vectors, row by row
	margin [16]float32
	top    [16]float32 // each row's largest score
	q      [kernelDim]float32
}

// scoreRows is forwardScoreRows for m's network, through the AVX-512
// kernels (score_amd64.s) when the processor has them and the network is
// of their width: the same outputs, bit for bit (TestScoreKernel), as
// the kernels do each row's arithmetic in the Go loops' order.
func (m *Model) scoreRows(w *work[float32], proj []float32, leaves []int32, nrows int, imp, item []int32, x, logit, rev, att []float32) {
	if haveKernels && m.Arch.Dim == kernelDim {
		forwardScoreKernel(m.net, w, proj, leaves, nrows, imp, item, x, logit, rev, att)
		return
	}
	m.net.forwardScoreRows(w, &w.rows, proj, leaves, nrows, imp, item, x, logit, rev, att)
}

// forwardScoreKernel is forwardScoreRows for a float32 network of dim
// kernelDim without self-attention, sixteen rows at a time: the kernels
// compute the query attention's scores, the tree margins and the attended
// leaf vectors of the sixteen rows together, tree by tree; the query
// parts, the softmax and the heads are forwardScoreRows's own loops.
func forwardScoreKernel(n *net[float32], w *work[float32], proj []float32, leaves []int32, nrows int, imp, item []int32, x, logit, rev, att []float32) {
	const d, G = kernelDim, 16
	p, T := n.p, n.a.Trees
	attW, attH := p[n.attW:n.attW+2*d*d], p[n.attH:n.attH+d]
	var lv []float32
	if n.a.Margin {
		lv = n.lv
	}
	ks := &w.kernel
	ks.idx = growI(ks.idx, T*G)
	ks.qb = growF(ks.qb, G*d)
	ks.sc = growF(ks.sc, T*G)
	ks.s = growF(ks.s, G*d)
	for lo := 0; lo < nrows; lo += G {
		k := min(G, nrows-lo)
		for t := range T {
			idx := ks.idx[t*G : (t+1)*G]
			for r := range k {
				idx[r] = leaves[(lo+r)*T+t] * 2 * d
			}
			clear(idx[k:]) // the lanes of missing rows read leaf 0
		}
		clear(ks.qb)
		for r := range k {
			i := lo + r
			u, v := p[n.imp+int(imp[i])*d:n.imp+int(imp[i])*d+d], p[n.item+int(item[i])*d:n.item+int(item[i])*d+d]
			for j := range d {
				ks.q[j] = u[j] * v[j]
			}
			for o := range d {
				s := p[n.attB+o]
				row := attW[o*2*d : o*2*d+d]
				for j, qj := range ks.q {
					s += row[j] * qj
				}
				ks.qb[r*d+o] = s
			}
		}
		scoreKernelF(proj, ks.idx, ks.qb, attH, lv, ks.sc, ks.margin[:], ks.top[:], T)
		// the softmax over each row's trees from its largest score, which
		// the kernel found; in Go, as softmax does it, when some score is
		// out of the softmax kernel's range
		if !softmaxKernelF(ks.sc, ks.top[:], T) {
			for r := range k {
				softmaxFrom(ks.sc[r:], G, T, ks.top[r])
			}
		}
		for t := range T {
			clear(ks.sc[t*G+k : (t+1)*G])
		}
		attendKernelF(proj, ks.idx, ks.sc, ks.s, T)
		for r := range k {
			var margin float32
			if lv != nil {
				margin = ks.margin[r]
			}
			n.rowHead(w, lo+r, imp, item, ks.s[r*d:(r+1)*d], margin, x, logit, rev, att, ks.sc[r:], G)
		}
	}
}

func growI(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
