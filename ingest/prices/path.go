package prices

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// A Path is a dotted JSON path: keys separated by dots, array indices in
// brackets ("data.items", "offers[0].price", "[2].name"). It is all the
// price pages need; a JSONPath library would bring filters and wildcards
// that a sources file has no use for, and one more dependency to vet.
type Path []step

type step struct {
	key   string
	index int // -1 for a key step
}

// MaxPathSteps bounds a path.
const MaxPathSteps = 64

// ParsePath reads a dotted path. An empty path is the value itself.
func ParsePath(s string) (Path, error) {
	var p Path
	rest := s
	for rest != "" {
		if len(p) == MaxPathSteps {
			return nil, fmt.Errorf("more than %d steps", MaxPathSteps)
		}
		if rest[0] == '[' {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ at %d", len(s)-len(rest)+1)
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("[%s] is not an array index", rest[1:end])
			}
			p = append(p, step{index: n})
			rest = rest[end+1:]
			if strings.HasPrefix(rest, ".") {
				rest = rest[1:]
				if rest == "" {
					return nil, fmt.Errorf("path ends in a dot")
				}
			} else if rest != "" && rest[0] != '[' {
				return nil, fmt.Errorf("expected . or [ after ] at %d", len(s)-len(rest)+1)
			}
			continue
		}
		end := strings.IndexAny(rest, ".[")
		if end < 0 {
			end = len(rest)
		}
		if end == 0 {
			return nil, fmt.Errorf("empty key at %d", len(s)-len(rest)+1)
		}
		if strings.ContainsRune(rest[:end], ']') {
			return nil, fmt.Errorf("] without [ at %d", len(s)-len(rest)+strings.IndexByte(rest, ']')+1)
		}
		p = append(p, step{key: rest[:end], index: -1})
		rest = rest[end:]
		if strings.HasPrefix(rest, ".") {
			rest = rest[1:]
			if rest == "" {
				return nil, fmt.Errorf("path ends in a dot")
			}
		}
	}
	return p, nil
}

// Get follows the path through a value decoded by encoding/json (with
// UseNumber or without); false when a step is missing.
func (p Path) Get(v any) (any, bool) {
	for _, s := range p {
		if s.index < 0 {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[s.key]; !ok {
				return nil, false
			}
			continue
		}
		a, ok := v.([]any)
		if !ok || s.index >= len(a) {
			return nil, false
		}
		v = a[s.index]
	}
	return v, true
}

// String writes the path back in the form ParsePath reads.
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		if s.index >= 0 {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// scalarText renders a JSON scalar as text; false for objects, arrays and
// null.
func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}
