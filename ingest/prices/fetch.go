package prices

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/temoto/robotstxt"

	"risklane/sink"
)

// Agent is the product token risklane gives in its User-Agent and looks for
// in robots.txt.
const Agent = "risklane"

// MaxPageBytes bounds a fetched page.
const MaxPageBytes = 8 << 20

// maxRedirects bounds the redirects followed for one request.
const maxRedirects = 5

// Fetcher fetches pages as a polite client: robots.txt is honoured for
// every URL it is sent to (redirects included), requests to one host are
// Delay apart (or the robots.txt Crawl-delay, if longer), failures that may
// pass (network errors, timeouts, 5xx, 429) are retried with exponential
// backoff, and successful pages are cached on disk.
type Fetcher struct {
	Client    *http.Client
	UserAgent string
	Delay     time.Duration
	Retries   int
	Backoff   time.Duration
	// CacheDir holds fetched pages ("" for no cache); MaxAge is how long
	// one is used (0: always).
	CacheDir string
	MaxAge   time.Duration
	// Now gives the time (time.Now when nil).
	Now func() time.Time

	mu     sync.Mutex
	next   map[string]time.Time // host -> earliest next request
	robots map[string]*robotstxt.Group
	stats  FetchStats
}

// FetchStats counts what a Fetcher did.
type FetchStats struct {
	Requests, Cached, Retried, Robots int
}

// NewFetcher returns a Fetcher configured by c.
func NewFetcher(c *Config, cacheDir, version string) *Fetcher {
	f := &Fetcher{Delay: c.delay, Retries: c.retries, Backoff: c.backoff, CacheDir: cacheDir, MaxAge: c.maxAge}
	f.UserAgent = UserAgent(version, c.Contact)
	f.Client = &http.Client{Timeout: c.timeout}
	return f
}

// UserAgent says what risklane is and why it visits.
func UserAgent(version, contact string) string {
	ua := Agent + "/" + version + " (price collection for customs valuation"
	if contact != "" {
		ua += "; " + contact
	}
	return ua + ")"
}

// Stats returns what the fetcher did so far.
func (f *Fetcher) Stats() FetchStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Page is a fetched page.
type Page struct {
	// URL is the page's final address, after redirects.
	URL       string
	Body      []byte
	FetchedAt time.Time
	Cached    bool
}

// ErrRobots is returned for a URL that robots.txt disallows.
var ErrRobots = errors.New("robots.txt disallows it")

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Get returns the page at rawURL, from the cache when it holds a fresh
// copy.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*Page, error) {
	if p, ok := f.fromCache(rawURL); ok {
		f.mu.Lock()
		f.stats.Cached++
		f.mu.Unlock()
		return p, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if err := f.allowed(ctx, u); err != nil {
		return nil, err
	}
	client := *f.Client
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return policyError{fmt.Errorf("more than %d redirects", maxRedirects)}
		}
		if err := f.allowed(req.Context(), req.URL); err != nil {
			return fmt.Errorf("redirected to %s: %w", req.URL, err)
		}
		return f.wait(req.Context(), req.URL.Host)
	}
	var last error
	for attempt := 0; attempt <= f.Retries; attempt++ {
		if attempt > 0 {
			f.mu.Lock()
			f.stats.Retried++
			f.mu.Unlock()
			pause := f.Backoff << (attempt - 1)
			if ra, ok := last.(retryAfter); ok && ra.d > pause {
				pause = min(ra.d, 4*f.Backoff<<(attempt-1))
			}
			if err := sleep(ctx, pause); err != nil {
				return nil, err
			}
		}
		p, err, again := f.fetch(ctx, &client, u)
		if err == nil {
			f.toCache(rawURL, p)
			return p, nil
		}
		last = err
		if !again {
			break
		}
	}
	return nil, last
}

// retryAfter is a status that may pass, with the server's Retry-After.
type retryAfter struct {
	status int
	d      time.Duration
}

func (r retryAfter) Error() string {
	return "HTTP " + strconv.Itoa(r.status) + " " + http.StatusText(r.status)
}

// fetch makes one request; again says whether trying again may help.
func (f *Fetcher) fetch(ctx context.Context, client *http.Client, u *url.URL) (_ *Page, _ error, again bool) {
	if err := f.wait(ctx, u.Host); err != nil {
		return nil, err, false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err, false
	}
	req.Header.Set("User-Agent", f.UserAgent)
	f.mu.Lock()
	f.stats.Requests++
	f.mu.Unlock()
	at := f.now().UTC()
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && isPolicy(ue.Err) {
			return nil, ue.Err, false
		}
		return nil, err, ctx.Err() == nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			ra := retryAfter{status: resp.StatusCode}
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				ra.d = time.Duration(s) * time.Second
			}
			return nil, ra, true
		}
		return nil, fmt.Errorf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode)), false
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxPageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the page: %w", err), true
	}
	if len(body) > MaxPageBytes {
		return nil, fmt.Errorf("the page is larger than %d MiB", MaxPageBytes>>20), false
	}
	return &Page{URL: resp.Request.URL.String(), Body: body, FetchedAt: at}, nil, false
}

// isPolicy reports an error of CheckRedirect (too many redirects, a
// disallowed target), which trying again cannot cure.
func isPolicy(err error) bool {
	var pe policyError
	return errors.As(err, &pe) || errors.Is(err, ErrRobots)
}

type policyError struct{ error }

// wait blocks until host may be asked again and books the next slot.
func (f *Fetcher) wait(ctx context.Context, host string) error {
	f.mu.Lock()
	if f.next == nil {
		f.next = map[string]time.Time{}
	}
	now := f.now()
	at := f.next[host]
	if at.Before(now) {
		at = now
	}
	delay := f.Delay
	if g := f.robots[host]; g != nil && g.CrawlDelay > delay {
		delay = min(g.CrawlDelay, time.Minute)
	}
	f.next[host] = at.Add(delay)
	f.mu.Unlock()
	return sleep(ctx, at.Sub(now))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// allowed fetches the host's robots.txt once and tests the URL's path
// against the rules for risklane (or *). A robots.txt that cannot be had
// for a server error disallows everything, as robotstxt reads 5xx; a
// missing one (4xx) allows everything.
func (f *Fetcher) allowed(ctx context.Context, u *url.URL) error {
	f.mu.Lock()
	g, ok := f.robots[u.Host]
	f.mu.Unlock()
	if !ok {
		var err error
		if g, err = f.fetchRobots(ctx, u); err != nil {
			return err
		}
		f.mu.Lock()
		if f.robots == nil {
			f.robots = map[string]*robotstxt.Group{}
		}
		f.robots[u.Host] = g
		f.mu.Unlock()
	}
	path := u.EscapedPath()
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	if !g.Test(path) {
		f.mu.Lock()
		f.stats.Robots++
		f.mu.Unlock()
		return ErrRobots
	}
	return nil
}

func (f *Fetcher) fetchRobots(ctx context.Context, u *url.URL) (*robotstxt.Group, error) {
	ru := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	client := *f.Client
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return policyError{fmt.Errorf("robots.txt: more than %d redirects", maxRedirects)}
		}
		return nil
	}
	var status int
	var body []byte
	var last error
	for attempt := 0; attempt <= f.Retries; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, f.Backoff<<(attempt-1)); err != nil {
				return nil, err
			}
		}
		if err := f.wait(ctx, u.Host); err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ru.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("User-Agent", f.UserAgent)
		f.mu.Lock()
		f.stats.Requests++
		f.mu.Unlock()
		resp, err := client.Do(req)
		if err != nil {
			last = fmt.Errorf("robots.txt: %w", err)
			continue
		}
		status = resp.StatusCode
		body, err = io.ReadAll(io.LimitReader(resp.Body, 512<<10))
		resp.Body.Close()
		if err != nil {
			last = fmt.Errorf("robots.txt: %w", err)
			continue
		}
		last = nil
		if status < 500 {
			break
		}
	}
	if last != nil {
		return nil, last
	}
	data, err := robotstxt.FromStatusAndBytes(status, body)
	if err != nil {
		// Unparsable rules: be conservative.
		data, _ = robotstxt.FromStatusAndBytes(http.StatusInternalServerError, nil)
	}
	return data.FindGroup(Agent), nil
}

// cacheEntry is the metadata file beside a cached page.
type cacheEntry struct {
	URL       string    `json:"url"`
	FinalURL  string    `json:"final_url"`
	FetchedAt time.Time `json:"fetched_at"`
}

func (f *Fetcher) cachePath(rawURL string) string {
	sum := sha256.Sum256([]byte(rawURL))
	return filepath.Join(f.CacheDir, hex.EncodeToString(sum[:16]))
}

func (f *Fetcher) fromCache(rawURL string) (*Page, bool) {
	if f.CacheDir == "" {
		return nil, false
	}
	base := f.cachePath(rawURL)
	meta, err := os.ReadFile(base + ".json")
	if err != nil {
		return nil, false
	}
	var e cacheEntry
	if json.Unmarshal(meta, &e) != nil || e.URL != rawURL {
		return nil, false
	}
	if f.MaxAge > 0 && f.now().Sub(e.FetchedAt) > f.MaxAge {
		return nil, false
	}
	body, err := os.ReadFile(base + ".page")
	if err != nil || len(body) > MaxPageBytes {
		return nil, false
	}
	return &Page{URL: e.FinalURL, Body: body, FetchedAt: e.FetchedAt, Cached: true}, true
}

// toCache stores a page; a cache that cannot be written costs a refetch
// next time, not this run.
func (f *Fetcher) toCache(rawURL string, p *Page) {
	if f.CacheDir == "" {
		return
	}
	if err := os.MkdirAll(f.CacheDir, 0o755); err != nil {
		return
	}
	base := f.cachePath(rawURL)
	meta, _ := json.Marshal(cacheEntry{URL: rawURL, FinalURL: p.URL, FetchedAt: p.FetchedAt})
	// The page first: an entry is only used when its metadata exists.
	if sink.WriteFileAtomic(base+".page", p.Body) == nil {
		_ = sink.WriteFileAtomic(base+".json", meta)
	}
}
