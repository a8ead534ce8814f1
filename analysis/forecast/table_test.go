package forecast

import (
	"math"
	"path/filepath"
	"testing"
)

// TestReadTableRoundTrip: the forecast table reads back as the curves that
// were written, in every format.
func TestReadTableRoundTrip(t *testing.T) {
	series := workload(3)
	series[1].Values = series[1].Values[:20]
	res := Run(series, Config{Method: MethodETS, Horizon: 6, Season: 12})
	for _, name := range []string{"f.csv", "f.parquet", "f.arrow"} {
		path := filepath.Join(t.TempDir(), name)
		if err := WriteTable(path, Month, res); err != nil {
			t.Fatal(err)
		}
		curves, err := ReadTable(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(curves) != len(res) {
			t.Fatalf("%s: %d curves", name, len(curves))
		}
		for i, c := range curves {
			r := res[i]
			if c.Group != r.Series.Group || c.Method != r.Model.Name || len(c.History) != len(r.Series.Values) || len(c.Forecast) != 6 {
				t.Fatalf("%s: curve %d: %s %s %d %d", name, i, c.Group, c.Method, len(c.History), len(c.Forecast))
			}
			if c.History[3].Value != r.Series.Values[3] || !math.IsNaN(c.History[3].Lower95) {
				t.Fatalf("%s: history %+v", name, c.History[3])
			}
			f := c.Forecast[5]
			if f.Value != r.Prediction.Mean[5] || f.Lower80 != r.Prediction.Lower[0][5] || f.Upper95 != r.Prediction.Upper[1][5] {
				t.Fatalf("%s: forecast %+v", name, f)
			}
			if f.Period != Month.Label(r.Series.First+int32(len(r.Series.Values)+5)) {
				t.Fatalf("%s: period %s", name, f.Period)
			}
		}
	}
}
