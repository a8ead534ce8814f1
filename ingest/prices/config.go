package prices

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"

	"risklane/ingest/profile"
)

// Config is a sources file for Collect (docs/prices.md has an example).
type Config struct {
	// Contact goes into the User-Agent, so that a shop can reach whoever
	// runs the collection (an e-mail address or a web page).
	Contact string `yaml:"contact"`
	// Cache is the folder of fetched pages; relative to the sources file.
	Cache string `yaml:"cache"`
	// Delay is the least time between two requests to one host (a
	// robots.txt Crawl-delay that asks for more wins); Timeout bounds one
	// request; Retries is how often a failed request (network error, 5xx,
	// 429) is tried again, waiting Backoff, then twice as long each time;
	// MaxAge is how long a cached page is used (0: always).
	Delay   string   `yaml:"delay"`
	Timeout string   `yaml:"timeout"`
	Retries *int     `yaml:"retries"`
	Backoff string   `yaml:"backoff"`
	MaxAge  string   `yaml:"max_age"`
	Sources []Source `yaml:"sources"`

	// Parsed durations.
	delay, timeout, backoff, maxAge time.Duration
	retries                         int
}

// Source is one shop.
type Source struct {
	Name string `yaml:"name"`
	// URL is the page of a product, with {query} replaced by the product's
	// query (escaped).
	URL string `yaml:"url"`
	// Format is "html" (CSS selectors) or "json" (dotted paths such as
	// data.items or offers[0].price).
	Format string `yaml:"format"`
	// Items selects each product on the page; empty: the page is one item.
	Items string `yaml:"items"`
	// Fields select, inside an item, its name, price, currency and unit.
	// An HTML rule is a CSS selector, optionally followed by @attr to read
	// an attribute instead of the text ("span.price@content"; "@data-unit"
	// reads the item's own attribute). price is required.
	Fields Fields `yaml:"fields"`
	// Currency and Unit are used when the page does not say.
	Currency string `yaml:"currency"`
	Unit     string `yaml:"unit"`
	// Products are what to look up, each with its HS6 code.
	Products []Product `yaml:"products"`
}

// Fields are the extraction rules of an item.
type Fields struct {
	Product  string `yaml:"product"`
	Price    string `yaml:"price"`
	Currency string `yaml:"currency"`
	Unit     string `yaml:"unit"`
}

// Product is one product to look up at a source.
type Product struct {
	HS6 string `yaml:"hs6"`
	// Query fills {query} in the source's URL.
	Query string `yaml:"query"`
	// Product names it when the page has no product field.
	Product string `yaml:"product"`
	// Unit overrides the source's unit for this product.
	Unit string `yaml:"unit"`
}

// MaxConfigBytes bounds a sources file.
const MaxConfigBytes = 1 << 20

// LoadConfig reads a sources file.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxConfigBytes {
		return nil, fmt.Errorf("%s: larger than %d KiB; a sources file is small", path, MaxConfigBytes>>10)
	}
	return ParseConfig(data, path)
}

// ParseConfig reads a sources file with the project's strict YAML decoder
// (profile.DecodePlain: unknown keys, anchors, aliases and tags refused)
// and checks every rule before anything is fetched. Errors name the file
// and line.
func ParseConfig(data []byte, path string) (*Config, error) {
	var c Config
	body, err := profile.DecodePlain(data, &c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	at := func(keys ...any) string { return fmt.Sprintf("%s line %d", path, profile.LineOf(body, keys)) }
	dur := func(key, s string, def time.Duration) (time.Duration, error) {
		if s == "" {
			return def, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%s: %s %q is not a duration such as 2s or 1h", at(key), key, s)
		}
		return d, nil
	}
	if c.delay, err = dur("delay", c.Delay, time.Second); err != nil {
		return nil, err
	}
	if c.timeout, err = dur("timeout", c.Timeout, 30*time.Second); err != nil {
		return nil, err
	}
	if c.backoff, err = dur("backoff", c.Backoff, 2*time.Second); err != nil {
		return nil, err
	}
	if c.maxAge, err = dur("max_age", c.MaxAge, 0); err != nil {
		return nil, err
	}
	if c.timeout == 0 {
		return nil, fmt.Errorf("%s: timeout must be more than 0", at("timeout"))
	}
	c.retries = 2
	if c.Retries != nil {
		if *c.Retries < 0 || *c.Retries > 10 {
			return nil, fmt.Errorf("%s: retries must be 0 to 10", at("retries"))
		}
		c.retries = *c.Retries
	}
	if strings.ContainsAny(c.Contact, "\r\n()") {
		return nil, fmt.Errorf("%s: contact must be one line without parentheses", at("contact"))
	}
	if len(c.Sources) == 0 {
		return nil, fmt.Errorf("%s: no sources", path)
	}
	names := map[string]bool{}
	for i := range c.Sources {
		s := &c.Sources[i]
		where := func(keys ...any) string { return at(append([]any{"sources", i}, keys...)...) }
		switch {
		case s.Name == "":
			return nil, fmt.Errorf("%s: a source needs a name", where())
		case names[s.Name]:
			return nil, fmt.Errorf("%s: source %q is named twice", where("name"), s.Name)
		}
		names[s.Name] = true
		if s.Format == "" {
			s.Format = "html"
		}
		u, err := url.Parse(strings.ReplaceAll(s.URL, "{query}", "q"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s: url %q is not an http(s) URL", where("url"), s.URL)
		}
		if len(s.Products) > 1 && !strings.Contains(s.URL, "{query}") {
			return nil, fmt.Errorf("%s: url has no {query} for its %d products", where("url"), len(s.Products))
		}
		if s.Fields.Price == "" {
			return nil, fmt.Errorf("%s: fields.price is required", where("fields"))
		}
		rules := map[string]string{"items": s.Items, "fields.product": s.Fields.Product, "fields.price": s.Fields.Price,
			"fields.currency": s.Fields.Currency, "fields.unit": s.Fields.Unit}
		for key, rule := range rules {
			if rule == "" {
				continue
			}
			var err error
			switch s.Format {
			case "html":
				sel, _ := splitAttr(rule)
				if key == "items" && strings.Contains(rule, "@") {
					err = fmt.Errorf("items selects elements; it takes no @attribute")
				} else if sel != "" {
					_, err = cascadia.ParseGroup(sel)
				}
			case "json":
				_, err = ParsePath(rule)
			default:
				return nil, fmt.Errorf("%s: format %q is neither html nor json", where("format"), s.Format)
			}
			if err != nil {
				k, sub, _ := strings.Cut(key, ".")
				keys := []any{k}
				if sub != "" {
					keys = append(keys, sub)
				}
				return nil, fmt.Errorf("%s: %s %q: %v", where(keys...), key, rule, err)
			}
		}
		if s.Unit != "" {
			if _, _, ok := NormalizeUnit(s.Unit); !ok {
				return nil, fmt.Errorf("%s: unit %q is neither a mass (kg, g, t) nor a piece (u)", where("unit"), s.Unit)
			}
		}
		if len(s.Products) == 0 {
			return nil, fmt.Errorf("%s: source %q has no products", where(), s.Name)
		}
		for j := range s.Products {
			p := &s.Products[j]
			if p.HS6, err = CheckHS6(p.HS6); err != nil {
				return nil, fmt.Errorf("%s: %v", where("products", j, "hs6"), err)
			}
			if p.Unit != "" {
				if _, _, ok := NormalizeUnit(p.Unit); !ok {
					return nil, fmt.Errorf("%s: unit %q is neither a mass (kg, g, t) nor a piece (u)", where("products", j, "unit"), p.Unit)
				}
			}
		}
	}
	return &c, nil
}

// splitAttr splits an HTML rule "sel@attr" into its selector and attribute.
func splitAttr(rule string) (sel, attr string) {
	if i := strings.LastIndexByte(rule, '@'); i >= 0 {
		return strings.TrimSpace(rule[:i]), strings.TrimSpace(rule[i+1:])
	}
	return strings.TrimSpace(rule), ""
}
