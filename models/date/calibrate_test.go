package date

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"risklane/internal/testenv"
)

// TestPlattFit checks the calibration's fit against scikit-learn's
// logistic regression on the logit (unpenalised: C = 1e12), on logits of
// an overconfident model (labels drawn with probability sigmoid(0.4 z -
// 0.3)), and its first-order conditions: at the fit, the cross-entropy's
// gradient in a and b is zero.
func TestPlattFit(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n = 4000
	z, y := make([]float64, n), make([]int8, n)
	for i := range z {
		z[i] = 6 * rng.NormFloat64()
		if rng.Float64() < sigmoid(0.4*z[i]-0.3) {
			y[i] = 1
		}
	}
	y[7] = -1 // unlabelled: skipped
	a, b, ok := plattFit(z, y)
	if !ok {
		t.Fatal("no fit")
	}
	var ga, gb float64
	for i, zi := range z {
		if y[i] >= 0 {
			g := sigmoid(a*zi+b) - float64(y[i])
			ga, gb = ga+g*zi, gb+g
		}
	}
	if math.Abs(ga) > 1e-6*n || math.Abs(gb) > 1e-6*n {
		t.Errorf("gradient at the fit (%v, %v): %v %v", a, b, ga, gb)
	}
	if math.Abs(a-0.4) > 0.05 || math.Abs(b+0.3) > 0.2 {
		t.Errorf("fit a %v b %v, drawn from 0.4, -0.3", a, b)
	}
	if _, _, ok := plattFit(z[:3], []int8{1, 1, 1}); ok {
		t.Error("one class: a fit")
	}

	py := testenv.Python(t, "sklearn")
	var in strings.Builder
	for i, zi := range z {
		if y[i] >= 0 {
			fmt.Fprintf(&in, "%.17g %d\n", zi, y[i])
		}
	}
	const script = `import sys
import numpy as np
from sklearn.linear_model import LogisticRegression
d = np.loadtxt(sys.stdin)
m = LogisticRegression(C=1e12, tol=1e-12, max_iter=10000).fit(d[:, :1], d[:, 1])
print(repr(m.coef_[0][0]), repr(m.intercept_[0]))`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scikit-learn: %v\n%s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		t.Fatalf("scikit-learn said %q", out)
	}
	sa, _ := strconv.ParseFloat(f[0], 64)
	sb, _ := strconv.ParseFloat(f[1], 64)
	if math.Abs(a-sa) > 1e-4*math.Abs(sa) || math.Abs(b-sb) > 1e-4*math.Max(math.Abs(sb), 0.1) {
		t.Errorf("fit a %v b %v, scikit-learn %v %v", a, b, sa, sb)
	}
	t.Logf("a %.6f b %.6f; scikit-learn %.6f %.6f", a, b, sa, sb)
}
