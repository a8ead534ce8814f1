package simulate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tableHeader = "strategy,period,from,to,rows,budget,inspected,frauds,precision,revenue,fraud_recall,revenue_recall,auc,exploration,retrained\n"

func TestReadTableRefuses(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"order", "gbdt,2,2024-03-11,2024-03-17,10,0.1,1,1,1,5,0.5,0.5,0.9,0,true\n", `period 2, want 1`},
		{"empty", "", "no period"},
		{"cell", "gbdt,1,2024-03-04,2024-03-10,10,0.1,1,1,1,5,0.5,0.5,0.9,0,maybe\n", "not true or false"},
		{"missing", "gbdt,1,2024-03-04,2024-03-10,10,0.1,,1,1,5,0.5,0.5,0.9,0,true\n", `"inspected" is empty`},
	} {
		path := filepath.Join(t.TempDir(), "t.csv")
		if err := os.WriteFile(path, []byte(tableHeader+c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadTable(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "t.csv") {
			t.Errorf("%s: got %v, want an error naming the file and %q", c.name, err, c.want)
		}
	}
}

// FuzzReadTable: any CSV gives rows or an error, never a panic.
func FuzzReadTable(f *testing.F) {
	f.Add([]byte(tableHeader + "gbdt,1,2024-03-04,2024-03-10,10,0.1,1,1,1,5,0.5,0.5,,0,true\n"))
	f.Add([]byte(tableHeader + "gbdt,1,2024-03-04,2024-03-10,10,0.1,1,1,,5,,,,0,false\nrandom,1,2024-03-04,2024-03-10,10,0.1,1,0,0,0,0,0,,1,false\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "f.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rows, err := ReadTable(path)
		if err == nil && len(rows) == 0 {
			t.Fatal("no rows and no error")
		}
	})
}
