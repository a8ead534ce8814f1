package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// prices collect end to end against a local shop: the table and the
// rejects are written, and a rerun fetches nothing.
func TestPricesCollectCommand(t *testing.T) {
	page, err := os.ReadFile("../../ingest/prices/testdata/pages/shop.html")
	if err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		switch r.URL.Path {
		case "/robots.txt":
			w.Write([]byte("User-agent: *\nDisallow: /private/\n"))
		case "/p/charger":
			w.Write(page)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	config := filepath.Join(dir, "sources.yaml")
	yaml := `cache: cache
delay: 1ms
timeout: 5s
sources:
  - name: duka
    url: "` + srv.URL + `/p/{query}"
    items: li.product
    fields: {product: h2.name, price: span.price, currency: "span.price@data-currency"}
    unit: u
    products:
      - {hs6: "850440", query: charger}
      - {hs6: "850440", query: gone}
`
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "prices.csv")
	run := func() string {
		cmd := newPricesCmd()
		var b bytes.Buffer
		cmd.SetOut(&b)
		cmd.SetArgs([]string{"collect", "--config", config, "--out", out})
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	first := run()
	if !strings.Contains(first, "2 prices of 1 HS6 codes; 2 rejected") {
		t.Errorf("first run:\n%s", first)
	}
	table, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(table), "hs6,product,price,currency,unit,source,fetched_at\n850440,Laptop charger 65 W,2450,KES,u,duka,") {
		t.Errorf("price table: %v\n%s", err, table)
	}
	rejects, err := os.ReadFile(filepath.Join(dir, "prices.rejects.csv"))
	if err != nil || !strings.Contains(string(rejects), "/p/gone,duka,850440,HTTP 404 Not Found") {
		t.Errorf("rejects: %v\n%s", err, rejects)
	}
	before := requests.Load()
	second := run()
	if !strings.Contains(second, "1 pages from the cache") || !strings.Contains(second, "2 prices of 1 HS6 codes") {
		t.Errorf("rerun:\n%s", second)
	}
	// The rerun asks again only for what failed (robots.txt and the 404).
	if n := requests.Load() - before; n != 2 {
		t.Errorf("rerun made %d requests, want 2 (robots.txt and the missing page)", n)
	}
}
