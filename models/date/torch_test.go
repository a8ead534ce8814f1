package date

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"risklane/internal/testenv"
)

// torchInput is what testdata/date_torch.py reads.
type torchInput struct {
	Arch   Arch
	Params map[string][]float32
	Batch  *Batch
	// LeafValues are the cross-feature trees' leaf values by leaf
	// embedding row (the tree margin's terms, Arch.Margin).
	LeafValues []float64
	Alpha      float64
	// LabelSmooth is Config.LabelSmooth (the batch's W its revenue
	// weights, when it has them).
	LabelSmooth float64 `json:",omitempty"`
	// RevAllRows: the revenue loss over every row, the licit rows' target
	// 0 (Config.RevAllRows).
	RevAllRows bool `json:",omitempty"`
	// Revenue, when set, are the rows' revenues, of which the revenue
	// target is log1p(revenue) less the batch's Base, standardised over the
	// illicit rows (Config.RevBase with RevStandard): PyTorch builds the
	// target, its mean and sd itself.
	Revenue   []float64 `json:",omitempty"`
	Adam      Adam
	Epochs    int `json:",omitempty"`
	BatchSize int `json:",omitempty"`
	Threads   int `json:",omitempty"`
	Float64   bool
}

type torchOutput struct {
	Logit, Rev    []float64
	Loss          float64
	Grad, Stepped map[string][]float64
}

// torchPython returns a Python that imports torch, or skips.
func torchPython(t testing.TB) string {
	t.Helper()
	if os.Getenv("RISKLANE_PYTHON") == "" {
		if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
			t.Skip("skipping: no PyTorch for the DATE cross-check (on Debian: apt-get install python3-torch; or set RISKLANE_PYTHON)")
		}
	}
	return testenv.Python(t, "torch")
}

func named(a Arch, p []float32) map[string][]float32 {
	spec, _ := a.layout()
	m := map[string][]float32{}
	for _, ts := range spec {
		m[ts.Name] = p[ts.Off : ts.Off+ts.Size()]
	}
	return m
}

// close reports whether got is within 1e-4 of want, relative to want or,
// for entries near zero, to a hundredth of the tensor's largest entry.
func closeTo(got, want, scale float64) bool {
	return math.Abs(got-want) <= 1e-4*math.Max(math.Abs(want), 1e-2*scale)
}

func maxAbs(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}

// TestAgainstPyTorch builds the same network in PyTorch with the weights
// risklane initialised and compares, on one batch, the forward outputs, the
// loss, every parameter's gradient and the parameters after one Adam step,
// within 1e-4 relative. It does so in float64 on both sides, where the
// comparison is of the mathematics (in float32 some gradients, such as
// those of the query attention behind a layer norm, are sums that cancel to
// rounding noise), and in float32, the precision risklane trains in, for the
// forward outputs and the loss.
func TestAgainstPyTorch(t *testing.T) {
	py := torchPython(t)
	for name, a := range testArchs() {
		for _, l := range testLosses() {
			t.Run(name+l.name+"/float64", func(t *testing.T) { crossCheck[float64](t, py, a, l) })
			t.Run(name+l.name+"/float32", func(t *testing.T) { crossCheck[float32](t, py, a, l) })
		}
	}
}

func crossCheck[F Float](t *testing.T, py string, a Arch, l testLoss) {
	is64 := F(1e-300) != 0
	{
		{
			p := initParams(a, 5)
			// off-initial biases and layer norm, a revenue output away from 0
			for i := range p {
				p[i] += float32(0.05 * math.Sin(float64(i)))
			}
			spec, _ := a.layout()
			for _, ts := range spec {
				switch ts.Name {
				case "reg_b":
					p[ts.Off] = 0.5
				case "cls_m":
					p[ts.Off] = 0.7
				}
			}
			b := smallBatch(a, 16, 4)
			l.set(b)
			opt := Adam{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-3}
			in := torchInput{Arch: a, Params: named(a, p), Batch: b, LeafValues: testLeafValues(a), Alpha: 10, LabelSmooth: l.smooth, RevAllRows: l.revAll, Adam: opt, Float64: is64}
			if l.base {
				in.Revenue = testRevenues(b)
			}
			dir := t.TempDir()
			inPath, outPath := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
			buf, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(inPath, buf, 0o644); err != nil {
				t.Fatal(err)
			}
			l.targets(b) // PyTorch got the batch as drawn
			cmd := exec.Command(py, filepath.Join("testdata", "date_torch.py"), "check", inPath, outPath)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("date_torch.py: %v\n%s", err, out)
			}
			var want torchOutput
			if buf, err = os.ReadFile(outPath); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(buf, &want); err != nil {
				t.Fatal(err)
			}

			pf := make([]F, len(p))
			for i, x := range p {
				pf[i] = F(x)
			}
			n := testNet(a, pf)
			w := newWork[F](a)
			for i := range b.Rows() {
				z, r := n.forward(w, b.Leaves[i*a.Trees:(i+1)*a.Trees], b.Imp[i], b.Item[i], revInputs[F](b, i, a.RevIn, nil))
				if !closeTo(float64(z), want.Logit[i], maxAbs(want.Logit)) || !closeTo(float64(r), want.Rev[i], maxAbs(want.Rev)) {
					t.Errorf("row %d: logit %v revenue %v, PyTorch %v %v", i, z, r, want.Logit[i], want.Rev[i])
				}
			}
			idx := make([]int, b.Rows())
			for i := range idx {
				idx[i] = i
			}
			tr := newTrainer(n, in.Alpha, 2)
			tr.smooth = F(l.smooth)
			tr.revAll = l.revAll
			loss := tr.lossGrad(b, idx)
			if !closeTo(loss, want.Loss, 0) {
				t.Errorf("loss %v, PyTorch %v", loss, want.Loss)
			}
			if !is64 {
				return
			}
			ad := newAdam[F](opt, len(pf))
			ad.step(pf, tr.grad)
			for _, ts := range spec {
				g, s := tr.grad[ts.Off:ts.Off+ts.Size()], pf[ts.Off:ts.Off+ts.Size()]
				wg, ws := want.Grad[ts.Name], want.Stepped[ts.Name]
				if len(wg) != len(g) || len(ws) != len(s) {
					t.Fatalf("%s: %d gradients, PyTorch %d", ts.Name, len(g), len(wg))
				}
				gs, ss := maxAbs(wg), maxAbs(ws)
				bad := 0
				for i := range g {
					if !closeTo(float64(g[i]), wg[i], gs) {
						if bad++; bad <= 3 {
							t.Errorf("%s[%d]: gradient %v, PyTorch %v", ts.Name, i, g[i], wg[i])
						}
					}
					if !closeTo(float64(s[i]), ws[i], ss) {
						if bad++; bad <= 3 {
							t.Errorf("%s[%d]: after one Adam step %v, PyTorch %v", ts.Name, i, s[i], ws[i])
						}
					}
				}
			}
		}
	}
}
