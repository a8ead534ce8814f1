package profile

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"risklane/decl"
)

// A Formula computes a numeric canonical column (in practice revenue) from
// other numeric canonical columns of the same row. The language is kept
// deliberately tiny so that a profile from an untrusted source can do nothing
// but arithmetic:
//
//	expr    = term { ("+" | "-") term }
//	term    = unary { ("*" | "/") unary }
//	unary   = "-" unary | primary
//	primary = number | column | "(" expr ")"
//
// A number is a decimal literal with "." as the decimal point and an optional
// exponent (100, 0.5, 1e3). A column is one of the numeric canonical columns:
// quantity, net_mass_kg, gross_weight_kg, fob_value, cif_value, tax_rate,
// total_taxes, illicit. There are no functions, comparisons or variables. A
// formula is at most 256 bytes and nests at most 16 levels deep.
//
// Evaluation: if any column the formula uses is null in a row, the result is
// null; a division by zero, or any result that is not a finite number, is
// null too. Because illicit is 0 or 1, "illicit * X" is X on fraudulent rows
// and 0 on clean ones (and null on uninspected rows).
type Formula struct {
	src  string
	code []instr
	cols []int // decl.Columns indices the formula reads, without repeats
}

// Limits on formula size, so that a hostile profile cannot make parsing or
// evaluation expensive.
const (
	maxFormulaLen   = 256
	maxFormulaDepth = 16
)

type opcode uint8

const (
	opConst opcode = iota
	opCol
	opAdd
	opSub
	opMul
	opDiv
	opNeg
)

type instr struct {
	op  opcode
	col int     // opCol: index into decl.Columns
	val float64 // opConst
}

// FormulaColumns lists the canonical columns a formula may read.
var FormulaColumns = []string{
	decl.Quantity, decl.NetMassKg, decl.GrossWeightKg, decl.FOBValue,
	decl.CIFValue, decl.TaxRate, decl.TotalTaxes, decl.Illicit,
}

// ParseFormula compiles a formula. Errors give the byte offset of the problem.
func ParseFormula(src string) (*Formula, error) {
	if len(src) > maxFormulaLen {
		return nil, fmt.Errorf("formula is %d bytes; the limit is %d", len(src), maxFormulaLen)
	}
	p := &formulaParser{src: src}
	p.next()
	if p.tok.kind == tokEOF {
		return nil, fmt.Errorf("formula is empty")
	}
	if err := p.expr(0); err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errorf("unexpected %s", p.tok.describe())
	}
	f := &Formula{src: src, code: p.code}
	seen := map[int]bool{}
	for _, in := range f.code {
		if in.op == opCol && !seen[in.col] {
			seen[in.col] = true
			f.cols = append(f.cols, in.col)
		}
	}
	return f, nil
}

// String returns the formula's source text.
func (f *Formula) String() string { return f.src }

// Columns returns the canonical column names the formula reads.
func (f *Formula) Columns() []string {
	out := make([]string, len(f.cols))
	for i, c := range f.cols {
		out[i] = decl.Columns[c].Name
	}
	return out
}

// Eval evaluates the formula on one row. vals and valid are indexed like
// decl.Columns; only the numeric columns the formula reads are looked at.
// ok is false when the result is null.
func (f *Formula) Eval(vals []float64, valid []bool) (v float64, ok bool) {
	for _, c := range f.cols {
		if !valid[c] {
			return 0, false
		}
	}
	var stack [maxFormulaLen]float64
	sp := 0
	for _, in := range f.code {
		switch in.op {
		case opConst:
			stack[sp] = in.val
			sp++
		case opCol:
			stack[sp] = vals[in.col]
			sp++
		case opNeg:
			stack[sp-1] = -stack[sp-1]
		default:
			b := stack[sp-1]
			sp--
			a := stack[sp-1]
			switch in.op {
			case opAdd:
				a += b
			case opSub:
				a -= b
			case opMul:
				a *= b
			case opDiv:
				if b == 0 {
					return 0, false
				}
				a /= b
			}
			stack[sp-1] = a
		}
	}
	r := stack[0]
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return 0, false
	}
	return r, true
}

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokNum
	tokIdent
	tokOp
	tokBad
)

type ftoken struct {
	kind tokKind
	text string
	pos  int
}

func (t ftoken) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of formula"
	case tokBad:
		return fmt.Sprintf("character %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

type formulaParser struct {
	src  string
	pos  int
	tok  ftoken
	code []instr
}

func (p *formulaParser) errorf(format string, args ...any) error {
	return fmt.Errorf("formula %q at byte %d: %s", p.src, p.tok.pos, fmt.Sprintf(format, args...))
}

func (p *formulaParser) next() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
	start := p.pos
	if p.pos >= len(p.src) {
		p.tok = ftoken{kind: tokEOF, pos: start}
		return
	}
	c := p.src[p.pos]
	switch {
	case strings.IndexByte("+-*/()", c) >= 0:
		p.pos++
		p.tok = ftoken{kind: tokOp, text: p.src[start:p.pos], pos: start}
	case c >= '0' && c <= '9' || c == '.':
		for p.pos < len(p.src) && isNumByte(p.src[p.pos]) {
			// An exponent sign belongs to the number, any other sign ends it.
			if (p.src[p.pos] == '+' || p.src[p.pos] == '-') &&
				!(p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E') {
				break
			}
			p.pos++
		}
		p.tok = ftoken{kind: tokNum, text: p.src[start:p.pos], pos: start}
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
		for p.pos < len(p.src) && isIdentByte(p.src[p.pos]) {
			p.pos++
		}
		p.tok = ftoken{kind: tokIdent, text: p.src[start:p.pos], pos: start}
	default:
		p.pos++
		p.tok = ftoken{kind: tokBad, text: p.src[start:p.pos], pos: start}
	}
}

func isNumByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func (p *formulaParser) expr(depth int) error {
	if depth > maxFormulaDepth {
		return p.errorf("nested more than %d levels deep", maxFormulaDepth)
	}
	if err := p.term(depth); err != nil {
		return err
	}
	for p.tok.kind == tokOp && (p.tok.text == "+" || p.tok.text == "-") {
		op := opAdd
		if p.tok.text == "-" {
			op = opSub
		}
		p.next()
		if err := p.term(depth); err != nil {
			return err
		}
		p.code = append(p.code, instr{op: op})
	}
	return nil
}

func (p *formulaParser) term(depth int) error {
	if err := p.unary(depth); err != nil {
		return err
	}
	for p.tok.kind == tokOp && (p.tok.text == "*" || p.tok.text == "/") {
		op := opMul
		if p.tok.text == "/" {
			op = opDiv
		}
		p.next()
		if err := p.unary(depth); err != nil {
			return err
		}
		p.code = append(p.code, instr{op: op})
	}
	return nil
}

func (p *formulaParser) unary(depth int) error {
	if p.tok.kind == tokOp && p.tok.text == "-" {
		if depth > maxFormulaDepth {
			return p.errorf("nested more than %d levels deep", maxFormulaDepth)
		}
		p.next()
		if err := p.unary(depth + 1); err != nil {
			return err
		}
		p.code = append(p.code, instr{op: opNeg})
		return nil
	}
	return p.primary(depth)
}

func (p *formulaParser) primary(depth int) error {
	switch p.tok.kind {
	case tokNum:
		v, err := strconv.ParseFloat(p.tok.text, 64)
		if err != nil || math.IsInf(v, 0) {
			return p.errorf("%q is not a number", p.tok.text)
		}
		p.code = append(p.code, instr{op: opConst, val: v})
		p.next()
		return nil
	case tokIdent:
		col := -1
		for _, name := range FormulaColumns {
			if name == p.tok.text {
				col = columnIndex[name]
			}
		}
		if col < 0 {
			return p.errorf("unknown column %q; a formula may use %s", p.tok.text, strings.Join(FormulaColumns, ", "))
		}
		p.code = append(p.code, instr{op: opCol, col: col})
		p.next()
		return nil
	case tokOp:
		if p.tok.text == "(" {
			p.next()
			if err := p.expr(depth + 1); err != nil {
				return err
			}
			if p.tok.kind != tokOp || p.tok.text != ")" {
				return p.errorf("expected \")\", found %s", p.tok.describe())
			}
			p.next()
			return nil
		}
	}
	return p.errorf("expected a number, a column or \"(\", found %s", p.tok.describe())
}
