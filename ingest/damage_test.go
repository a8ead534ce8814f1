package ingest

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"risklane/decl"
	"risklane/internal/testenv"
)

// KCS column positions used by the damage table.
const (
	kDeclID    = 0
	kDate      = 1
	kImporter  = 9
	kSeller    = 10
	kCourier   = 11
	kHS        = 12
	kTaxRate   = 15
	kNetMass   = 18
	kItemPrice = 19
	kFraud     = 20
)

// damage spoils (or, with ok, legitimately varies) one data row of the KCS
// file. Raw, when set, replaces the whole line.
type damage struct {
	name   string
	edit   func(f []string) []string
	raw    func(line string) string
	column string // expected reject column ("" for the whole row)
	reason string // expected substring of the reason
	ok     bool   // the row must be accepted
	check  func(t *testing.T, row map[string]string)
}

func set(i int, v string) func([]string) []string {
	return func(f []string) []string { f[i] = v; return f }
}

// TestDamagedKCS damages a copy of KCS train.csv in every way the issue
// lists (and a few more), ingests it, and checks that each damaged line is
// in the rejects file with its physical line, column and reason, that every
// other line is kept with its values, and that the counts reconcile.
func TestDamagedKCS(t *testing.T) {
	src := testenv.SharedData(t, "kcs/train.csv")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	header, rows := lines[0], lines[1:]

	damages := []damage{
		{name: "legit quoted comma and newline", edit: set(kCourier, "\"MW,F\nDR\""), ok: true,
			check: func(t *testing.T, r map[string]string) {
				if r["courier_id"] != "MW,F\nDR" {
					t.Errorf("courier_id %q", r["courier_id"])
				}
			}},
		{name: "unparsable number", edit: set(kNetMass, "12.5kg"), column: "Net Mass", reason: "not a number"},
		{name: "negative mass", edit: set(kNetMass, "-3.0"), column: "Net Mass", reason: "negative"},
		{name: "negative value", edit: set(kItemPrice, "-100"), column: "Item Price", reason: "negative"},
		{name: "negative tax rate", edit: set(kTaxRate, "-8"), column: "Tax Rate", reason: "negative"},
		{name: "missing date", edit: set(kDate, ""), column: "Date", reason: "missing date"},
		{name: "missing declaration id", edit: set(kDeclID, "  "), column: "Declaration ID", reason: "missing declaration_id"},
		{name: "missing HS code", edit: set(kHS, ""), column: "HS6 Code", reason: "missing hs_code"},
		{name: "missing mass", edit: set(kNetMass, ""), column: "Net Mass", reason: "no quantity, net mass or gross weight"},
		{name: "impossible date", edit: set(kDate, "2020-02-30"), column: "Date", reason: "not a date"},
		{name: "date in another layout", edit: set(kDate, "31/12/2020"), column: "Date", reason: "not a date"},
		{name: "fewer fields", edit: func(f []string) []string { return f[:len(f)-1] }, reason: "wrong field count: 21 fields"},
		{name: "more fields", edit: func(f []string) []string { return append(f, "X") }, reason: "wrong field count: 23 fields"},
		{name: "invalid UTF-8", edit: set(kImporter, "AB\xffCD"), column: "Importer ID", reason: "invalid UTF-8"},
		{name: "long field", edit: set(kSeller, strings.Repeat("S", 5000)), column: "Seller ID", reason: "longer than the 4096-byte limit"},
		{name: "absurdly long line", edit: set(kCourier, strings.Repeat("C", 200_000)), reason: "record limit"},
		{name: "unclosed quote", edit: set(kSeller, "\"0VKY2BR"), reason: "runs past the end of this line"},
		{name: "bare quote", edit: set(kImporter, "QL\"RUBN9"), reason: "quote inside an unquoted field"},
		{name: "text after closing quote", edit: set(kImporter, "\"QLR\"UBN9"), reason: "after a closing quote"},
		{name: "NaN", edit: set(kItemPrice, "NaN"), column: "Item Price", reason: "not a number"},
		{name: "infinite", edit: set(kItemPrice, "1e999"), column: "Item Price", reason: "not a finite number"},
		{name: "bad HS code", edit: set(kHS, "84A201"), column: "HS6 Code", reason: "HS code"},
		{name: "illicit not 0 or 1", edit: set(kFraud, "2"), column: "Fraud", reason: "illicit value"},
		{name: "legit CRLF", raw: func(l string) string { return l + "\r" }, ok: true},
		{name: "legit blanks around number", edit: func(f []string) []string { f[kNetMass] = " " + f[kNetMass] + " "; return f }, ok: true},
		{name: "legit HS code without leading zero", edit: set(kHS, "10129"), ok: true,
			check: func(t *testing.T, r map[string]string) {
				if r["hs_code"] != "010129" {
					t.Errorf("hs_code %q, want 010129", r["hs_code"])
				}
			}},
		{name: "duplicate declaration id", edit: set(kDeclID, strings.SplitN(rows[3], ",", 2)[0]),
			column: "Declaration ID", reason: "duplicate declaration_id (first on line 5)"},
	}

	// Build the damaged file, tracking the physical line of every record.
	type planned struct {
		d    *damage
		line int64
		id   string
	}
	var b strings.Builder
	b.WriteString(header + "\n")
	line := int64(2)
	var good []planned // accepted rows, in order
	bad := map[int64]*damage{}
	for i, row := range rows {
		var d *damage
		if k := i/500 - 1; i%500 == 250 && k >= 0 && k < len(damages) {
			d = &damages[k]
		}
		text := row
		if d != nil && d.edit != nil {
			text = strings.Join(d.edit(strings.Split(row, ",")), ",")
		}
		if d != nil && d.raw != nil {
			text = d.raw(row)
		}
		if i == 1000 {
			b.WriteString("\n") // a blank line: skipped, not counted
			line++
		}
		b.WriteString(text + "\n")
		switch {
		case d == nil || d.ok:
			good = append(good, planned{d: d, line: line, id: strings.SplitN(row, ",", 2)[0]})
		default:
			bad[line] = d
		}
		line += 1 + int64(strings.Count(text, "\n"))
	}
	if len(bad)+len(good) != len(rows) {
		t.Fatalf("planned %d bad + %d good rows of %d", len(bad), len(good), len(rows))
	}
	dir := t.TempDir()
	path := writeFile(t, dir, "damaged.csv", b.String())

	rejPath := filepath.Join(dir, "rejects.csv")
	rf, err := CreateRejectFile(rejPath)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Abort()
	r, err := Open(path, mustProfile(t, "kcs"), Options{Rejects: rf, BatchSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []map[string]string
	for r.Next() {
		got = append(got, batchRows(r.RecordBatch())...)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if err := rf.Commit(); err != nil {
		t.Fatal(err)
	}

	st := r.Stats()
	if st.Read != int64(len(rows)) || st.Accepted != int64(len(good)) || st.Rejected != int64(len(bad)) ||
		st.Read != st.Accepted+st.Rejected {
		t.Errorf("stats %+v, want read %d = accepted %d + rejected %d", st, len(rows), len(good), len(bad))
	}
	if fs := r.Files(); len(fs) != 1 || fs[0].Stats != st {
		t.Errorf("file stats %+v, total %+v", fs, st)
	}

	// Every good line kept, in order, with its values.
	if len(got) != len(good) {
		t.Fatalf("%d rows accepted, want %d", len(got), len(good))
	}
	for i, g := range good {
		if got[i][decl.DeclarationID] != g.id {
			t.Fatalf("accepted row %d is %s, want %s (line %d)", i, got[i][decl.DeclarationID], g.id, g.line)
		}
		if g.d != nil && g.d.check != nil {
			t.Run(g.d.name, func(t *testing.T) { g.d.check(t, got[i]) })
		}
	}

	// Every bad line in the rejects file, with line, column and reason.
	f, err := os.Open(rejPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("rejects file is not valid CSV: %v", err)
	}
	if strings.Join(recs[0], ",") != "file,line,column,value,reason" {
		t.Errorf("rejects header %v", recs[0])
	}
	seen := map[int64]bool{}
	for _, rec := range recs[1:] {
		ln, _ := strconv.ParseInt(rec[1], 10, 64)
		d, ok := bad[ln]
		if !ok {
			t.Errorf("unexpected reject at line %d: %v", ln, rec)
			continue
		}
		seen[ln] = true
		if rec[0] != path || rec[2] != d.column || !strings.Contains(rec[4], d.reason) {
			t.Errorf("%s (line %d): reject %q, want column %q and reason containing %q", d.name, ln, rec, d.column, d.reason)
		}
		if len(rec[3]) > maxRejectValue+32 {
			t.Errorf("%s: value of %d bytes in the rejects file", d.name, len(rec[3]))
		}
		if d.name == "invalid UTF-8" && rec[3] != `AB\xFFCD` {
			t.Errorf("invalid UTF-8 value written as %q", rec[3])
		}
	}
	for ln, d := range bad {
		if !seen[ln] {
			t.Errorf("%s (line %d) is not in the rejects file", d.name, ln)
		}
	}
}

// batchRows turns a batch into rows of text, for comparisons.
func batchRows(rec arrow.RecordBatch) []map[string]string {
	out := make([]map[string]string, rec.NumRows())
	for i := range out {
		out[i] = map[string]string{}
		for c := 0; c < int(rec.NumCols()); c++ {
			col := rec.Column(c)
			if col.IsNull(i) {
				continue
			}
			if s, ok := col.(*array.String); ok {
				out[i][rec.ColumnName(c)] = s.Value(i)
			} else {
				out[i][rec.ColumnName(c)] = col.ValueStr(i)
			}
		}
	}
	return out
}
