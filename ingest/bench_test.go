package ingest

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"
)

// benchRows is the size of the benchmark input: RISKLANE_BENCH_ROWS, or a
// million rows.
func benchRows(b *testing.B) int {
	if s := os.Getenv("RISKLANE_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("RISKLANE_BENCH_ROWS=%q is not a positive number", s)
		}
		return n
	}
	return 1_000_000
}

// benchInput is the CSV the ingest benchmarks read and its row count:
// RISKLANE_BENCH_CSV, a DATE-layout file of clean rows (`risklane generate
// --format date` writes one, as bench/suite.py does), else benchRows rows
// written by writeDateCSV into dir.
func benchInput(b *testing.B, dir string) (string, int) {
	if in := os.Getenv("RISKLANE_BENCH_CSV"); in != "" {
		data, err := os.ReadFile(in)
		if err != nil {
			b.Fatal(err)
		}
		return in, bytes.Count(data, []byte("\n")) - 1
	}
	n := benchRows(b)
	in := filepath.Join(dir, "declarations.csv")
	writeDateCSV(b, in, n)
	return in, n
}

// writeDateCSV writes n deterministic declarations in the DATE layout
// (see profile.DATE), as pandas would: full-precision floats, two-digit-year
// dates, tariff codes whose leading zero was dropped.
func writeDateCSV(tb testing.TB, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(dateHeader)
	rng := rand.New(rand.NewPCG(1, 2))
	codes := make([]int64, 5000)
	for i := range codes {
		codes[i] = 100000000 + rng.Int64N(9900000000)
	}
	day := time.Date(2013, 1, 2, 0, 0, 0, 0, time.UTC)
	var line []byte
	for i := 0; i < n; i++ {
		if i%5000 == 4999 {
			day = day.AddDate(0, 0, 1)
		}
		cif := rng.ExpFloat64() * 20000
		illicit := rng.IntN(20) == 0
		line = line[:0]
		line = append(line, "SGD"...)
		line = strconv.AppendInt(line, int64(i+1), 10)
		line = append(line, ',')
		line = day.AppendFormat(line, "06-01-02")
		line = append(line, ",IMP"...)
		line = strconv.AppendInt(line, int64(rng.IntN(200000)), 10)
		line = append(line, ",DEC"...)
		line = strconv.AppendInt(line, int64(rng.IntN(5000)), 10)
		line = append(line, ",CNTRY"...)
		line = strconv.AppendInt(line, int64(rng.IntN(900)), 10)
		line = append(line, ",OFFICE"...)
		line = strconv.AppendInt(line, int64(rng.IntN(100)), 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, codes[rng.IntN(len(codes))], 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(1+rng.IntN(20000)), 10)
		line = append(line, ',')
		line = strconv.AppendFloat(line, rng.ExpFloat64()*5000, 'f', 6, 64)
		line = append(line, ',')
		line = strconv.AppendFloat(line, cif*0.8, 'f', 6, 64)
		line = append(line, ',')
		line = strconv.AppendFloat(line, cif, 'f', 6, 64)
		line = append(line, ',')
		line = strconv.AppendFloat(line, cif*0.15, 'f', 6, 64)
		if illicit {
			line = append(line, ",1,"...)
			line = strconv.AppendFloat(line, cif*0.1, 'f', 2, 64)
		} else {
			line = append(line, ",0,0"...)
		}
		line = append(line, '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkIngestCSVToParquet reads a DATE-layout CSV through the date
// profile and writes Parquet through sink, as `risklane ingest`
// does, with the CSV parsed on one goroutine (parse=serial) and on
// GOMAXPROCS workers (parse=parallel, what ingest does). It reports rows/s,
// input MB/s, the share of the Ps' time left idle and the process's peak
// resident memory. Size: RISKLANE_BENCH_ROWS (default 1,000,000).
func BenchmarkIngestCSVToParquet(b *testing.B) {
	dir := b.TempDir()
	in, n := benchInput(b, dir)
	st, err := os.Stat(in)
	if err != nil {
		b.Fatal(err)
	}
	p := mustProfile(b, "date")
	out := filepath.Join(dir, "out.parquet")
	for _, mode := range []struct {
		name    string
		workers int
	}{{"serial", 1}, {"parallel", 0}} {
		b.Run("parse="+mode.name, func(b *testing.B) {
			var idle, total float64
			cpu0 := processCPU()
			for b.Loop() {
				i0, t0 := cpuClasses()
				s := ingestTo(b, []string{in}, p, out, Options{ReuseMemory: true, workers: mode.workers})
				if s.Accepted != int64(n) {
					b.Fatalf("stats %+v, want %d accepted", s, n)
				}
				i1, t1 := cpuClasses()
				idle, total = idle+i1-i0, total+t1-t0
			}
			cpu := processCPU() - cpu0
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(n)*float64(b.N)/secs, "rows/s")
			b.ReportMetric(float64(st.Size())*float64(b.N)/1e6/secs, "MB/s")
			if cpu > 0 {
				b.ReportMetric(cpu*1e9/(float64(n)*float64(b.N)), "cpu-ns/row")
			}
			if total > 0 {
				b.ReportMetric(100*idle/total, "P-idle-%")
			}
			if rss := peakRSS(); rss > 0 {
				b.ReportMetric(float64(rss)/1e6, "peak-RSS-MB")
			}
		})
	}
}

// cpuClasses returns the runtime's estimate of the CPU time its Ps were idle
// (no goroutine to run) and the total they had (GOMAXPROCS times the wall
// time), in seconds: the idle share is the part of the cores a pipeline
// leaves unused for want of work, whatever else the machine runs.
func cpuClasses() (idle, total float64) {
	m := []metrics.Sample{{Name: "/cpu/classes/idle:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}}
	runtime.GC() // the CPU classes are updated at the end of a GC cycle
	metrics.Read(m)
	return m[0].Value.Float64(), m[1].Value.Float64()
}

// peakRSS returns the process's peak resident set size in bytes (VmHWM on
// Linux), or 0 where that is not available.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// BenchmarkReadCSV is the parsing half of BenchmarkIngestCSVToParquet: the
// same input read into record batches and dropped.
func BenchmarkReadCSV(b *testing.B) {
	in, n := benchInput(b, b.TempDir())
	st, err := os.Stat(in)
	if err != nil {
		b.Fatal(err)
	}
	p := mustProfile(b, "date")
	for b.Loop() {
		r, err := Open(in, p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for r.Next() {
		}
		if s := r.Stats(); s.Accepted != int64(n) || r.Err() != nil {
			b.Fatalf("stats %+v, err %v", s, r.Err())
		}
		r.Close()
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(n)*float64(b.N)/secs, "rows/s")
	b.ReportMetric(float64(st.Size())*float64(b.N)/1e6/secs, "MB/s")
}
