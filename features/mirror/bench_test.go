package mirror

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// benchStatistics writes n bulk-layout rows: KEN's imports from 20
// partners and their exports back, over distinct HS6 codes.
func benchStatistics(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Classification,Year,Period,Aggregate Level,Trade Flow Code,Reporter Code,Reporter ISO,Partner Code,Partner ISO,Commodity Code,Qty Unit Code,Qty,Netweight (kg),Trade Value (US$),CIF Trade Value (US$),FOB Trade Value (US$)\n")
	partners := []string{"CHN", "IND", "ARE", "JPN", "USA", "DEU", "ZAF", "SAU", "GBR", "ITA", "FRA", "NLD", "TUR", "IDN", "MYS", "VNM", "THA", "KOR", "PAK", "BEL"}
	for i := 0; i < n; i++ {
		p := partners[i%len(partners)]
		hs := fmt.Sprintf("%06d", 10000+(i/(2*len(partners)))%990000)
		if i%2 == 0 {
			fmt.Fprintf(&b, "HS,2024,2024,6,1,404,KEN,0,%s,%s,8,%d.5,%d.5,%d.25,%d.25,\n", p, hs, 100+i%977, 100+i%977, 5000+i%7919, 5000+i%7919)
		} else {
			fmt.Fprintf(&b, "HS,2024,2024,6,2,0,%s,404,KEN,%s,8,%d.5,%d.5,%d.10,,%d.10\n", p, hs, 100+i%977, 100+i%977, 4800+i%7919, 4800+i%7919)
		}
	}
	return b.Bytes()
}

func BenchmarkAnalyze(b *testing.B) {
	const rows = 200_000
	data := benchStatistics(rows)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		bl, _ := NewBuilder(DefaultConfig("KEN"))
		if err := bl.Read(bytes.NewReader(data), "bench.csv"); err != nil {
			b.Fatal(err)
		}
		if _, err := bl.Gaps(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkApply(b *testing.B) {
	bl, _ := NewBuilder(DefaultConfig("KEN"))
	if err := bl.Read(bytes.NewReader(benchStatistics(20_000)), "bench.csv"); err != nil {
		b.Fatal(err)
	}
	g, err := bl.Gaps()
	if err != nil {
		b.Fatal(err)
	}
	s := g.Signals()
	const rows = 64 * 1024
	origin := make([]string, rows)
	hs := make([]string, rows)
	year := make([]int32, rows)
	countries := strings.Fields("CHN CN IND IN USA DEU JPN KEN UGA")
	for i := range rows {
		origin[i] = countries[i%len(countries)]
		hs[i] = fmt.Sprintf("%06d0000", 10000+(i*7)%600)
		year[i] = 2024
	}
	var out SignalColumns
	b.ResetTimer()
	for range b.N {
		if err := s.Apply(origin, hs, year, &out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
