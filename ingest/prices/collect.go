package prices

import (
	"context"
	"net/url"
	"strings"
)

// Collect fetches every product page of every source and extracts its
// prices. A page or item that gives no price becomes a Reject with its URL
// and reason; Collect itself fails only when ctx ends. rates, if not nil,
// converts the prices.
func Collect(ctx context.Context, c *Config, f *Fetcher, rates *Rates) ([]Price, []Reject, error) {
	var ps []Price
	var rejects []Reject
	for i := range c.Sources {
		s := &c.Sources[i]
		for _, prod := range s.Products {
			u := strings.ReplaceAll(s.URL, "{query}", url.PathEscape(prod.Query))
			reject := func(reason string) {
				rejects = append(rejects, Reject{Where: u, Source: s.Name, HS6: prod.HS6, Reason: reason})
			}
			page, err := f.Get(ctx, u)
			if err != nil {
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				reject(err.Error())
				continue
			}
			items, err := extract(s, page.Body)
			if err != nil {
				reject(err.Error())
				continue
			}
			for _, it := range items {
				if it.problem != "" {
					reject(it.problem)
					continue
				}
				p, why := s.price(prod, it, page)
				if why != "" {
					reject(why)
					continue
				}
				if rates != nil {
					if p, err = rates.Convert(p); err != nil {
						reject(err.Error())
						continue
					}
				}
				ps = append(ps, p)
			}
		}
	}
	return ps, rejects, nil
}

// price turns an extracted item into a Price, or says why it cannot.
func (s *Source) price(prod Product, it item, page *Page) (Price, string) {
	p := Price{HS6: prod.HS6, Product: it.product, Source: s.Name, FetchedAt: page.FetchedAt}
	if p.Product == "" {
		p.Product = prod.Product
	}
	if p.Product == "" {
		p.Product = prod.Query
	}
	amount, cur, err := ParseAmount(it.price)
	if err != nil {
		return p, err.Error()
	}
	p.Currency = strings.ToUpper(strings.TrimSpace(it.currency))
	if cur != "" && p.Currency != "" && cur != p.Currency {
		return p, "price " + quote(it.price) + " is in " + cur + " but the currency field says " + p.Currency
	}
	if p.Currency == "" {
		p.Currency = cur
	}
	if p.Currency == "" {
		p.Currency = strings.ToUpper(s.Currency)
	}
	if len(p.Currency) != 3 {
		return p, "no currency on the page and none configured for the source"
	}
	unit := it.unit
	if unit == "" {
		unit = prod.Unit
	}
	if unit == "" {
		unit = s.Unit
	}
	u, factor, ok := NormalizeUnit(unit)
	if !ok {
		return p, "unit " + quote(unit) + " is neither a mass (kg, g, t) nor a piece (u)"
	}
	p.Unit, p.Price = u, amount*factor
	if !(p.Price > 0) {
		return p, "price " + quote(it.price) + " is not positive"
	}
	return p, ""
}

func quote(s string) string { return "\"" + s + "\"" }
