package rank

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

func FuzzReadRankedCSV(f *testing.F) {
	f.Add("rank,declaration_id,score,expected_revenue,lane,reasons,model_id,run_id\n1,D1,0.9,12.5,red,\"a; b, c\",m,r\n2,D2,0.1,0,green,,m,r\n")
	f.Add("rank,declaration_id,score,expected_revenue,lane,reasons,model_id,run_id\n1,D1,x,1,red,,m,r\n")
	f.Add("rank,declaration_id,score,expected_revenue,lane,reasons,model_id,run_id\n1,D1,0.5,1,blue,,m,r\n")
	f.Add("rank,id\n1,D1\n")
	f.Fuzz(func(t *testing.T, doc string) {
		var rows []Row
		err := readCSV(strings.NewReader(doc), func(r Row) error {
			rows = append(rows, r)
			return nil
		})
		if err != nil {
			return
		}
		head, herr := csv.NewReader(strings.NewReader(doc)).Read()
		// score --keep and --contributions add columns after Header's
		// (readCSV reads them since 0749ce8; the target still wanted Header alone)
		if herr != nil || len(head) < len(Header) || !slices.Equal(head[:len(Header)], Header) {
			t.Fatalf("accepted a file without the ranked header: %q", doc)
		}
		for _, r := range rows {
			if r.Rank == 0 && r.DeclarationID == "" && r.Lane == "" {
				t.Fatalf("an empty row was accepted from %q", doc)
			}
		}
	})
}
