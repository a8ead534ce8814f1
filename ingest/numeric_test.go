package ingest

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNumericReadsNumbersAndMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.csv")
	os.WriteFile(path, []byte("id,b,a,label\nr1,1.5,,1\nr2,NA,-2e3,0\nr3, 7 ,NaN,\n"), 0o644)
	tb, err := OpenNumeric(path, []string{"a", "b"}, "id")
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	x := make([]float64, 8)
	ids := make([]string, 4)
	n, err := tb.Read(x, ids, 4)
	if err != nil || n != 3 {
		t.Fatalf("read %d rows, %v", n, err)
	}
	want := []float64{math.NaN(), 1.5, -2000, math.NaN(), math.NaN(), 7}
	for i, w := range want {
		if x[i] != w && !(math.IsNaN(w) && math.IsNaN(x[i])) {
			t.Errorf("value %d: %v, want %v", i, x[i], w)
		}
	}
	if strings.Join(ids[:3], ",") != "r1,r2,r3" {
		t.Errorf("ids %v", ids[:3])
	}
}

// FuzzNumeric: whatever the bytes, reading a numeric table never panics, and what it
// returns is a number or NaN, never an infinity.
func FuzzNumeric(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n,NA\n"))
	f.Add([]byte("b,a,id\n1e308,-0,x\n\"1\",2\n"))
	f.Add([]byte("a,b\n1,Inf\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "t.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tb, err := OpenNumeric(path, []string{"a", "b"}, "")
		if err != nil {
			return
		}
		defer tb.Close()
		x := make([]float64, 2*16)
		for {
			n, err := tb.Read(x, nil, 16)
			if err != nil || n == 0 {
				return
			}
			for _, v := range x[:2*n] {
				if math.IsInf(v, 0) {
					t.Fatalf("infinite value from %q", data)
				}
			}
		}
	})
}
