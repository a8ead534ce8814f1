package rank

import (
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkWriteRanked writes 1M ranked rows to a Parquet file a rank range
// at a time: "serial" through WriteExtra (one goroutine encodes), "groups"
// through EncodeGroup on GOMAXPROCS goroutines and WriteGroup in order,
// "parquet-go" with the writer the ranked file had before sink's encoder
// (writeParquetGo, one goroutine), the yardstick. rows/s is the wall rate,
// cpu-ns/row the process's CPU per row.
func BenchmarkWriteRanked(b *testing.B) {
	rows := groupRows(1 << 20)
	var ranges [][]Row
	for r := rows; len(r) > 0; r = r[min(len(r), RowGroupRows):] {
		ranges = append(ranges, r[:min(len(r), RowGroupRows)])
	}
	dir := b.TempDir()
	for _, mode := range []string{"parquet-go", "serial", "groups"} {
		b.Run(mode, func(b *testing.B) {
			cpu0 := cpuSeconds()
			for range b.N {
				if mode == "parquet-go" {
					writeParquetGo(b, filepath.Join(dir, "r.parquet"), Config{}, rows, nil)
					continue
				}
				w, err := Create(filepath.Join(dir, "r.parquet"))
				if err != nil {
					b.Fatal(err)
				}
				if mode == "serial" {
					for _, r := range ranges {
						if err := w.WriteExtra(r, nil); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					groups := make([]chan *Group, len(ranges))
					sem := make(chan struct{}, runtime.GOMAXPROCS(0))
					var wg sync.WaitGroup
					for i, r := range ranges {
						groups[i] = make(chan *Group, 1)
						wg.Add(1)
						go func() {
							defer wg.Done()
							sem <- struct{}{}
							g, err := w.EncodeGroup(r, nil)
							<-sem
							if err != nil {
								b.Error(err)
							}
							groups[i] <- g
						}()
					}
					for _, c := range groups {
						if err := w.WriteGroup(<-c); err != nil {
							b.Fatal(err)
						}
					}
					wg.Wait()
				}
				if _, err := w.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(len(rows) * b.N)
			b.ReportMetric(n/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric((cpuSeconds()-cpu0)*1e9/n, "cpu-ns/row")
		})
	}
}
