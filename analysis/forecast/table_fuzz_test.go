package forecast

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/ingest"
)

// FuzzReadTable gives the reader of forecast tables (report --forecast
// reads them) arbitrary bytes as a CSV, Parquet or Arrow file. It must
// return curves or an error, never panic, and the curves it returns hold
// each row of the table once (ingest.ReadRecord, its row source, counts
// them).
func FuzzReadTable(f *testing.F) {
	dir := f.TempDir()
	series := workload(2)
	series[1].Values = series[1].Values[:14]
	res := Run(series, Config{Method: MethodETS, Horizon: 3, Season: 12})
	exts := []string{".csv", ".parquet", ".arrow"}
	for i, ext := range exts {
		path := filepath.Join(dir, "good"+ext)
		if err := WriteTable(path, Month, res); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(i))
	}
	const header = "group,period,period_start,kind,value,lower_80,upper_80,lower_95,upper_95,method\n"
	f.Add([]byte(header+"a,2021-01,2021-01-01,history,1,,,,,ETS\na,2021-02,2021-02-01,forecast,2,1,3,0,4,ETS\n"), uint8(0))
	f.Add([]byte(header+"a,2021-01,2021-01-01,forecast,1,,,,,ETS\na,2021-02,2021-02-01,history,2,1,3,0,4,ETS\n"), uint8(0))
	f.Add([]byte(header+"a,2021-01,2021-01-01,history,,,,,,\nb,x,2021-02-01,forecast,NaN,1,3,0,4,\na,,,history,1,,,,,\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, ext uint8) {
		in := filepath.Join(dir, "in"+exts[int(ext)%len(exts)])
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		curves, err := ReadTable(in)
		if err != nil {
			return
		}
		points := 0
		for i, c := range curves {
			if len(c.History)+len(c.Forecast) == 0 {
				t.Fatalf("curve %d (%q) has no points", i, c.Group)
			}
			points += len(c.History) + len(c.Forecast)
		}
		rec, err := ingest.ReadRecord(in, func([]string) (*arrow.Schema, error) { return TableSchema, nil })
		if err != nil {
			t.Fatalf("ReadTable accepted a table ReadRecord refuses: %v", err)
		}
		defer rec.Release()
		if int64(points) != rec.NumRows() {
			t.Fatalf("%d points in the curves for %d rows", points, rec.NumRows())
		}
	})
}
