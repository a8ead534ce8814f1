package profile

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"risklane/decl"
)

// exported returns p without its compiled formula, for comparisons.
func exported(p *Profile) Profile {
	q := *p
	q.formula = nil
	return q
}

func TestBuiltinsRoundTrip(t *testing.T) {
	if got := Names(); !reflect.DeepEqual(got, []string{"canonical", "date", "kcs"}) {
		t.Fatalf("Names() = %v", got)
	}
	for _, n := range Names() {
		p, ok := Builtin(n)
		if !ok || p.Name != n {
			t.Fatalf("Builtin(%q) = %v, %v", n, p, ok)
		}
		y, err := p.YAML()
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse(y, n+".yaml")
		if err != nil {
			t.Fatalf("%s: rendered YAML does not parse back: %v\n%s", n, err, y)
		}
		// YAML writes the default separators out.
		p.Delimiter, p.Decimal = string(p.Comma()), string(p.DecimalSep())
		if p.Extras == nil {
			p.Extras = []Extra{}
		}
		if p.Labels == nil {
			p.Labels = []string{}
		}
		if !reflect.DeepEqual(exported(p), exported(q)) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", n, exported(q), exported(p))
		}
	}
}

func TestBuiltinIsFresh(t *testing.T) {
	a, _ := Builtin("kcs")
	a.Columns[decl.HSCode] = "changed"
	b, _ := Builtin("kcs")
	if b.Columns[decl.HSCode] != "HS6 Code" {
		t.Fatal("Builtin returns shared state")
	}
}

func TestParseErrors(t *testing.T) {
	base := "name: x\ndate_layouts: [\"2006-01-02\"]\n"
	cols := "columns:\n  declaration_id: ID\n  date: D\n  hs_code: HS\n  net_mass_kg: KG\n  cif_value: CIF\n"
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error, in any order
	}{
		{"valid", base + cols, nil},
		{"unknown canonical", base + cols + "  hscode: X\n", []string{`line 9: columns: unknown canonical column "hscode" (did you mean hs_code?)`}},
		{"source mapped twice", base + cols + "  fob_value: CIF\n", []string{`line 8: columns: source column "CIF" is mapped twice (to fob_value and cif_value)`}},
		{"missing required", base + "columns:\n  date: D\n  quantity: Q\n  fob_value: F\n", []string{"required column declaration_id is not mapped", "required column hs_code is not mapped"}},
		{"missing mass and value", base + "columns:\n  declaration_id: ID\n  date: D\n  hs_code: HS\n", []string{"map at least one of quantity, net_mass_kg, gross_weight_kg", "map at least one of fob_value, cif_value"}},
		{"repeated key", base + cols + "  date: E\n", []string{`line 9, column 3: mapping key "date" already defined`}},
		{"unknown key", base + cols + "decimals: \",\"\n", []string{`line 9, column 1: unknown field "decimals"`}},
		{"bad extra name", base + cols + "extras:\n  - {source: Type, name: Import Type}\n", []string{`line 10: extras: name "Import Type" must be snake_case`, `"import_type"`}},
		{"extra is canonical", base + cols + "extras:\n  - {source: Type, name: office_id}\n", []string{`is a canonical column`}},
		{"extra source already mapped", base + cols + "extras:\n  - {source: CIF, name: price}\n", []string{`source column "CIF" is already mapped to cif_value`}},
		{"extra name twice", base + cols + "extras:\n  - {source: A, name: a}\n  - {source: B, name: a}\n", []string{`line 11: extras: name "a" is used twice`}},
		{"bad decimal", base + cols + "decimal: \";\"\n", []string{`line 9: decimal ";" must be "." or ","`}},
		{"thousands equals decimal", base + cols + "decimal: \",\"\nthousands: \",\"\n", []string{`thousands separator "," is also the decimal separator`}},
		{"bad delimiter", base + cols + "delimiter: \"ab\"\n", []string{`delimiter "ab" must be one ASCII character`}},
		{"no layouts", "name: x\n" + cols, []string{"date_layouts is empty"}},
		{"layout without day", "name: x\ndate_layouts: [\"2006-01\"]\n" + cols, []string{`line 2: date layout "2006-01": needs a year`}},
		{"bad pad", base + cols + "hs_code_pad: 4\n", []string{"hs_code_pad 4 must be 0 (off) or 6 to 10"}},
		{"bad formula", base + cols + "revenue_formula: cif_value * rate\n", []string{`line 9: revenue_formula: formula "cif_value * rate" at byte 12: unknown column "rate"`}},
		{"formula on unmapped column", base + cols + "revenue_formula: fob_value * 0.1\n", []string{"revenue_formula uses fob_value, which columns does not map"}},
		{"formula and column", base + cols + "  revenue: REV\nrevenue_formula: cif_value * 0.1\n", []string{"both mapped to a column and given a formula"}},
		{"illicit values without column", base + cols + "illicit_values: {positive: [Y]}\n", []string{"illicit_values given but no illicit column is mapped"}},
		{"illicit value both ways", base + cols + "  illicit: F\nillicit_values: {positive: [Y], negative: [N, Y]}\n", []string{`line 10: illicit_values: "Y" is both positive and negative`}},
		{"labels without by_name", base + cols + "labels: [a]\n", []string{"labels applies only with by_name"}},
		{"by_name with columns", base + "by_name: true\n" + cols, []string{"by_name maps columns by their own names; leave columns empty"}},
		{"anchors", base + cols + "extras: &e []\nlabels: *e\n", []string{"line 9: anchors, aliases and tags are not allowed"}},
		{"tags", base + cols + "extras: !0\n", []string{"line 9: anchors, aliases and tags are not allowed"}},
		{"not a mapping", "- a\n- b\n", []string{"profile x.yaml"}},
		{"two documents", base + cols + "---\nname: y\n", []string{"expected one YAML document, found 2"}},
		{"empty", "", []string{"expected one YAML document, found 0"}},
		{"numeric source name", base + cols + "  quantity: 12\n", []string{"line 9: columns: write each entry as canonical_name: source column name"}},
		{"syntax", base + cols + "  bad: [\n", []string{"profile x.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "x.yaml")
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseDefaultsAndFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "office_x.yaml")
	y := `columns:
  declaration_id: DECL_NO
  date: DECL_DATE
  hs_code: HS_CODE
  net_mass_kg: NET_KG
  cif_value: CIF_VALUE
  illicit: RESULT
extras:
  - {source: REGIME, name: regime}
  - {source: FRAUD_KIND, name: fraud_kind, label: true}
delimiter: ";"
decimal: ","
date_layouts: ["02/01/2006"]
illicit_values: {positive: ["Y"], negative: ["N"]}
revenue_formula: illicit * cif_value * 0.2
`
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "office_x" || p.Comma() != ';' || p.DecimalSep() != ',' || p.ThousandsSep() != 0 ||
		p.Formula() == nil || p.Formula().String() != "illicit * cif_value * 0.2" || !p.Extras[1].Label {
		t.Fatalf("parsed %+v", p)
	}
	if _, err := Resolve(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
	_, err = Resolve("kcss")
	if err == nil || !strings.Contains(err.Error(), `unknown profile "kcss"`) || !strings.Contains(err.Error(), "canonical, date, kcs") {
		t.Errorf("unknown name: %v", err)
	}
}

func TestBind(t *testing.T) {
	kcsHeader := strings.Split("Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud", ",")
	p, _ := Builtin("kcs")
	b, err := p.Bind(kcsHeader, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := func(name string) int { return b.Source[columnIndex[name]] }
	if at(decl.CIFValue) != 19 || at(decl.HSCode) != 12 || at(decl.Illicit) != 20 || at(decl.Quantity) != -1 || at(decl.Revenue) != -1 {
		t.Errorf("sources %v", b.Source)
	}
	if len(b.Extras) != 9 || b.Extras[8].Source != 21 || !decl.IsLabel(b.Extras[8].Field) || decl.IsLabel(b.Extras[0].Field) {
		t.Errorf("extras %+v", b.Extras)
	}
	if b.Schema.NumFields() != len(decl.Columns)+9 {
		t.Errorf("schema %v", b.Schema)
	}

	// A missing column: the error names it, its role, and a near match.
	broken := append([]string(nil), kcsHeader...)
	broken[12] = "hs6 code"
	_, err = p.Bind(broken, nil)
	if err == nil || !strings.Contains(err.Error(), `column "HS6 Code" (mapped to hs_code; the header has "hs6 code", and names must match exactly) is not in the header; the header has "Declaration ID", "Date",`) {
		t.Errorf("missing column: %v", err)
	}
	// The label columns (illicit, revenue) may be absent: they are not counted.
	date, _ := Builtin("date")
	if _, err = date.Bind(kcsHeader, nil); err == nil || !strings.Contains(err.Error(), `12 columns are not in the header: "sgd.id" (mapped to declaration_id), "sgd.date" (mapped to date),`) ||
		strings.Count(err.Error(), "the header has") != 1 {
		t.Errorf("many missing columns: %v", err)
	}
	dup := append(append([]string(nil), kcsHeader...), "Item Price")
	if _, err = p.Bind(dup, nil); err == nil || !strings.Contains(err.Error(), `"Item Price" (mapped to cif_value) appears more than once`) {
		t.Errorf("duplicate column: %v", err)
	}

	// By name: canonical names map, others become extras; labels by name
	// and by source metadata.
	c, _ := Builtin("canonical")
	b, err = c.Bind([]string{"declaration_id", "date", "hs_code", "quantity", "fob_value", "fraud_type", "Process Type", "severity"}, []bool{false, false, false, false, false, false, false, true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range b.Extras {
		names = append(names, e.Field.Name)
		if want := e.Field.Name != "process_type"; decl.IsLabel(e.Field) != want {
			t.Errorf("%s: label %v", e.Field.Name, decl.IsLabel(e.Field))
		}
	}
	if !reflect.DeepEqual(names, []string{"fraud_type", "process_type", "severity"}) {
		t.Errorf("extras %v", names)
	}
	if _, err := c.Bind([]string{"date", "hs_code", "quantity"}, nil); err == nil ||
		!strings.Contains(err.Error(), "no declaration_id column") || !strings.Contains(err.Error(), "none of the columns fob_value, cif_value") {
		t.Errorf("by name, missing: %v", err)
	}
	if _, err := c.Bind([]string{"declaration_id", "date", "hs_code", "quantity", "fob_value", "A b", "a_b"}, nil); err == nil ||
		!strings.Contains(err.Error(), `both become the attribute "a_b"`) {
		t.Errorf("by name, clash: %v", err)
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"Country of Origin Indicator": "country_of_origin_indicator",
		"HS6 Code":                    "hs6_code",
		"sgd.id":                      "sgd_id",
		"  Net Mass (kg) ":            "net_mass_kg",
		"2nd":                         "x_2nd",
		"":                            "unnamed",
		"Größe":                       "gr_e",
	} {
		if got := SnakeCase(in); got != want || !isSnake(strings.TrimSuffix(got, "_")+"a") {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

// A night's declarations have no labels yet: the kcs profile binds a header
// without Fraud and Critical Fraud, leaves illicit unmapped, drops the label
// extra from the schema and names what is missing; a canonical file without
// illicit (and with a formula over it) binds too.
func TestBindUnlabelled(t *testing.T) {
	p, _ := Builtin("kcs")
	header := strings.Split("Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price", ",")
	b, err := p.Bind(header, nil)
	if err != nil {
		t.Fatalf("kcs without labels: %v", err)
	}
	want := []string{`"Fraud" (mapped to illicit)`, `"Critical Fraud" (extra attribute critical_fraud)`}
	if !slices.Equal(b.MissingLabels, want) {
		t.Errorf("MissingLabels = %q, want %q", b.MissingLabels, want)
	}
	if b.Source[columnIndex[decl.Illicit]] != -1 {
		t.Errorf("illicit is bound to column %d of a header without it", b.Source[columnIndex[decl.Illicit]])
	}
	if b.Schema.HasField("critical_fraud") {
		t.Errorf("the schema keeps the absent label extra critical_fraud: %v", b.Schema)
	}
	if !b.Schema.HasField("process_type") {
		t.Errorf("the schema lost a present extra: %v", b.Schema)
	}
	// A missing feature column is still an error, labels or not.
	if _, err := p.Bind(header[1:], nil); err == nil || !strings.Contains(err.Error(), `"Declaration ID"`) {
		t.Errorf("kcs without Declaration ID: %v, want an error naming it", err)
	}
	c, _ := Builtin("canonical")
	c.RevenueFormula = "illicit * cif_value * 0.1"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err = c.Bind([]string{"declaration_id", "date", "hs_code", "cif_value", "quantity"}, nil)
	if err != nil {
		t.Fatalf("canonical without illicit: %v", err)
	}
	if !slices.Equal(b.MissingLabels, []string{`"illicit"`}) {
		t.Errorf("canonical MissingLabels = %q", b.MissingLabels)
	}
	if _, err = c.Bind([]string{"declaration_id", "date", "hs_code", "quantity"}, nil); err == nil {
		t.Error("canonical without a value column binds")
	}
}

// A strftime date format gets its Go layout suggested, in the error.
func TestStrftimeLayout(t *testing.T) {
	for in, want := range map[string]string{
		"%d.%m.%Y": "02.01.2006", "%Y-%m-%d": "2006-01-02", "%d/%m/%y": "02/01/06", "%d %b %Y": "02 Jan 2006",
		"%Y-%m-%dT%H:%M:%S": "2006-01-02T15:04:05", "%F": "2006-01-02", "100%%": "100%",
	} {
		if got, ok := FromStrftime(in); !ok || got != want {
			t.Errorf("FromStrftime(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := FromStrftime("%Q"); ok {
		t.Error("FromStrftime accepts %Q")
	}
	_, err := Parse([]byte("columns: {declaration_id: a, date: b, hs_code: c, cif_value: d, quantity: e}\ndate_layouts: [\"%d.%m.%Y\"]\n"), "eu.yaml")
	if err == nil || !strings.Contains(err.Error(), `line 2: date layout "%d.%m.%Y": looks like a strftime format; the Go layout is "02.01.2006"`) {
		t.Errorf("strftime layout: %v", err)
	}
}
