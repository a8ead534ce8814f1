package forecast

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Levels are the prediction-interval coverages risklane reports.
var Levels = [2]float64{80, 95}

// Prediction is an h-step forecast: Mean[i] is the point forecast i+1 steps
// ahead, Lower[k][i] and Upper[k][i] the bounds of the Levels[k]% interval.
type Prediction struct {
	Mean         []float64
	Lower, Upper [2][]float64
}

func newPrediction(h int) Prediction {
	p := Prediction{Mean: make([]float64, h)}
	for k := range Levels {
		p.Lower[k] = make([]float64, h)
		p.Upper[k] = make([]float64, h)
	}
	return p
}

// zOf returns the standard normal quantile for a central interval of
// coverage level percent.
func zOf(level float64) float64 {
	return distuv.UnitNormal.Quantile(0.5 + level/200)
}

// setNormal fills the intervals as Mean +- z sd[i].
func (p *Prediction) setNormal(sd []float64) {
	for k, lv := range Levels {
		z := zOf(lv)
		for i, m := range p.Mean {
			p.Lower[k][i] = m - z*sd[i]
			p.Upper[k][i] = m + z*sd[i]
		}
	}
}

// simPaths is the number of sample paths for models without a closed-form
// forecast variance.
const simPaths = 1000

// Forecast returns the point forecasts and prediction intervals h steps
// ahead. The point forecast is the model's forecast function (R's
// etsforecast). Variances are in closed form for the linear models (additive
// errors: Hyndman et al. 2008, class 1) and for multiplicative errors with
// additive trend and season (class 2); with a multiplicative season (class 3)
// risklane simulates sample paths (seeded, so runs repeat) where R uses an
// approximation.
func (e *ETS) Forecast(h int) Prediction {
	md := e.Spec.model(e.M)
	p := newPrediction(h)
	md.pointForecast(e.Last, e.Phi, p.Mean)
	if e.Season == 'M' {
		e.simulate(md, h, &p)
		return p
	}
	// c_j: the effect of one error on the forecast j steps later, the
	// forecast function applied to the state's error loadings g.
	g := make([]float64, len(e.Last))
	g[0] = e.Alpha
	k := 1
	if md.trend {
		g[1] = e.Beta
		k = 2
	}
	if md.season == 'A' {
		g[k] = e.Gamma
	}
	c := make([]float64, h)
	md.pointForecast(g, e.Phi, c)
	sd := make([]float64, h)
	if e.Error == 'A' {
		var cum float64
		for i := range sd {
			sd[i] = math.Sqrt(e.Sigma2 * (1 + cum))
			cum += c[i] * c[i]
		}
	} else {
		theta := make([]float64, h)
		for j := range theta {
			theta[j] = p.Mean[j] * p.Mean[j]
			for i := 0; i < j; i++ {
				theta[j] += e.Sigma2 * c[i] * c[i] * theta[j-1-i]
			}
			v := (1+e.Sigma2)*theta[j] - p.Mean[j]*p.Mean[j]
			sd[j] = math.Sqrt(math.Max(v, 0))
		}
	}
	p.setNormal(sd)
	return p
}

// simulate fills the intervals from sample paths of the model.
func (e *ETS) simulate(md model, h int, p *Prediction) {
	rng := rand.New(rand.NewPCG(uint64(e.N), 0x5eed))
	sigma := math.Sqrt(e.Sigma2)
	paths := make([]float64, simPaths*h)
	x := make([]float64, len(e.Last))
	k := 1
	if md.trend {
		k = 2
	}
	one := make([]float64, 1)
	for s := 0; s < simPaths; s++ {
		copy(x, e.Last)
		for i := 0; i < h; i++ {
			md.pointForecast(x, e.Phi, one)
			f := one[0]
			eps := sigma * rng.NormFloat64()
			y := f + eps
			if md.multErr {
				y = f * (1 + eps)
			}
			paths[i*simPaths+s] = y
			// One step of the state update, states newest first.
			l := x[0]
			q, phib := l, 0.0
			if md.trend {
				phib = e.Phi * x[1]
				q = l + phib
			}
			so := x[len(x)-1]
			pv := y
			switch md.season {
			case 'A':
				pv = y - so
			case 'M':
				pv = y / so
			}
			x[0] = q + e.Alpha*(pv-q)
			if md.trend {
				x[1] = phib + e.Beta/e.Alpha*((x[0]-l)-phib)
			}
			if md.season != 'N' {
				t := y - q
				if md.season == 'M' {
					t = y / q
				}
				copy(x[k+1:], x[k:len(x)-1])
				x[k] = so + e.Gamma*(t-so)
			}
		}
	}
	for i := 0; i < h; i++ {
		col := paths[i*simPaths : (i+1)*simPaths]
		slices.Sort(col)
		for k, lv := range Levels {
			p.Lower[k][i] = stat.Quantile(0.5-lv/200, stat.LinInterp, col, nil)
			p.Upper[k][i] = stat.Quantile(0.5+lv/200, stat.LinInterp, col, nil)
		}
	}
}
