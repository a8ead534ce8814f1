package mirror_test

import (
	"fmt"

	"risklane/features/mirror"
)

// The hand-worked case of testdata/README.md: Kenya's imports in 2021
// against China's and India's exports.
func ExampleAnalyze() {
	cfg := mirror.DefaultConfig("KEN")
	cfg.MinValue = 1000
	g, err := mirror.Analyze(cfg, "testdata/handworked_bulk.csv", "testdata/handworked_api.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	s := g.Summary
	fmt.Printf("read %d = used %d + rejected %d\n", s.Read, s.Used, s.Rejected)
	for _, f := range g.Flows[:s.Ranked] {
		fmt.Printf("%d %s %s: imports FOB %s, exports FOB %s, gap %s\n", f.Rank, f.Partner, f.HS, f.ImportFOB, f.ExportFOB, f.ValueGap)
	}
	sig := g.Signals().Lookup("CN", "8517120000", 2021)
	fmt.Printf("a declaration of HS 8517120000 from CN in 2021: HS%d flow, relative gap %.3f\n", sig.Level, sig.RelGap)
	// Output:
	// read 19 = used 19 + rejected 0
	// 1 CHN 851712: imports FOB 100,000.00, exports FOB 150,000.00, gap 50,000.00
	// 2 IND 100630: imports FOB 190,000.00, exports FOB 230,000.00, gap 40,000.00
	// 3 CHN 851762: imports FOB 11,223.34, exports FOB 12,000.00, gap 776.66
	// 4 IND 520100: imports FOB 60,000.00, exports FOB 57,000.00, gap -3,000.00
	// a declaration of HS 8517120000 from CN in 2021: HS6 flow, relative gap 0.333
}
