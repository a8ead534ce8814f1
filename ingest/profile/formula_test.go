package profile

import (
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"risklane/decl"
)

// row builds the vals/valid arrays Formula.Eval reads.
func row(v map[string]float64) ([]float64, []bool) {
	vals := make([]float64, len(decl.Columns))
	valid := make([]bool, len(decl.Columns))
	for k, x := range v {
		vals[columnIndex[k]], valid[columnIndex[k]] = x, true
	}
	return vals, valid
}

func TestFormulaEval(t *testing.T) {
	kcsRow := map[string]float64{"illicit": 1, "cif_value": 372254.4, "tax_rate": 8}
	// Hand-worked in float64, left to right (a Go constant expression would
	// be folded exactly): 1 * 372254.4 = 372254.4, * 8 = 2978035.2,
	// / 100 = 29780.352000000003.
	kcsRevenue := 372254.4
	kcsRevenue = 1 * kcsRevenue * 8 / 100
	tests := []struct {
		src  string
		row  map[string]float64
		want float64
		null bool
	}{
		{"illicit * cif_value * tax_rate / 100", kcsRow, kcsRevenue, false},
		{"illicit * cif_value * tax_rate / 100", map[string]float64{"illicit": 0, "cif_value": 5, "tax_rate": 8}, 0, false},
		{"illicit * cif_value * tax_rate / 100", map[string]float64{"cif_value": 5, "tax_rate": 8}, 0, true},
		{"1 + 2 * 3", nil, 7, false},
		{"(1 + 2) * 3", nil, 9, false},
		{"10 - 4 - 3", nil, 3, false},
		{"24 / 4 / 3", nil, 2, false},
		{"-2 * -3", nil, 6, false},
		{"--2", nil, 2, false},
		{"2 - -2", nil, 4, false},
		{"1e3 + .5 + 2.", nil, 1002.5, false},
		{"fob_value / quantity", map[string]float64{"fob_value": 10, "quantity": 0}, 0, true},
		{"cif_value - fob_value", map[string]float64{"cif_value": 5, "fob_value": 7}, -2, false},
		{"total_taxes*2", map[string]float64{"total_taxes": 1.5}, 3, false},
	}
	for _, tt := range tests {
		f, err := ParseFormula(tt.src)
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		vals, valid := row(tt.row)
		got, ok := f.Eval(vals, valid)
		if ok == tt.null || (ok && got != tt.want) {
			t.Errorf("%q on %v = %v, %v; want %v (null %v)", tt.src, tt.row, got, ok, tt.want, tt.null)
		}
	}
	f, _ := ParseFormula("illicit * cif_value * tax_rate / 100 + illicit")
	if got := f.Columns(); !reflect.DeepEqual(got, []string{"illicit", "cif_value", "tax_rate"}) {
		t.Errorf("Columns() = %v", got)
	}
}

func TestFormulaErrors(t *testing.T) {
	for src, want := range map[string]string{
		"":              "empty",
		"   ":           "empty",
		"1 +":           "found end of formula",
		"(1 + 2":        `expected ")"`,
		"1 2":           `unexpected "2"`,
		"revenue * 2":   `unknown column "revenue"`,
		"date + 1":      `unknown column "date"`,
		"os.Exit(1)":    `unknown column "os"`,
		"cif_value ^ 2": `character "^"`,
		"1e":            `"1e" is not a number`,
		"1e999":         `"1e999" is not a number`,
		"0x10":          `unexpected "x10"`,
		strings.Repeat("(", 20) + "1" + strings.Repeat(")", 20): "nested more than 16 levels",
		strings.Repeat("-", 20) + "1":                           "nested more than 16 levels",
		strings.Repeat("1+", 200) + "1":                         "limit is 256",
	} {
		_, err := ParseFormula(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseFormula(%.30q) = %v, want error containing %q", src, err, want)
		}
	}
}

// goEval evaluates a Go expression AST with float64 arithmetic: an
// independent reference for the formula language, which is a subset of Go
// expression syntax with the same precedence.
func goEval(e ast.Expr, vals map[string]float64) (float64, bool) {
	switch n := e.(type) {
	case *ast.BasicLit:
		if n.Kind != token.FLOAT && n.Kind != token.INT {
			return 0, false
		}
		v, err := strconv.ParseFloat(n.Value, 64)
		return v, err == nil
	case *ast.Ident:
		v, ok := vals[n.Name]
		return v, ok
	case *ast.ParenExpr:
		return goEval(n.X, vals)
	case *ast.UnaryExpr:
		x, ok := goEval(n.X, vals)
		if n.Op != token.SUB {
			return 0, false
		}
		return -x, ok
	case *ast.BinaryExpr:
		a, ok1 := goEval(n.X, vals)
		b, ok2 := goEval(n.Y, vals)
		if !ok1 || !ok2 {
			return 0, false
		}
		switch n.Op {
		case token.ADD:
			return a + b, true
		case token.SUB:
			return a - b, true
		case token.MUL:
			return a * b, true
		case token.QUO:
			if b == 0 {
				return 0, false
			}
			return a / b, true
		}
	}
	return 0, false
}

func FuzzFormula(f *testing.F) {
	for _, s := range []string{"illicit * cif_value * tax_rate / 100", "(1+2)*-3", "fob_value/quantity", "1e3-.5", "--1", "a b", "((("} {
		f.Add(s, 3.5, 0.0)
	}
	f.Fuzz(func(t *testing.T, src string, x, y float64) {
		fm, err := ParseFormula(src)
		if err != nil {
			return
		}
		vals := map[string]float64{}
		for i, c := range FormulaColumns {
			vals[c] = []float64{x, y}[i%2]
		}
		v, valid := row(vals)
		got, ok := fm.Eval(v, valid)
		// Go reads "--" as a decrement; the formula language as two minuses.
		goSrc := src
		for strings.Contains(goSrc, "--") {
			goSrc = strings.ReplaceAll(goSrc, "--", "- -")
		}
		e, perr := parser.ParseExpr(goSrc)
		if perr != nil && strings.Contains(perr.Error(), "octal") {
			return // "08" is decimal 8 in a formula, a bad octal literal in Go
		}
		if perr != nil {
			t.Fatalf("%q: accepted, but not a Go expression: %v", src, perr)
		}
		want, wok := goEval(e, vals)
		if wok && (math.IsNaN(want) || math.IsInf(want, 0)) {
			wok = false
		}
		if ok != wok || (ok && got != want) {
			t.Fatalf("%q with %v, %v: %v %v; Go evaluates %v %v", src, x, y, got, ok, want, wok)
		}
	})
}

// FuzzParse checks the YAML loader never panics, and that whatever it
// accepts renders back to YAML that parses to the same profile.
func FuzzParse(f *testing.F) {
	for _, n := range Names() {
		p, _ := Builtin(n)
		y, _ := p.YAML()
		f.Add(y)
	}
	f.Add([]byte("name: x\ncolumns: {declaration_id: a, date: b, hs_code: c, quantity: d, fob_value: e}\ndate_layouts: [2006-01-02]\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Add([]byte("columns:\n  date: [1, {a: b}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "profile fuzz.yaml: ") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		y, err := p.YAML()
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		q, err := Parse(y, "fuzz.yaml")
		if err != nil {
			t.Fatalf("rendered profile does not parse: %v\n%s", err, y)
		}
		p.Delimiter, p.Decimal = string(p.Comma()), string(p.DecimalSep())
		if p.Extras == nil {
			p.Extras = []Extra{}
		}
		if p.Labels == nil {
			p.Labels = []string{}
		}
		if !reflect.DeepEqual(exported(p), exported(q)) {
			t.Fatalf("round trip\n got %+v\nwant %+v\n%s", exported(q), exported(p), y)
		}
	})
}
