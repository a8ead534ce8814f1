package profile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// maxProfileBytes bounds a profile file: a real one is a few kilobytes.
const maxProfileBytes = 1 << 20

// yamlProfile is the on-disk form of a Profile. Every key is written out by
// (*Profile).YAML so that a rendered profile documents itself.
type yamlProfile struct {
	Name        string        `yaml:"name"`
	Description string        `yaml:"description"`
	ByName      bool          `yaml:"by_name"`
	Columns     yaml.MapSlice `yaml:"columns"`
	Extras      []Extra       `yaml:"extras"`
	Labels      []string      `yaml:"labels,flow"`
	Delimiter   string        `yaml:"delimiter"`
	Decimal     string        `yaml:"decimal"`
	Thousands   string        `yaml:"thousands"`
	// Encoding is omitted when empty and not in yamlHeader, so that the
	// YAML of every profile without it, and so every run_id
	// (profileFingerprint), stays as it was; docs/cli.md describes it.
	Encoding       string        `yaml:"encoding,omitempty"`
	DateLayouts    []string      `yaml:"date_layouts,flow"`
	HSCodePad      int           `yaml:"hs_code_pad"`
	UniqueIDs      bool          `yaml:"unique_ids"`
	IllicitValues  IllicitValues `yaml:"illicit_values"`
	RevenueFormula string        `yaml:"revenue_formula"`
}

const yamlHeader = `# risklane profile: maps a source's columns onto risklane's canonical schema.
#   columns          canonical column: source column name. Required: declaration_id,
#                    date, hs_code, one of quantity / net_mass_kg / gross_weight_kg and
#                    one of fob_value / cif_value. Optional: office_id, importer_id,
#                    declarant_id, seller_id, origin_country, departure_country,
#                    tax_rate, total_taxes, illicit (label), revenue (label).
#   extras           further source columns kept as text attributes (snake_case names);
#                    label: true marks an outcome of inspection, never a model input.
#   by_name, labels  match columns by their canonical names (risklane's own files);
#                    labels names the extra columns that are labels.
#   delimiter        CSV field separator (one character); decimal: "." or ",";
#                    thousands: "", ",", ".", " " or "'" between groups of 3 digits.
#   date_layouts     Go time layouts tried in order, written with the reference date
#                    Mon Jan 2 2006: 2006-01-02, 02/01/2006, 06-01-02, 2006-01-02T15:04:05Z07:00.
#   hs_code_pad      N in 6..10: an all-digit HS code of N-1 digits gets its lost leading 0.
#   unique_ids       reject a repeated declaration_id within a file (only where one row
#                    is one declaration).
#   illicit_values   text values of the illicit column meaning 1 and 0 (empty = not inspected).
#   revenue_formula  revenue when the source has no revenue column: + - * / ( ), numbers and
#                    quantity, net_mass_kg, gross_weight_kg, fob_value, cif_value, tax_rate,
#                    total_taxes, illicit; null if any of them is null.
`

// YAML renders the profile in the format Parse reads, with a comment that
// explains every key; edit it to make a profile of your own.
func (p *Profile) YAML() ([]byte, error) {
	y := yamlProfile{
		Name:           p.Name,
		Description:    p.Description,
		ByName:         p.ByName,
		Columns:        yaml.MapSlice{},
		Extras:         p.Extras,
		Labels:         p.Labels,
		Delimiter:      string(p.Comma()),
		Decimal:        string(p.DecimalSep()),
		Thousands:      p.Thousands,
		Encoding:       p.Encoding,
		DateLayouts:    p.DateLayouts,
		HSCodePad:      p.HSCodePad,
		UniqueIDs:      p.UniqueIDs,
		IllicitValues:  p.Illicit,
		RevenueFormula: p.RevenueFormula,
	}
	for _, k := range sortedKeys(p.Columns) {
		y.Columns = append(y.Columns, yaml.MapItem{Key: k, Value: p.Columns[k]})
	}
	if y.Extras == nil {
		y.Extras = []Extra{}
	}
	if y.Labels == nil {
		y.Labels = []string{}
	}
	body, err := yaml.MarshalWithOptions(y, yaml.IndentSequence(true))
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	return append([]byte(yamlHeader), body...), nil
}

// Load reads a YAML profile from a file. The profile's name defaults to the
// file name without its extension.
func Load(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxProfileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	p, err := Parse(data, path)
	if p != nil {
		p.File = path
	}
	return p, err
}

// Parse reads a YAML profile. source names it in error messages (a file
// path) and gives the default name. The format is what (*Profile).YAML
// writes:
//
//	name: mine
//	description: Customs export of office X
//	columns:
//	  declaration_id: DECL_NO
//	  date: DECL_DATE
//	  hs_code: HS_CODE
//	  net_mass_kg: NET_KG
//	  cif_value: CIF_VALUE
//	  illicit: RESULT
//	extras:
//	  - {source: REGIME, name: regime}
//	  - {source: FRAUD_KIND, name: fraud_kind, label: true}
//	delimiter: ";"
//	decimal: ","
//	date_layouts: ["02/01/2006"]
//	illicit_values: {positive: ["Y"], negative: ["N"]}
//	revenue_formula: illicit * cif_value * tax_rate / 100
//
// Unknown keys, repeated keys, anchors and aliases are errors. Every error
// names the line it is about.
func Parse(data []byte, source string) (*Profile, error) {
	if len(data) > maxProfileBytes {
		return nil, fmt.Errorf("profile %s: larger than %d bytes; a profile is a short YAML file", source, maxProfileBytes)
	}
	fail := func(err error) (*Profile, error) {
		return nil, fmt.Errorf("profile %s: %w", source, err)
	}
	var y yamlProfile
	body, err := DecodePlain(data, &y)
	if err != nil {
		return fail(err)
	}
	loc := func(path ...any) string {
		if line := lineOf(body, path); line > 0 {
			return fmt.Sprintf("line %d: ", line)
		}
		return ""
	}
	p := &Profile{
		Name:           y.Name,
		Description:    y.Description,
		ByName:         y.ByName,
		Extras:         y.Extras,
		Labels:         y.Labels,
		Delimiter:      y.Delimiter,
		Decimal:        y.Decimal,
		Thousands:      y.Thousands,
		Encoding:       y.Encoding,
		DateLayouts:    y.DateLayouts,
		HSCodePad:      y.HSCodePad,
		UniqueIDs:      y.UniqueIDs,
		Illicit:        y.IllicitValues,
		RevenueFormula: strings.TrimSpace(y.RevenueFormula),
	}
	if p.Name == "" {
		p.Name = strings.TrimSuffix(filepath.Base(source), filepath.Ext(source))
	}
	var errs []error
	if len(y.Columns) > 0 {
		p.Columns = make(map[string]string, len(y.Columns))
	}
	for _, item := range y.Columns {
		k, kok := item.Key.(string)
		v, vok := item.Value.(string)
		if !kok || !vok {
			errs = append(errs, fmt.Errorf("%scolumns: write each entry as canonical_name: source column name (quote names that look like numbers)",
				loc("columns", fmt.Sprint(item.Key))))
			continue
		}
		p.Columns[k] = v
	}
	if err := p.validate(loc); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fail(errors.Join(errs...))
	}
	return p, nil
}

// yamlError rewrites go-yaml's "[line:col] message" as "line L, column C:
// message", the form of risklane's other profile errors.
func yamlError(err error) error {
	msg := yaml.FormatError(err, false, false)
	if strings.HasPrefix(msg, "[") {
		if end := strings.Index(msg, "] "); end > 0 {
			if l, c, ok := strings.Cut(msg[1:end], ":"); ok {
				return fmt.Errorf("line %s, column %s: %s", l, c, msg[end+2:])
			}
		}
	}
	return errors.New(msg)
}

// findSpecial returns the first anchor, alias or tag node under n. Nested
// aliases can expand a small file exponentially, and tags only ask the
// decoder for conversions a profile never needs.
func findSpecial(n ast.Node) ast.Node {
	var found ast.Node
	ast.Walk(visitorFunc(func(n ast.Node) bool {
		switch n.(type) {
		case *ast.AnchorNode, *ast.AliasNode, *ast.TagNode:
			if found == nil {
				found = n
			}
			return false
		}
		return found == nil
	}), n)
	return found
}

// DecodePlain decodes a small configuration file (a profile, a nightly
// job): one YAML document of plain keys and values, unknown keys refused,
// and returns its body for error locations. Anchors, aliases and tags are
// refused: nested aliases expand a 1 KB file to gigabytes, and tags only
// ask the decoder for conversions a configuration never needs. A panic
// inside the YAML library on some odd input becomes an error. Errors name
// the line (docs/input-safety.md).
func DecodePlain(data []byte, out any) (ast.Node, error) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(err)
	}
	var docs []*ast.DocumentNode
	for _, d := range file.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) != 1 {
		return nil, fmt.Errorf("expected one YAML document, found %d", len(docs))
	}
	body := docs[0].Body
	if n := findSpecial(body); n != nil {
		return nil, fmt.Errorf("line %d: anchors, aliases and tags are not allowed", n.GetToken().Position.Line)
	}
	if err := decodeNode(body, out); err != nil {
		return nil, yamlError(err)
	}
	return body, nil
}

// decodeNode decodes a document; a panic in the library is an error.
func decodeNode(body ast.Node, out any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot read this YAML (%v); write plain keys and values", r)
		}
	}()
	return yaml.NodeToValue(body, out, yaml.Strict())
}

type visitorFunc func(ast.Node) bool

func (f visitorFunc) Visit(n ast.Node) ast.Visitor {
	if f(n) {
		return f
	}
	return nil
}

// lineOf returns the line of the node reached from n by path (map keys as
// strings, sequence indices as ints), or of the deepest node found on the
// way; 0 if none.
func lineOf(n ast.Node, path []any) int {
	line := 0
	if n != nil && n.GetToken() != nil {
		line = n.GetToken().Position.Line
	}
	for _, step := range path {
		var next ast.Node
		switch s := step.(type) {
		case string:
			for _, mv := range mappingValues(n) {
				if mv.Key != nil && mv.Key.GetToken() != nil && mv.Key.GetToken().Value == s {
					line = mv.Key.GetToken().Position.Line
					next = mv.Value
				}
			}
		case int:
			if seq, ok := n.(*ast.SequenceNode); ok && s >= 0 && s < len(seq.Values) {
				next = seq.Values[s]
				if t := next.GetToken(); t != nil {
					line = t.Position.Line
				}
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

func mappingValues(n ast.Node) []*ast.MappingValueNode {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}
	}
	return nil
}

// isYAMLName reports whether a --profile argument looks like a file name
// rather than a built-in profile name.
func isYAMLName(s string) bool {
	l := strings.ToLower(s)
	return strings.HasSuffix(l, ".yaml") || strings.HasSuffix(l, ".yml") || strings.ContainsAny(s, "/\\")
}
