// Package profile maps the columns of a declarations source (a customs
// system's CSV export, a Parquet or Arrow file) onto risklane's canonical
// schema (package risklane/decl), and says how to read its values:
// date layouts, decimal separator, label values, how revenue is found.
//
// Three profiles are built in (see Builtin): kcs, date and canonical. Users
// write their own as a small YAML file (see Parse for the format); the
// easiest start is `risklane profiles show kcs > mine.yaml`.
package profile

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"risklane/decl"
)

// Profile maps one kind of source onto the canonical declaration schema.
// Build one in Go or load one with Load / Parse / Resolve; call Validate
// before use (the ingest package does).
type Profile struct {
	// Name identifies the profile: a built-in name or the YAML file's name.
	Name string
	// Description says what data the profile is for.
	Description string
	// File is the YAML file Load read the profile from; "" for a built-in
	// profile. Messages name it where they would name a built-in profile.
	File string
	// Columns maps canonical column names (decl.Columns) to source column
	// names. Every column named here must be present in the source.
	Columns map[string]string
	// Extras are further source columns kept as extra string attributes.
	Extras []Extra
	// ByName maps each source column whose name is a canonical name onto that
	// column and keeps every other source column as an extra attribute under
	// its own name (made snake_case). Columns is then left empty. This is how
	// risklane reads its own files.
	ByName bool
	// Labels names the extra columns that are labels when ByName adds them.
	// An extra read from a Parquet or Arrow file whose field metadata marks it
	// as a label (decl.RoleKey) is a label too.
	Labels []string
	// Delimiter separates CSV fields: one ASCII character, "" meaning ",".
	Delimiter string
	// Decimal is the decimal separator of numbers in text sources: "." (the
	// default when empty) or ",".
	Decimal string
	// Thousands is an optional digit-group separator ("", ",", ".", " ", "'").
	// When set, it may appear only between groups of three digits.
	Thousands string
	// Encoding is the character set of text sources: "" or "utf-8" (the
	// default), or "latin-1" (ISO 8859-1) or "windows-1252", decoded to
	// UTF-8 as the file is read.
	Encoding string
	// DateLayouts are Go time layouts (time.Parse), tried in order.
	DateLayouts []string
	// HSCodePad restores a leading zero that spreadsheets and pandas drop:
	// an all-digit HS code exactly one digit shorter than HSCodePad gets a
	// "0" in front. 0 disables it; otherwise 6 to 10.
	HSCodePad int
	// UniqueIDs rejects a row whose declaration_id already appeared in the
	// same file. Use it only where one row is one declaration (as in KCS):
	// in most customs exports one declaration has several item rows. The
	// check keeps every id of a file in memory (about 50 bytes per row).
	UniqueIDs bool
	// Illicit lists the text values of the illicit column meaning 1 and 0.
	Illicit IllicitValues
	// RevenueFormula computes revenue when the source has no revenue column
	// (see Formula for the language). Empty when Columns maps revenue, or
	// when revenue is unknown (null).
	RevenueFormula string

	formula *Formula
}

// Extra is a source column kept as an extra string attribute.
type Extra struct {
	// Source is the column name in the source.
	Source string `yaml:"source"`
	// Name is the attribute's name inside risklane: snake_case, not a
	// canonical name.
	Name string `yaml:"name"`
	// Label marks an outcome of inspection (a fraud type, a severity): it is
	// kept for evaluation but never becomes a model input.
	Label bool `yaml:"label,omitempty"`
}

// IllicitValues lists the text values of the illicit column. A value in
// neither list is matched numerically (so "1.0" means 1 and "0.0" means 0);
// anything else rejects the row. An empty value is null: not inspected.
type IllicitValues struct {
	Positive []string `yaml:"positive,omitempty,flow"`
	Negative []string `yaml:"negative,omitempty,flow"`
}

// Formula returns the compiled revenue formula, or nil. It is set by Validate.
func (p *Profile) Formula() *Formula { return p.formula }

// Comma returns the CSV field separator.
func (p *Profile) Comma() byte {
	if p.Delimiter == "" {
		return ','
	}
	return p.Delimiter[0]
}

// DecimalSep returns the decimal separator.
func (p *Profile) DecimalSep() byte {
	if p.Decimal == "" {
		return '.'
	}
	return p.Decimal[0]
}

// ThousandsSep returns the digit-group separator, or 0 for none.
func (p *Profile) ThousandsSep() byte {
	if p.Thousands == "" {
		return 0
	}
	return p.Thousands[0]
}

// Required canonical columns. Besides these, a profile maps at least one
// column of each group in RequiredOneOf.
var (
	Required      = []string{decl.DeclarationID, decl.Date, decl.HSCode}
	RequiredOneOf = [][]string{
		{decl.Quantity, decl.NetMassKg, decl.GrossWeightKg},
		{decl.FOBValue, decl.CIFValue},
	}
)

// columnIndex gives the position of each canonical column in decl.Columns.
var columnIndex = func() map[string]int {
	m := make(map[string]int, len(decl.Columns))
	for i, c := range decl.Columns {
		m[c.Name] = i
	}
	return m
}()

// locator turns a position in a YAML profile (keys and indices) into a
// "line N: " prefix, or "" when the profile did not come from YAML.
type locator func(path ...any) string

func noLocation(...any) string { return "" }

// Validate checks the profile and compiles its revenue formula. It reports
// every problem it finds, each on its own line.
func (p *Profile) Validate() error {
	return p.validate(noLocation)
}

func (p *Profile) validate(loc locator) error {
	var errs []error
	add := func(where string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s", where, fmt.Sprintf(format, args...)))
	}

	if p.Delimiter != "" && (len(p.Delimiter) != 1 || p.Delimiter[0] >= 0x80 ||
		strings.ContainsAny(p.Delimiter, "\"\r\n")) {
		add(loc("delimiter"), "delimiter %q must be one ASCII character other than a quote or a line break", p.Delimiter)
	}
	if p.Decimal != "" && p.Decimal != "." && p.Decimal != "," {
		add(loc("decimal"), "decimal %q must be \".\" or \",\"", p.Decimal)
	}
	switch p.Thousands {
	case "", ",", ".", " ", "'":
		if p.Thousands != "" && p.Thousands[0] == p.DecimalSep() {
			add(loc("thousands"), "thousands separator %q is also the decimal separator", p.Thousands)
		}
	default:
		add(loc("thousands"), "thousands %q must be empty, \",\", \".\", \" \" or \"'\"", p.Thousands)
	}
	if _, err := p.Decoder(); err != nil {
		add(loc("encoding"), "%v", err)
	}
	if len(p.DateLayouts) == 0 {
		add(loc("date_layouts"), "date_layouts is empty; give at least one Go time layout such as \"2006-01-02\"")
	}
	for i, l := range p.DateLayouts {
		if err := checkLayout(l); err != nil {
			add(loc("date_layouts", i), "date layout %q: %v", l, err)
		}
	}
	if p.HSCodePad != 0 && (p.HSCodePad < 6 || p.HSCodePad > 10) {
		add(loc("hs_code_pad"), "hs_code_pad %d must be 0 (off) or 6 to 10", p.HSCodePad)
	}

	// Column mapping.
	sources := map[string]string{} // source column -> what it is mapped to
	mapped := map[string]bool{}
	if p.ByName && len(p.Columns) > 0 {
		add(loc("columns"), "by_name maps columns by their own names; leave columns empty")
	}
	for _, canon := range sortedKeys(p.Columns) {
		src := p.Columns[canon]
		if _, ok := columnIndex[canon]; !ok {
			add(loc("columns", canon), "columns: unknown canonical column %q%s; the canonical columns are %s",
				canon, suggest(canon), strings.Join(canonicalNames(), ", "))
			continue
		}
		if strings.TrimSpace(src) == "" {
			add(loc("columns", canon), "columns: %s has an empty source column name", canon)
			continue
		}
		if prev, dup := sources[src]; dup {
			add(loc("columns", canon), "columns: source column %q is mapped twice (to %s and %s)", src, prev, canon)
			continue
		}
		sources[src] = canon
		mapped[canon] = true
	}
	names := map[string]bool{}
	for i, e := range p.Extras {
		where := loc("extras", i)
		if strings.TrimSpace(e.Source) == "" {
			add(where, "extras: entry %d has no source column", i+1)
		} else if prev, dup := sources[e.Source]; dup {
			add(where, "extras: source column %q is already mapped to %s", e.Source, prev)
		} else {
			sources[e.Source] = e.Name
		}
		switch {
		case !isSnake(e.Name):
			add(where, "extras: name %q must be snake_case (lower-case letters, digits and _, starting with a letter), e.g. %q", e.Name, SnakeCase(e.Name))
		case isCanonical(e.Name):
			add(where, "extras: name %q is a canonical column; map it under columns instead", e.Name)
		case names[e.Name]:
			add(where, "extras: name %q is used twice", e.Name)
		}
		names[e.Name] = true
	}
	if len(p.Labels) > 0 && !p.ByName {
		add(loc("labels"), "labels applies only with by_name; mark extras as labels with label: true")
	}
	for i, l := range p.Labels {
		if !isSnake(l) {
			add(loc("labels", i), "labels: %q must be snake_case", l)
		}
	}
	if !p.ByName {
		for _, c := range Required {
			if !mapped[c] {
				add(loc("columns"), "columns: required column %s is not mapped", c)
			}
		}
		for _, group := range RequiredOneOf {
			if !anyMapped(mapped, group) {
				add(loc("columns"), "columns: map at least one of %s", strings.Join(group, ", "))
			}
		}
	}

	// Labels and revenue.
	if len(p.Illicit.Positive)+len(p.Illicit.Negative) > 0 && !mapped[decl.Illicit] && !p.ByName {
		add(loc("illicit_values"), "illicit_values given but no illicit column is mapped")
	}
	pos := map[string]bool{}
	for _, v := range p.Illicit.Positive {
		pos[strings.TrimSpace(v)] = true
	}
	for i, v := range p.Illicit.Negative {
		if pos[strings.TrimSpace(v)] {
			add(loc("illicit_values", "negative", i), "illicit_values: %q is both positive and negative", v)
		}
	}
	p.formula = nil
	if p.RevenueFormula != "" {
		if mapped[decl.Revenue] {
			add(loc("revenue_formula"), "revenue is both mapped to a column and given a formula; keep one")
		}
		f, err := ParseFormula(p.RevenueFormula)
		if err != nil {
			add(loc("revenue_formula"), "revenue_formula: %v", err)
		} else {
			p.formula = f
			if !p.ByName {
				for _, c := range f.Columns() {
					if !mapped[c] {
						add(loc("revenue_formula"), "revenue_formula uses %s, which columns does not map", c)
					}
				}
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

// checkLayout makes sure a Go time layout holds a year, a month and a day:
// formatting a reference date and parsing it back must give the same date.
func checkLayout(layout string) error {
	if strings.TrimSpace(layout) == "" {
		return fmt.Errorf("empty layout")
	}
	if strings.Contains(layout, "%") {
		if goLayout, ok := FromStrftime(layout); ok {
			return fmt.Errorf("looks like a strftime format; the Go layout is %q", goLayout)
		}
		return fmt.Errorf("looks like a strftime format; write the Go layout with the reference date Mon Jan 2 2006, e.g. 02.01.2006 for %%d.%%m.%%Y")
	}
	ref := time.Date(2013, time.November, 23, 0, 0, 0, 0, time.UTC)
	t, err := time.Parse(layout, ref.Format(layout))
	if err != nil {
		return fmt.Errorf("not a usable Go time layout (%v); write the reference date Mon Jan 2 2006, e.g. 2006-01-02 or 02/01/2006", err)
	}
	if t.Year() != ref.Year() || t.Month() != ref.Month() || t.Day() != ref.Day() {
		return fmt.Errorf("needs a year (2006 or 06), a month (01, 1 or Jan) and a day (02 or 2)")
	}
	return nil
}

func anyMapped(mapped map[string]bool, group []string) bool {
	for _, c := range group {
		if mapped[c] {
			return true
		}
	}
	return false
}

func isCanonical(name string) bool {
	_, ok := columnIndex[name]
	return ok
}

func canonicalNames() []string {
	out := make([]string, len(decl.Columns))
	for i, c := range decl.Columns {
		out[i] = c.Name
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Canonical columns in schema order first, unknown names after, sorted.
	sort.Slice(keys, func(i, j int) bool {
		a, aok := columnIndex[keys[i]]
		b, bok := columnIndex[keys[j]]
		switch {
		case aok && bok:
			return a < b
		case aok != bok:
			return aok
		}
		return keys[i] < keys[j]
	})
	return keys
}

// suggest returns ` (did you mean x?)` for the canonical name nearest to a
// misspelt one, or "".
func suggest(name string) string {
	best, bestD := "", 4
	for _, c := range decl.Columns {
		if d := editDistance(strings.ToLower(name), c.Name); d < bestD {
			best, bestD = c.Name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func isSnake(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// SnakeCase turns a source column name into an attribute name: ASCII letters
// lower-cased, digits kept, every other run of characters one underscore
// ("Country of Origin Indicator" -> "country_of_origin_indicator"). A name
// that would not start with a letter gets "x_" in front; an empty one is
// "unnamed".
func SnakeCase(s string) string {
	var b strings.Builder
	sep := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			fallthrough
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			if sep && b.Len() > 0 {
				b.WriteByte('_')
			}
			sep = false
			b.WriteByte(c)
		default:
			sep = true
		}
	}
	out := b.String()
	switch {
	case out == "":
		return "unnamed"
	case out[0] < 'a' || out[0] > 'z':
		return "x_" + out
	}
	return out
}

// Binding is a profile applied to one source's columns.
type Binding struct {
	// Source[i] is the source column index read into decl.Columns[i], or -1
	// when the source has no such column (it is then null).
	Source []int
	// Extras are the extra attributes, in output schema order.
	Extras []BoundExtra
	// Schema is the output schema: decl.SchemaFields of the extras.
	Schema *arrow.Schema
	// MissingLabels names the label columns the profile maps that the
	// source does not have, as `"Fraud" (mapped to illicit)`. A night's
	// declarations have no labels yet: their label columns are null (a
	// missing label extra is left out of the schema), and only commands
	// that need labels (train, evaluate) refuse such a source.
	MissingLabels []string
}

// BoundExtra is an extra attribute read from one source column.
type BoundExtra struct {
	Source int
	Field  arrow.Field
}

// Bind applies the profile to a source's column names (a CSV header or a
// Parquet / Arrow schema). sourceLabel, which may be nil, marks source
// columns whose metadata says they are labels. The profile must be valid.
// Errors describe what is missing and what the source has instead.
func (p *Profile) Bind(names []string, sourceLabel []bool) (*Binding, error) {
	b := &Binding{Source: make([]int, len(decl.Columns))}
	for i := range b.Source {
		b.Source[i] = -1
	}
	index := map[string]int{}
	dups := map[string]bool{}
	for i, n := range names {
		n = strings.TrimSpace(n)
		if _, seen := index[n]; seen {
			dups[n] = true
			continue
		}
		index[n] = i
	}
	var missing []string
	label := false // the column find looks for is a label: it may be absent
	find := func(src, role string) (int, error) {
		if dups[src] {
			return -1, fmt.Errorf("column %q (%s) appears more than once in the header; rename one", src, role)
		}
		i, ok := index[src]
		if !ok && label {
			b.MissingLabels = append(b.MissingLabels, fmt.Sprintf("%q (%s)", src, role))
			return -1, nil
		}
		if !ok {
			hint := ""
			for _, n := range names {
				if strings.EqualFold(strings.TrimSpace(n), src) {
					hint = fmt.Sprintf("; the header has %q, and names must match exactly", n)
				}
			}
			missing = append(missing, fmt.Sprintf("%q (%s%s)", src, role, hint))
			return -1, nil
		}
		return i, nil
	}
	var errs []error
	var fields []arrow.Field
	isLabel := func(i int, name string) bool {
		for _, l := range p.Labels {
			if l == name {
				return true
			}
		}
		return sourceLabel != nil && i < len(sourceLabel) && sourceLabel[i]
	}
	if p.ByName {
		used := map[string]int{}
		told := map[string]bool{} // duplicates reported, each once
		for i, n := range names {
			n = strings.TrimSpace(n)
			if dups[n] {
				if !told[n] {
					errs = append(errs, fmt.Errorf("column %q appears more than once in the header; rename one", n))
					told[n] = true
				}
				continue
			}
			if c, ok := columnIndex[n]; ok {
				b.Source[c] = i
				continue
			}
			name := SnakeCase(n)
			if prev, clash := used[name]; clash {
				errs = append(errs, fmt.Errorf("columns %q and %q both become the attribute %q; rename one", names[prev], n, name))
				continue
			}
			used[name] = i
			f := arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}
			if isLabel(i, name) {
				f = decl.LabelField(name)
			}
			b.Extras = append(b.Extras, BoundExtra{Source: i, Field: f})
			fields = append(fields, f)
		}
		for _, c := range Required {
			if b.Source[columnIndex[c]] < 0 && !dups[c] {
				errs = append(errs, fmt.Errorf("no %s column; the header has %s", c, quoteList(names)))
			}
		}
		for _, group := range RequiredOneOf {
			found := false
			for _, c := range group {
				found = found || b.Source[columnIndex[c]] >= 0
			}
			if !found {
				errs = append(errs, fmt.Errorf("none of the columns %s; the header has %s", strings.Join(group, ", "), quoteList(names)))
			}
		}
		if b.Source[columnIndex[decl.Illicit]] < 0 {
			b.MissingLabels = append(b.MissingLabels, fmt.Sprintf("%q", decl.Illicit))
		}
		if f := p.formula; f != nil {
			for _, c := range f.Columns() {
				if b.Source[columnIndex[c]] < 0 && !decl.Columns[columnIndex[c]].Label {
					errs = append(errs, fmt.Errorf("the revenue formula uses %s, which the source does not have", c))
				}
			}
		}
	} else {
		for _, canon := range sortedKeys(p.Columns) {
			label = decl.Columns[columnIndex[canon]].Label
			i, err := find(p.Columns[canon], "mapped to "+canon)
			if err != nil || i < 0 {
				if err != nil {
					errs = append(errs, err)
				}
				continue
			}
			b.Source[columnIndex[canon]] = i
		}
		for _, e := range p.Extras {
			role := "extra attribute " + e.Name
			label = e.Label || slices.Contains(p.Labels, e.Name)
			i, err := find(e.Source, role)
			if err != nil || i < 0 {
				if err != nil {
					errs = append(errs, err)
				}
				continue
			}
			f := arrow.Field{Name: e.Name, Type: arrow.BinaryTypes.String, Nullable: true}
			if e.Label || isLabel(i, e.Name) {
				f = decl.LabelField(e.Name)
			}
			b.Extras = append(b.Extras, BoundExtra{Source: i, Field: f})
			fields = append(fields, f)
		}
	}
	switch {
	case len(missing) == 1:
		errs = append(errs, fmt.Errorf("column %s is not in the header; the header has %s", missing[0], quoteList(names)))
	case len(missing) > 1:
		errs = append(errs, fmt.Errorf("%d columns are not in the header: %s; the header has %s",
			len(missing), strings.Join(missing, ", "), quoteList(names)))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	b.Schema = decl.SchemaFields(fields)
	return b, nil
}

func quoteList(names []string) string {
	const max = 30
	q := make([]string, 0, min(len(names), max))
	for i, n := range names {
		if i == max {
			q = append(q, fmt.Sprintf("... (%d more)", len(names)-max))
			break
		}
		q = append(q, fmt.Sprintf("%q", n))
	}
	if len(q) == 0 {
		return "no columns"
	}
	return strings.Join(q, ", ")
}

// Names returns the names of the built-in profiles, sorted.
func Names() []string {
	out := make([]string, 0, len(builtins))
	for n := range builtins {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Builtin returns a fresh copy of the built-in profile with the given name.
func Builtin(name string) (*Profile, bool) {
	mk, ok := builtins[name]
	if !ok {
		return nil, false
	}
	p := mk()
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("built-in profile %s is invalid: %v", name, err))
	}
	return p, true
}

// Resolve returns the built-in profile of that name, or loads the YAML
// profile at that path.
func Resolve(nameOrPath string) (*Profile, error) {
	if p, ok := Builtin(nameOrPath); ok {
		return p, nil
	}
	if _, err := os.Stat(nameOrPath); err == nil || isYAMLName(nameOrPath) {
		return Load(nameOrPath)
	}
	return nil, fmt.Errorf("unknown profile %q: it is neither a built-in profile (%s) nor a YAML file that exists; "+
		"run 'risklane profiles' to list them, or 'risklane profiles show kcs > mine.yaml' to start your own",
		nameOrPath, strings.Join(Names(), ", "))
}
