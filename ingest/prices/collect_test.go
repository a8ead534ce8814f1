package prices

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// shopServer serves the saved pages of testdata/pages the way shops do, with
// the failures a collection meets. It records every request.
type shopServer struct {
	*httptest.Server
	mu    sync.Mutex
	log   []request
	flaky int
}

type request struct {
	path, agent string
	at          time.Time
}

func newShopServer(t *testing.T) *shopServer {
	t.Helper()
	s := &shopServer{}
	page := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata/pages", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("User-agent: *\nDisallow: /private/\n\nUser-agent: risklane\nDisallow: /private/\nDisallow: /members/\n"))
	})
	mux.HandleFunc("/p/charger", func(w http.ResponseWriter, r *http.Request) { w.Write(page("shop.html")) })
	mux.HandleFunc("/p/rice", func(w http.ResponseWriter, r *http.Request) { w.Write(page("broken.html")) })
	mux.HandleFunc("/p/relaid", func(w http.ResponseWriter, r *http.Request) { w.Write(page("relaid.html")) })
	mux.HandleFunc("/p/members", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/members/charger", http.StatusFound)
	})
	mux.HandleFunc("/p/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/p/charger", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/p/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/p/loop", http.StatusFound) })
	mux.HandleFunc("/members/charger", func(w http.ResponseWriter, r *http.Request) { w.Write(page("shop.html")) })
	mux.HandleFunc("/p/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		w.Write(page("shop.html"))
	})
	mux.HandleFunc("/p/flaky", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.flaky++
		n := s.flaky
		s.mu.Unlock()
		if n == 1 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		w.Write(page("shop.html"))
	})
	mux.HandleFunc("/p/down", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) })
	mux.HandleFunc("/p/gone", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/api/shirts", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(page("api.json"))
	})
	mux.HandleFunc("/api/html-instead", func(w http.ResponseWriter, r *http.Request) { w.Write(page("shop.html")) })
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.log = append(s.log, request{r.URL.Path, r.UserAgent(), time.Now()})
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *shopServer) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.log...)
}

const sourcesYAML = `contact: valuation@customs.example
delay: 30ms
timeout: 300ms
retries: 2
backoff: 10ms
sources:
  - name: duka
    url: "BASE/p/{query}"
    items: li.product
    fields:
      product: h2.name
      price: span.price
      currency: span.price@data-currency
      unit: "@data-unit"
    products:
      - {hs6: "850440", query: charger}
      - {hs6: "100630", query: rice}
      - {hs6: "850440", query: relaid}
      - {hs6: "850440", query: members}
      - {hs6: "850440", query: moved}
      - {hs6: "850440", query: loop}
      - {hs6: "850440", query: slow}
      - {hs6: "850440", query: flaky}
      - {hs6: "850440", query: down}
      - {hs6: "850440", query: gone}
  - name: tees
    url: "BASE/api/{query}"
    format: json
    items: data.items
    fields:
      product: title
      price: offer.amount
      currency: offer.currency
      unit: offer.per
    products:
      - {hs6: "610910", query: shirts}
      - {hs6: "610910", query: html-instead}
`

func collect(t *testing.T, s *shopServer, cache string) ([]Price, []Reject, FetchStats) {
	t.Helper()
	c, err := ParseConfig([]byte(strings.ReplaceAll(sourcesYAML, "BASE", s.URL)), "sources.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := NewFetcher(c, cache, "test")
	ps, rejects, err := Collect(context.Background(), c, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ps, rejects, f.Stats()
}

func TestCollect(t *testing.T) {
	s := newShopServer(t)
	cache := t.TempDir()
	ps, rejects, st := collect(t, s, cache)

	got := map[string]int{}
	for _, p := range ps {
		got[p.Source+" "+p.Product+" "+p.Currency+" "+p.Unit+" "+strings.TrimRight(strings.TrimRight(ftoa(p.Price), "0"), ".")]++
	}
	want := map[string]int{
		// charger, moved (a redirect to charger) and flaky (503, then the
		// page): the two priced items of shop.html three times.
		"duka Laptop charger 65 W KES u 2450":              3,
		"duka Laptop charger 90 W, universal KES u 3100.5": 3,
		"tees Cotton T-shirt USD u 4.5":                    1,
		"tees Cotton T-shirt, pack of 3 USD u 12":          1,
		"tees Cotton fabric USD kg 6.5":                    1,
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("price %q: %d, want %d", k, got[k], n)
		}
	}
	if len(ps) != 9 {
		t.Errorf("%d prices, want 9: %v", len(ps), got)
	}
	reasons := map[string]string{}
	for _, r := range rejects {
		key := r.Where[len(s.URL):]
		reasons[key] += r.Reason + "|"
	}
	for path, want := range map[string]string{
		"/p/charger": `price "span.price" matched nothing`, // the sold-out item
		// broken.html: unclosed elements run the first item's price into the
		// next item's text; the second price is garbage. Both rejected.
		"/p/rice":           "holds text other than a number and a currency|price \"1 2 3 abc\" is in ABC but the currency field says KES",
		"/p/relaid":         `no element matches items "li.product": the page's layout may have changed`,
		"/p/members":        "robots.txt disallows it",
		"/p/loop":           "more than 5 redirects",
		"/p/slow":           "Timeout",
		"/p/down":           "HTTP 502",
		"/p/gone":           "HTTP 404",
		"/api/shirts":       `price "offer.amount" matched nothing`,
		"/api/html-instead": "not readable as JSON",
	} {
		if !strings.Contains(reasons[path], want) {
			t.Errorf("rejects of %s: %q, want %q", path, reasons[path], want)
		}
	}
	reqs := s.requests()
	slow, down := 0, 0
	for _, r := range reqs {
		if !strings.HasPrefix(r.agent, "risklane/test (price collection for customs valuation; valuation@customs.example)") {
			t.Errorf("%s: User-Agent %q", r.path, r.agent)
		}
		if r.path == "/members/charger" {
			t.Error("followed a redirect into a path robots.txt disallows")
		}
		switch r.path {
		case "/p/slow":
			slow++
		case "/p/down":
			down++
		}
	}
	// One host: requests are booked 30ms apart at least (arrival times
	// jitter, so the test checks the whole run rather than each gap).
	if span, least := reqs[len(reqs)-1].at.Sub(reqs[0].at), time.Duration(len(reqs)-1)*30*time.Millisecond; span < least*9/10 {
		t.Errorf("%d requests in %v: the 30ms delay asks for at least %v", len(reqs), span, least)
	}
	if slow != 3 || down != 3 {
		t.Errorf("slow asked %d times, down %d: want 3 each (1 + 2 retries)", slow, down)
	}
	if st.Robots != 1 || st.Retried < 5 {
		t.Errorf("stats %+v", st)
	}

	// A rerun takes every page it got from the cache: no request at all.
	before := len(s.requests())
	ps2, _, st2 := collect(t, s, cache)
	if len(ps2) != len(ps) || st2.Cached != 7 {
		t.Errorf("rerun: %d prices, %d pages from the cache (stats %+v)", len(ps2), st2.Cached, st2)
	}
	for _, r := range s.requests()[before:] {
		switch r.path {
		case "/p/charger", "/p/rice", "/p/relaid", "/api/shirts", "/api/html-instead", "/p/flaky":
			t.Errorf("rerun fetched the cached page %s again", r.path)
		}
	}
	for i := range ps {
		if !ps[i].FetchedAt.Equal(ps2[i].FetchedAt) {
			t.Errorf("a cached price keeps the time it was fetched: %v, then %v", ps[i].FetchedAt, ps2[i].FetchedAt)
			break
		}
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
