package ingest

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/parquet-go/parquet-go"

	"risklane/decl"
	"risklane/internal/testenv"
)

// kcsExpect is the canonical form of one KCS row as the brief and the KCS
// README define it, computed by the reference readers below.
type kcsExpect struct {
	Str     map[string]*string
	Num     map[string]*float64
	Date    int32
	Illicit int32
}

// kcsStrings maps canonical or extra names to KCS source columns.
var kcsStrings = map[string]string{
	"declaration_id": "Declaration ID", "office_id": "Office ID", "importer_id": "Importer ID",
	"declarant_id": "Declarant ID", "seller_id": "Seller ID", "hs_code": "HS6 Code",
	"origin_country": "Country of Origin", "departure_country": "Country of Departure",
	"process_type": "Process Type", "import_type": "Import Type", "import_use": "Import Use",
	"payment_type": "Payment Type", "mode_of_transport": "Mode of Transport", "courier_id": "Courier ID",
	"tax_type": "Tax Type", "country_of_origin_indicator": "Country of Origin Indicator",
	"critical_fraud": "Critical Fraud",
}

var kcsNumbers = map[string]string{"net_mass_kg": "Net Mass", "cif_value": "Item Price", "tax_rate": "Tax Rate"}

// The Python reference: the csv module and float(), nothing of risklane.
// Each row is written as [strings..., numbers..., date, illicit], with the
// names in the order given, to keep the JSON small.
const kcsPython = `
import csv, json, sys, datetime
strs = json.loads(sys.argv[2]); nums = json.loads(sys.argv[3])
epoch = datetime.date(1970, 1, 1)
out = []
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    for r in csv.DictReader(f):
        illicit = int(r['Fraud'])
        row = [r[v] if r[v] != '' else None for k, v in strs]
        row += [float(r[v]) for k, v in nums]
        row.append(illicit * float(r['Item Price']) * float(r['Tax Rate']) / 100)
        row.append((datetime.date.fromisoformat(r['Date']) - epoch).days)
        row.append(illicit)
        out.append(row)
json.dump(out, sys.stdout)
`

func kcsReference(t *testing.T, path string) []kcsExpect {
	var strs, nums [][2]string
	for _, k := range sortedNames(kcsStrings) {
		strs = append(strs, [2]string{k, kcsStrings[k]})
	}
	for _, k := range sortedNames(kcsNumbers) {
		nums = append(nums, [2]string{k, kcsNumbers[k]})
	}
	sj, _ := json.Marshal(strs)
	nj, _ := json.Marshal(nums)
	py := testenv.Python(&skipCatcher{TB: t}, "csv", "json")
	if py == "" {
		t.Logf("no Python: reference is Go's encoding/csv and strconv")
		return kcsGoReference(t, path)
	}
	out, err := exec.Command(py, "-c", kcsPython, path, string(sj), string(nj)).Output()
	if err != nil {
		t.Fatalf("python reference: %v", err)
	}
	var rows [][]any
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatal(err)
	}
	exp := make([]kcsExpect, len(rows))
	for i, row := range rows {
		e := kcsExpect{Str: map[string]*string{}, Num: map[string]*float64{}}
		for j, kv := range strs {
			if s, ok := row[j].(string); ok {
				e.Str[kv[0]] = &s
			}
		}
		for j, kv := range nums {
			x := row[len(strs)+j].(float64)
			e.Num[kv[0]] = &x
		}
		rev := row[len(row)-3].(float64)
		e.Num["revenue"] = &rev
		e.Date = int32(row[len(row)-2].(float64))
		e.Illicit = int32(row[len(row)-1].(float64))
		exp[i] = e
	}
	t.Logf("reference: Python csv module (%s)", py)
	return exp
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// skipCatcher swallows testenv's Skipf (testenv.Python then returns ""),
// so that a missing Python selects the Go reference instead of skipping the
// whole test.
type skipCatcher struct{ testing.TB }

func (s *skipCatcher) Skipf(string, ...any) {}

func kcsGoReference(t *testing.T, path string) []kcsExpect {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var exp []kcsExpect
	for _, r := range recs[1:] {
		e := kcsExpect{Str: map[string]*string{}, Num: map[string]*float64{}}
		for k, v := range kcsStrings {
			if s := r[col[v]]; s != "" {
				e.Str[k] = &s
			}
		}
		for k, v := range kcsNumbers {
			x, err := strconv.ParseFloat(r[col[v]], 64)
			if err != nil {
				t.Fatal(err)
			}
			e.Num[k] = &x
		}
		d, err := time.Parse("2006-01-02", r[col["Date"]])
		if err != nil {
			t.Fatal(err)
		}
		e.Date = int32(d.Unix() / 86400)
		il, _ := strconv.Atoi(r[col["Fraud"]])
		e.Illicit = int32(il)
		rev := float64(il) * *e.Num["cif_value"] * *e.Num["tax_rate"] / 100
		e.Num["revenue"] = &rev
		exp = append(exp, e)
	}
	return exp
}

// TestKCSIngestParquet ingests the KCS files with the kcs profile, writes
// Parquet as the ingest command does, and reads it back with parquet-go,
// comparing every value with a reference reading of the source CSV.
func TestKCSIngestParquet(t *testing.T) {
	for _, tc := range []struct {
		file string
		rows int64
	}{{"kcs/train.csv", 37385}, {"kcs/valid.csv", 8134}} {
		t.Run(tc.file, func(t *testing.T) {
			src := testenv.SharedData(t, tc.file)
			out := filepath.Join(t.TempDir(), "out.parquet")
			var rej collect
			st := ingestTo(t, []string{src}, mustProfile(t, "kcs"), out, Options{Rejects: &rej})
			if st.Read != tc.rows || st.Accepted != tc.rows || st.Rejected != 0 {
				t.Fatalf("stats %+v, want all %d rows accepted; first rejects: %v", st, tc.rows, first(rej.got, 5))
			}
			exp := kcsReference(t, src)
			if int64(len(exp)) != tc.rows {
				t.Fatalf("reference has %d rows", len(exp))
			}
			_, cols, meta := pqColumns(t, out)
			checkKCSColumns(t, exp, cols)
			if _, ok := meta["ARROW:schema"]; !ok {
				t.Errorf("no stored Arrow schema in the Parquet metadata")
			}
		})
	}
}

func first(r []Reject, n int) []Reject { return r[:min(n, len(r))] }

func checkKCSColumns(t *testing.T, exp []kcsExpect, cols map[string][]parquet.Value) {
	t.Helper()
	for name := range cols {
		if _, ok := decl.Lookup(name); !ok {
			if _, ok := kcsStrings[name]; !ok {
				t.Errorf("unexpected column %s", name)
			}
		}
	}
	for name := range kcsStrings {
		got := cols[name]
		if len(got) != len(exp) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(exp))
		}
		for i, e := range exp {
			want := e.Str[name]
			switch {
			case want == nil && !got[i].IsNull():
				t.Fatalf("%s row %d: got %q, want null", name, i+1, got[i].ByteArray())
			case want != nil && (got[i].IsNull() || string(got[i].ByteArray()) != *want):
				t.Fatalf("%s row %d: got %v, want %q", name, i+1, got[i], *want)
			}
		}
	}
	for _, name := range []string{"net_mass_kg", "cif_value", "tax_rate", "revenue"} {
		got := cols[name]
		for i, e := range exp {
			if want := *e.Num[name]; got[i].IsNull() || got[i].Double() != want {
				t.Fatalf("%s row %d: got %v, want %v", name, i+1, got[i], want)
			}
		}
	}
	for i, e := range exp {
		if d := cols["date"][i]; d.IsNull() || d.Int32() != e.Date {
			t.Fatalf("date row %d: got %v, want %d", i+1, d, e.Date)
		}
		if il := cols["illicit"][i]; il.IsNull() || il.Int32() != e.Illicit {
			t.Fatalf("illicit row %d: got %v, want %d", i+1, il, e.Illicit)
		}
	}
	for _, name := range []string{"quantity", "gross_weight_kg", "fob_value", "total_taxes"} {
		for i, v := range cols[name] {
			if !v.IsNull() {
				t.Fatalf("%s row %d: got %v, want null (KCS has no such column)", name, i+1, v)
			}
		}
	}
}

// TestKCSSchemaLabels checks that the label extra keeps its role in the
// schema, so that feature code can leave it out.
func TestKCSSchemaLabels(t *testing.T) {
	src := testenv.SharedData(t, "kcs/train.csv")
	r, err := Open(src, mustProfile(t, "kcs"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := r.Schema()
	for _, f := range s.Fields() {
		want := f.Name == "critical_fraud" || f.Name == decl.Illicit || f.Name == decl.Revenue
		if decl.IsLabel(f) != want {
			t.Errorf("%s: IsLabel = %v, want %v", f.Name, decl.IsLabel(f), want)
		}
	}
	if s.Field(fieldIndex(s, decl.Date)).Type.ID() != arrow.DATE32 {
		t.Errorf("date type %s", s.Field(fieldIndex(s, decl.Date)).Type)
	}
	var rows int64
	for r.Next() {
		rec := r.RecordBatch()
		if rec.NumRows() > DefaultBatchSize {
			t.Fatalf("batch of %d rows", rec.NumRows())
		}
		rows += rec.NumRows()
	}
	if rows != 37385 || math.Abs(float64(r.Stats().Accepted-rows)) != 0 {
		t.Fatalf("rows %d, stats %+v", rows, r.Stats())
	}
}
