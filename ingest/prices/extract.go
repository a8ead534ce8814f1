package prices

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/PuerkitoBio/goquery"
)

// item is what one product on a page says; problem is why it gives no
// price ("" when it does).
type item struct {
	product, price, currency, unit string
	problem                        string
}

// MaxItems bounds the items read from one page.
const MaxItems = 1000

// Extract applies a source's rules to a page. An error means the page as a
// whole is unusable (not HTML or JSON, no item where the rules expect
// some: a layout change); an item without a price carries its own problem.
func extract(s *Source, body []byte) ([]item, error) {
	if s.Format == "json" {
		return extractJSON(s, body)
	}
	return extractHTML(s, body)
}

func extractHTML(s *Source, body []byte) ([]item, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("not readable as HTML: %v", err)
	}
	sel := doc.Selection
	if s.Items != "" {
		sel = doc.Find(s.Items)
		if sel.Length() == 0 {
			return nil, fmt.Errorf("no element matches items %q: the page's layout may have changed", s.Items)
		}
	}
	var items []item
	sel.EachWithBreak(func(_ int, it *goquery.Selection) bool {
		field := func(rule string) (string, bool) {
			if rule == "" {
				return "", false
			}
			css, attr := splitAttr(rule)
			node := it
			if css != "" {
				node = it.Find(css).First()
				if node.Length() == 0 {
					return "", false
				}
			}
			if attr != "" {
				return node.Attr(attr)
			}
			return strings.Join(strings.Fields(node.Text()), " "), true
		}
		items = append(items, fill(s, field))
		return len(items) < MaxItems
	})
	return items, nil
}

func extractJSON(s *Source, body []byte) ([]item, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("not readable as JSON: %v", err)
	}
	list := []any{root}
	if s.Items != "" {
		p, err := ParsePath(s.Items)
		if err != nil {
			return nil, err
		}
		v, ok := p.Get(root)
		if !ok {
			return nil, fmt.Errorf("no value at items %q: the page's layout may have changed", s.Items)
		}
		if a, isArray := v.([]any); isArray {
			list = a
		} else {
			list = []any{v}
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("items %q is an empty list: no products on the page", s.Items)
		}
	}
	var items []item
	for _, v := range list[:min(len(list), MaxItems)] {
		field := func(rule string) (string, bool) {
			if rule == "" {
				return "", false
			}
			p, err := ParsePath(rule)
			if err != nil {
				return "", false
			}
			x, ok := p.Get(v)
			if !ok {
				return "", false
			}
			return scalarText(x)
		}
		items = append(items, fill(s, field))
	}
	return items, nil
}

// fill reads an item's fields.
func fill(s *Source, field func(rule string) (string, bool)) item {
	var it item
	it.product, _ = field(s.Fields.Product)
	it.currency, _ = field(s.Fields.Currency)
	it.unit, _ = field(s.Fields.Unit)
	price, ok := field(s.Fields.Price)
	switch {
	case !ok:
		it.problem = fmt.Sprintf("price %q matched nothing: the page's layout may have changed", s.Fields.Price)
	case strings.TrimSpace(price) == "":
		it.problem = fmt.Sprintf("price %q is empty", s.Fields.Price)
	}
	it.price = price
	return it
}
