package forecast

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"risklane/internal/testenv"
)

// airPassengers is Box & Jenkins' monthly airline passengers, 1949-1960
// (thousands): the classic seasonal series with trend.
var airPassengers = []float64{112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194, 196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229, 242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336, 340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405, 417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432}

// crossSeries are the series checked against R: shapes customs series take.
func crossSeries() []Series {
	rng := rand.New(rand.NewPCG(17, 2))
	var out []Series
	out = append(out, Series{Group: "airpassengers", Values: airPassengers})
	// Monthly duty revenue: trend, additive season, noise.
	rev := make([]float64, 60)
	for t := range rev {
		rev[t] = 1000 + 8*float64(t) + 150*math.Sin(2*math.Pi*float64(t)/12) + 40*rng.NormFloat64()
	}
	out = append(out, Series{Group: "revenue_trend_season", Values: rev})
	// Monthly imports with a multiplicative season and a trend that levels off.
	imp := make([]float64, 72)
	for t := range imp {
		lvl := 5000 * (1 + 0.6*(1-math.Exp(-float64(t)/24)))
		imp[t] = lvl * (1 + 0.25*math.Cos(2*math.Pi*float64(t)/12)) * math.Exp(0.05*rng.NormFloat64())
	}
	out = append(out, Series{Group: "imports_damped", Values: imp})
	// Intermittent: seizures of a rare good per month, mostly none.
	inter := make([]float64, 48)
	for t := range inter {
		if rng.Float64() < 0.35 {
			inter[t] = float64(1 + rng.IntN(5))
		}
	}
	out = append(out, Series{Group: "intermittent", Values: inter})
	// Short: a new office's first 15 months.
	short := make([]float64, 15)
	for t := range short {
		short[t] = 200 + 5*float64(t) + 30*math.Sin(2*math.Pi*float64(t)/12) + 10*rng.NormFloat64()
	}
	out = append(out, Series{Group: "short", Values: short})
	// Non-seasonal random walk with drift (a commodity's value).
	rw := make([]float64, 40)
	v := 300.0
	for t := range rw {
		v += 4 + 15*rng.NormFloat64()
		rw[t] = v
	}
	out = append(out, Series{Group: "random_walk", Values: rw})
	return out
}

const rCrossScript = `
suppressMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
h <- as.integer(args[2]); bth <- as.integer(args[3]); K <- as.integer(args[4])
for (g in unique(d$group)) {
  y <- ts(d$value[d$group == g], frequency = 12)
  fit <- ets(y)
  cat("fit", g, fit$method, format(fit$loglik, digits = 12), format(fit$aicc, digits = 12), "\n", sep = ",")
  fc <- forecast(fit, h = h, PI = FALSE)$mean
  cat("fc", g, paste(format(as.numeric(fc), digits = 12), collapse = ","), "\n", sep = ",")
  n <- length(y); s <- 0; pts <- 0
  for (k in 0:(K - 1)) {
    o <- n - bth - (K - 1 - k)
    if (o < 3) next
    tr <- ts(y[1:o], frequency = 12)
    lag <- if (o > 12) 12 else 1
    scale <- mean(abs(diff(as.numeric(tr), lag = lag)))
    if (scale == 0) next
    f <- forecast(ets(tr), h = bth, PI = FALSE)$mean
    s <- s + sum(abs(y[(o + 1):(o + bth)] - f)) / scale
    pts <- pts + bth
  }
  cat("bt", g, format(s / pts, digits = 12), pts, "\n", sep = ",")
}
`

type rFit struct {
	method       string
	loglik, aicc float64
	fc           []float64
	mase         float64
}

// runR fits the series in R and parses its answers.
func runR(t *testing.T, series []Series, h, bth, origins int) map[string]*rFit {
	t.Helper()
	rs := testenv.Rscript(t, "forecast")
	dir := t.TempDir()
	var csv bytes.Buffer
	csv.WriteString("group,value\n")
	for _, s := range series {
		for _, v := range s.Values {
			fmt.Fprintf(&csv, "%s,%.17g\n", s.Group, v)
		}
	}
	data := filepath.Join(dir, "series.csv")
	script := filepath.Join(dir, "check.R")
	if err := os.WriteFile(data, csv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(rCrossScript), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rs, script, data, strconv.Itoa(h), strconv.Itoa(bth), strconv.Itoa(origins))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("Rscript: %v\n%s", err, stderr.String())
	}
	res := map[string]*rFit{}
	get := func(g string) *rFit {
		if res[g] == nil {
			res[g] = &rFit{}
		}
		return res[g]
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(strings.TrimSuffix(strings.TrimSpace(sc.Text()), ","), ",")
		if len(f) < 3 {
			continue
		}
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				t.Fatalf("R output %q: %v", sc.Text(), err)
			}
			return v
		}
		r := get(f[1])
		switch f[0] {
		case "fit":
			// The method contains commas: ETS(M,Ad,M).
			r.method = strings.Join(f[2:len(f)-2], ",")
			r.loglik, r.aicc = num(f[len(f)-2]), num(f[len(f)-1])
		case "fc":
			for _, s := range f[2:] {
				r.fc = append(r.fc, num(s))
			}
		case "bt":
			r.mase = num(f[2])
		}
	}
	return res
}

// TestAgainstR fits the cross-check series with risklane and with R's
// forecast::ets and compares the chosen models, their log-likelihoods and
// AICc, the point forecasts, and the rolling-origin backtest's MASE.
func TestAgainstR(t *testing.T) {
	const h, bth, origins = 12, 6, 6
	series := crossSeries()
	rres := runR(t, series, h, bth, origins)
	var goMASE, rMASE float64
	same := 0
	for _, s := range series {
		r := rres[s.Group]
		if r == nil || r.method == "" {
			t.Fatalf("%s: no answer from R", s.Group)
		}
		var f fitter
		fit, err := f.fitMethod(MethodETS, s.Values, 12)
		if err != nil {
			t.Fatalf("%s: %v", s.Group, err)
		}
		p := fit.Forecast(h)
		bt := f.backtest(MethodETS, s.Values, 12, bth, origins)
		goMASE += bt.MASE
		rMASE += r.mase
		t.Logf("%-22s risklane %-12s loglik %10.3f AICc %10.3f MASE %.4f | R %-12s loglik %10.3f AICc %10.3f MASE %.4f",
			s.Group, fit.Name, fit.ETS.LogLik, fit.ETS.AICc, bt.MASE, r.method, r.loglik, r.aicc, r.mase)
		if fit.Name != r.method {
			// A different choice is acceptable only when risklane's model
			// is at least as good by R's own criterion.
			if fit.ETS.AICc > r.aicc+0.02*math.Abs(r.aicc) {
				t.Errorf("%s: risklane chose %s (AICc %.3f), R %s (AICc %.3f)", s.Group, fit.Name, fit.ETS.AICc, r.method, r.aicc)
			}
			continue
		}
		same++
		if d := math.Abs(fit.ETS.LogLik-r.loglik) / math.Abs(r.loglik); d > 0.02 {
			t.Errorf("%s: log-likelihood %.4f, R %.4f", s.Group, fit.ETS.LogLik, r.loglik)
		}
		if d := math.Abs(fit.ETS.AICc-r.aicc) / math.Abs(r.aicc); d > 0.02 {
			t.Errorf("%s: AICc %.4f, R %.4f", s.Group, fit.ETS.AICc, r.aicc)
		}
		scale := meanAbs(s.Values)
		for i, want := range r.fc {
			if d := math.Abs(p.Mean[i]-want) / math.Max(math.Abs(want), 0.1*scale); d > 0.02 {
				t.Errorf("%s: forecast %d steps ahead %.4f, R %.4f (%.1f%% apart)", s.Group, i+1, p.Mean[i], want, 100*d)
			}
		}
	}
	if same < len(series)-1 {
		t.Errorf("risklane and R chose the same model for %d of %d series", same, len(series))
	}
	goMASE /= float64(len(series))
	rMASE /= float64(len(series))
	t.Logf("backtest MASE over all series: risklane %.4f, R %.4f (%+.2f%%)", goMASE, rMASE, 100*(goMASE/rMASE-1))
	if math.Abs(goMASE/rMASE-1) > 0.05 {
		t.Errorf("backtest MASE %.4f is more than 5%% from R's %.4f", goMASE, rMASE)
	}
}

func meanAbs(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += math.Abs(x)
	}
	return s / float64(len(v))
}
