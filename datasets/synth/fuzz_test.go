package synth

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// FuzzConfig feeds arbitrary configurations (as the CLI flags would) to the
// generator: New either refuses them with an error or the data it produces
// keeps the invariants, and the trade statistics add up to the
// declarations. Nothing may panic.
func FuzzConfig(f *testing.F) {
	f.Add(uint16(500), uint64(1), 0.06, 1.0, uint16(300), uint32(5000), uint16(250), uint8(12), uint8(20), uint16(365), uint8(38))
	f.Add(uint16(1), uint64(0), 0.0, 0.0, uint16(2), uint32(1), uint16(1), uint8(3), uint8(0), uint16(0), uint8(0))
	f.Add(uint16(2000), uint64(99), 0.5, 0.5, uint16(20), uint32(10), uint16(2), uint8(4), uint8(3), uint16(800), uint8(44))
	f.Add(uint16(100), uint64(3), math.NaN(), math.Inf(1), uint16(0), uint32(0), uint16(0), uint8(0), uint8(255), uint16(65535), uint8(255))
	f.Fuzz(func(t *testing.T, rows uint16, seed uint64, fraud, label float64, hs uint16, imps uint32, decs uint16, offices, flows uint8, days uint16, rep uint8) {
		cfg := DefaultConfig()
		cfg.Rows = int64(rows % 3000)
		cfg.Seed = seed
		cfg.FraudRate, cfg.LabelRate = fraud, label
		cfg.NumHS = int(hs % 2000)
		cfg.NumImporters = int(imps % 20000)
		cfg.NumDeclarants, cfg.NumSellers = int(decs%500), int(decs%700)+1
		cfg.NumOffices = int(offices)
		cfg.UnderdeclaredFlows = int(flows % 40)
		cfg.End = cfg.Start.AddDate(0, 0, int(days%4000))
		cfg.Reporter = countries[int(rep)%len(countries)].iso
		cfg.BatchSize = 256
		g, err := New(cfg)
		if err != nil {
			if err.Error() == "" || strings.Contains(err.Error(), "%!") {
				t.Fatalf("malformed error %q", err)
			}
			return
		}
		tb := collect(t, g)
		if int64(tb.len()) != cfg.Rows {
			t.Fatalf("%d rows, want %d", tb.len(), cfg.Rows)
		}
		declared := int64(0)
		for i := range tb.id {
			if !(tb.gross[i] >= tb.net[i] && tb.net[i] > 0 && tb.cif[i] >= tb.fob[i] && tb.fob[i] > 0) {
				t.Fatalf("row %d: net %v gross %v fob %v cif %v", i, tb.net[i], tb.gross[i], tb.fob[i], tb.cif[i])
			}
			if tb.labelled[i] && ((tb.illicit[i] == 1) != (tb.fraud[i] != FraudNone) || (tb.revenue[i] > 0) != (tb.illicit[i] == 1)) {
				t.Fatalf("row %d: illicit %d revenue %v fraud %q", i, tb.illicit[i], tb.revenue[i], tb.fraud[i])
			}
			declared += int64(math.Round(tb.cif[i] * 100))
		}
		var trade, truth bytes.Buffer
		if err := g.TradeStatistics(&trade); err != nil {
			t.Fatal(err)
		}
		if err := g.Truth(&truth); err != nil {
			t.Fatal(err)
		}
		_, recs := readCSV(t, trade.Bytes())
		imports := int64(0)
		for _, r := range recs {
			if r["Trade Flow Code"] == "1" {
				imports += parseCents(t, r["Trade Value (US$)"])
			}
		}
		if imports != declared {
			t.Fatalf("imports %d cents, declarations %d", imports, declared)
		}
	})
}
