package forecast

import (
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

// workload returns n monthly series of length 48, shaped like duty revenue
// per HS4 heading: level, trend, season and noise differing by group, all
// positive, so that every one of the 15 ETS models is fitted (the worst
// case for time).
func workload(n int) []Series {
	rng := rand.New(rand.NewPCG(10000, 48))
	out := make([]Series, n)
	for i := range out {
		lvl := math.Exp(6 + 3*rng.Float64())
		trend := 0.02 * rng.NormFloat64()
		amp := 0.4 * rng.Float64()
		phase := 2 * math.Pi * rng.Float64()
		noise := 0.05 + 0.2*rng.Float64()
		v := make([]float64, 48)
		for t := range v {
			v[t] = lvl * math.Exp(trend*float64(t)) * (1 + amp*math.Sin(2*math.Pi*float64(t)/12+phase)) * math.Exp(noise*rng.NormFloat64())
		}
		out[i] = Series{Group: fmt.Sprintf("g%05d", i), Values: v}
	}
	return out
}

// benchSeries returns the series to benchmark: the worst-case workload of
// RISKLANE_FORECAST_SERIES (default 10,000) series, or the monthly series
// of the CSV file RISKLANE_FORECAST_SERIES_FILE (group,value in time order,
// as the history rows of risklane forecast's output), for timing real
// grouped data.
func benchSeries(b *testing.B) []Series {
	path := os.Getenv("RISKLANE_FORECAST_SERIES_FILE")
	if path == "" {
		n := 10000
		if v, err := strconv.Atoi(os.Getenv("RISKLANE_FORECAST_SERIES")); err == nil && v > 0 {
			n = v
		}
		return workload(n)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var out []Series
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		g, v, ok := strings.Cut(line, ",")
		x, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			b.Fatalf("%s line %d: want group,value, got %q", path, i+2, line)
		}
		if len(out) == 0 || out[len(out)-1].Group != g {
			out = append(out, Series{Group: g})
		}
		out[len(out)-1].Values = append(out[len(out)-1].Values, x)
	}
	return out
}

// BenchmarkRun forecasts the benchmark series (benchSeries: by default
// 10,000 worst-case monthly series) with ETS selected by AICc, 12 months
// ahead with intervals, on all cores.
func BenchmarkRun(b *testing.B) {
	s := benchSeries(b)
	c0 := cpuTime()
	for b.Loop() {
		Run(s, Config{Method: MethodETS, Horizon: 12, Season: 12})
	}
	// CPU seconds per 10,000 series, halved: the wall time on two idle
	// cores, which a loaded machine's wall time overstates.
	cpu := (cpuTime() - c0).Seconds() / float64(b.N)
	b.ReportMetric(cpu/float64(len(s))*10000/2, "s/10k-series-2-idle-cores")
	secs := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(len(s))/secs, "series/s")
	b.ReportMetric(secs/float64(len(s))*10000, "s/10k-series")
}

// BenchmarkR times R's ets() + forecast() on RISKLANE_R_SERIES of the
// benchmark series (default 100, spread evenly over them: R takes about half
// a second a series, so all 10,000 would take hours), one R process, in CPU
// seconds; compare with BenchmarkRun's CPU-based figure, measured in the
// same run. A series R cannot fit (too short) counts its time as the others.
// It skips without R.
func BenchmarkR(b *testing.B) {
	rs := testenv.Rscript(b, "forecast")
	n := 100
	if v, err := strconv.Atoi(os.Getenv("RISKLANE_R_SERIES")); err == nil && v > 0 {
		n = v
	}
	all := benchSeries(b)
	n = min(n, len(all))
	s := make([]Series, n)
	for i := range s {
		s[i] = all[i*len(all)/n]
	}
	dir := b.TempDir()
	var csv bytes.Buffer
	csv.WriteString("group,value\n")
	for _, x := range s {
		for _, v := range x.Values {
			fmt.Fprintf(&csv, "%s,%.17g\n", x.Group, v)
		}
	}
	data := filepath.Join(dir, "series.csv")
	if err := os.WriteFile(data, csv.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	script := `suppressMessages(library(forecast))
d <- read.csv(commandArgs(TRUE)[1])
t0 <- proc.time()
for (g in unique(d$group)) { f <- try(forecast(ets(ts(d$value[d$group == g], frequency = 12)), h = 12), silent = TRUE) }
t1 <- proc.time() - t0
cat(t1[["user.self"]] + t1[["sys.self"]], "\n")`
	var secs float64
	for b.Loop() {
		out, err := exec.Command(rs, "-e", script, data).Output()
		if err != nil {
			b.Fatalf("Rscript: %v", err)
		}
		secs, err = strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil {
			b.Fatalf("Rscript printed %q", out)
		}
	}
	// CPU seconds (R is single-threaded), per 10,000 series on two idle
	// cores, comparable with BenchmarkRun's metric of the same name.
	b.ReportMetric(secs/float64(n)*10000/2, "s/10k-series-2-idle-cores")
}
