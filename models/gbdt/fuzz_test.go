package gbdt

import (
	"math"
	"testing"

	"risklane/models/xgb"
)

// FuzzTrain feeds Train small matrices of awkward values (NaN, signed zeros,
// float32's extremes, subnormals, ties) under varied parameters. Train may
// refuse the input, but never panics; when it trains, every value in the
// model is finite, the model validates, and it reproduces the training
// margins bit for bit.
func FuzzTrain(f *testing.F) {
	f.Add([]byte{5, 1, 3, 10, 0, 1, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{40, 3, 7, 255, 1, 0, 0, 3, 200, 100, 50, 25, 12, 6, 3, 1, 0, 255, 254, 253})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 9})
	f.Add([]byte{20, 2, 5, 1, 2, 2, 2, 1, 250, 251, 252, 253, 254, 255, 250, 251, 252, 253})
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}
		rows := 1 + int(next())%48
		cols := 1 + int(next())%4
		p := DefaultParams()
		p.NumRounds, p.NumThreads = 4, 2
		p.MaxDepth = 1 + int(next())%7
		p.MaxBin = 2 + int(next())%255
		mode := next()
		if mode&1 == 1 {
			p.Objective = xgb.RegSquaredError
		}
		p.Lambda = float64(next() % 3)
		p.MinChildWeight = float64(next()%3) / 2
		if mode&2 != 0 {
			p.Subsample, p.ColsampleByNode = 0.6, 0.5
		}
		p.Alpha = float64(mode>>2&1) * 0.5
		p.Gamma = float64(mode>>3&1) * 0.1
		value := func(b byte) float64 {
			switch b {
			case 250:
				return math.NaN()
			case 251:
				return math.Copysign(0, -1)
			case 252:
				return math.MaxFloat32
			case 253:
				return -math.MaxFloat32
			case 254:
				return 1e-42 // a float32 subnormal
			case 255:
				return 1e30
			}
			return float64(int(b)%17) - 8 // few values: many ties
		}
		X := &Matrix{Rows: rows, Cols: make([][]float64, cols)}
		for j := range X.Cols {
			X.Cols[j] = make([]float64, rows)
			for i := range rows {
				X.Cols[j][i] = value(next())
			}
		}
		y := make([]float64, rows)
		for i := range y {
			b := next()
			if p.Objective == xgb.RegSquaredError {
				y[i] = float64(int(b) - 128)
				if b == 255 {
					y[i] = 1e20
				}
			} else {
				y[i] = float64(b & 1)
			}
		}
		c, err := newConfig(p)
		if err != nil {
			t.Fatal(err) // the parameters built above are all valid
		}
		if err := checkData(X, y, nil, nil, c); err != nil {
			return
		}
		tr, err := newTrainer(X, y, nil, nil, c)
		if err != nil {
			return
		}
		model, _, err := tr.run()
		if err != nil {
			return
		}
		if err := model.Validate(); err != nil {
			t.Fatalf("model does not validate: %v", err)
		}
		pred := predictMargins(t, model, X)
		for i, m := range tr.margin {
			if math.IsNaN(float64(m)) || math.IsInf(float64(m), 0) {
				t.Fatalf("row %d: margin %v", i, m)
			}
			if math.Float32bits(m) != math.Float32bits(pred[i]) {
				t.Fatalf("row %d: trained margin %v, model predicts %v", i, m, pred[i])
			}
		}
	})
}
