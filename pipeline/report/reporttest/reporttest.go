// Package reporttest opens a risklane HTML report in headless Chromium, from
// disk and with the network off, and tells what the browser saw: console
// errors and uncaught exceptions, attempts to reach the network, how every
// chart rendered, and a full-page screenshot.
//
// It drives the browser through the Chrome DevTools Protocol over
// --remote-debugging-pipe (JSON messages separated by NUL bytes on file
// descriptors 3 and 4), so that it needs no port, no WebSocket library and
// nothing beyond Debian's chromium package.
package reporttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Chart is what the browser drew in one chart's element.
type Chart struct {
	ID string `json:"id"`
	// Found says whether the element exists.
	Found bool `json:"found"`
	// Canvases and SVGs count the drawing surfaces in the element; Width and
	// Height are the largest one's size in CSS pixels.
	Canvases int     `json:"canvases"`
	SVGs     int     `json:"svgs"`
	Width    float64 `json:"width"`
	Height   float64 `json:"height"`
	// Painted counts sampled canvas pixels that are not transparent: zero
	// means an empty canvas.
	Painted int `json:"painted"`
}

// Result is what the browser saw.
type Result struct {
	// Errors are uncaught exceptions, console errors, error log entries
	// (a resource that failed to load) and ECharts warnings.
	Errors []string
	// Network lists the URLs the page tried to fetch other than the report
	// itself and data: URLs.
	Network []string
	// Charts describes each chart element asked about, in order.
	Charts []Chart
	// Drawn is the number of charts the page's own script reports drawing
	// (body[data-charts]); -1 when it never said.
	Drawn int
	// PageErrors is the page script's own error count
	// (body[data-report-errors]).
	PageErrors int
	// Screenshot is a PNG of the whole page.
	Screenshot []byte
}

// Browser returns the Chromium to use: $RISKLANE_CHROMIUM, else the first of
// chromium, chromium-browser, google-chrome on the PATH; "" when none.
func Browser() string {
	if b := os.Getenv("RISKLANE_CHROMIUM"); b != "" {
		return b
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Open loads the HTML file at path in a fresh headless browser and collects
// what it saw about the charts with the given element ids.
func Open(ctx context.Context, browser, path string, chartIDs []string) (*Result, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "risklane-chromium-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)

	// fd 3: the browser reads commands; fd 4: it writes replies and events.
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	evR, evW, err := os.Pipe()
	if err != nil {
		cmdR.Close()
		cmdW.Close()
		return nil, err
	}
	cmd := exec.Command(browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
		// Network off: no proxy reachable, no name resolves.
		"--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
		"--user-data-dir="+profile, "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, evW}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		for _, f := range []*os.File{cmdR, cmdW, evR, evW} {
			f.Close()
		}
		return nil, fmt.Errorf("start %s: %w", browser, err)
	}
	cmdR.Close()
	evW.Close()
	c := &conn{w: cmdW, pending: map[int]chan reply{}, events: make(chan event, 1024)}
	go c.read(evR)
	defer func() {
		// A browser that does not close when asked is killed below.
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = c.call(closeCtx, "", "Browser.close", nil)
		cancel()
		cmdW.Close()
		done := make(chan struct{})
		go func() {
			_ = cmd.Wait() // the browser's exit status says nothing about the page
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		evR.Close()
	}()
	res, err := c.visit(ctx, (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), chartIDs)
	if err != nil && stderr.Len() > 0 {
		err = fmt.Errorf("%w\nbrowser stderr:\n%s", err, tail(stderr.String(), 2000))
	}
	return res, err
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

type reply struct {
	Result json.RawMessage
	Err    error
}

type event struct {
	Method    string
	SessionID string
	Params    json.RawMessage
}

type conn struct {
	mu      sync.Mutex
	w       *os.File
	next    int
	pending map[int]chan reply
	events  chan event
	readErr error
}

func (c *conn) read(r *os.File) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			c.mu.Lock()
			c.readErr = fmt.Errorf("browser closed the DevTools pipe: %w", err)
			for id, ch := range c.pending {
				ch <- reply{Err: c.readErr}
				delete(c.pending, id)
			}
			c.mu.Unlock()
			close(c.events)
			return
		}
		var m struct {
			ID        int             `json:"id"`
			Method    string          `json:"method"`
			SessionID string          `json:"sessionId"`
			Params    json.RawMessage `json:"params"`
			Result    json.RawMessage `json:"result"`
			Error     *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(msg[:len(msg)-1], &m); err != nil {
			continue
		}
		if m.ID != 0 {
			c.mu.Lock()
			ch := c.pending[m.ID]
			delete(c.pending, m.ID)
			c.mu.Unlock()
			if ch != nil {
				rp := reply{Result: m.Result}
				if m.Error != nil {
					rp.Err = fmt.Errorf("DevTools error %d: %s", m.Error.Code, m.Error.Message)
				}
				ch <- rp
			}
			continue
		}
		select {
		case c.events <- event{m.Method, m.SessionID, m.Params}:
		default: // a flood of events the caller does not read is dropped
		}
	}
}

// call sends one command and waits for its reply.
func (c *conn) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	if c.readErr != nil {
		c.mu.Unlock()
		return nil, c.readErr
	}
	c.next++
	id := c.next
	ch := make(chan reply, 1)
	c.pending[id] = ch
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	b, err := json.Marshal(msg)
	if err == nil {
		_, err = c.w.Write(append(b, 0))
	}
	c.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, fmt.Errorf("%s: %w", method, r.Err)
		}
		return r.Result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// chartsProbe measures each chart element; %s is the JSON list of ids.
const chartsProbe = `JSON.stringify(%s.map(function (id) {
  var el = document.getElementById(id), r = {id: id, found: !!el, canvases: 0, svgs: 0, width: 0, height: 0, painted: 0};
  if (!el) return r;
  var surfaces = Array.prototype.slice.call(el.querySelectorAll("canvas, svg"));
  surfaces.forEach(function (s) {
    var b = s.getBoundingClientRect();
    if (s.tagName.toLowerCase() === "canvas") {
      r.canvases++;
      try {
        var d = s.getContext("2d").getImageData(0, 0, s.width, s.height).data;
        for (var i = 3; i < d.length; i += 64) { if (d[i] !== 0) r.painted++; }
      } catch (e) {}
    } else { r.svgs++; }
    if (b.width * b.height > r.width * r.height) { r.width = b.width; r.height = b.height; }
  });
  return r;
}))`

func (c *conn) visit(ctx context.Context, pageURL string, chartIDs []string) (*Result, error) {
	raw, err := c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"})
	if err != nil {
		return nil, err
	}
	var target struct{ TargetID string }
	if err := json.Unmarshal(raw, &target); err != nil {
		return nil, err
	}
	raw, err = c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true})
	if err != nil {
		return nil, err
	}
	var att struct{ SessionID string }
	if err := json.Unmarshal(raw, &att); err != nil {
		return nil, err
	}
	s := att.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Network.enable", "Page.enable"} {
		if _, err := c.call(ctx, s, m, nil); err != nil {
			return nil, err
		}
	}
	if _, err := c.call(ctx, s, "Network.emulateNetworkConditions", map[string]any{
		"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}); err != nil {
		return nil, err
	}
	if _, err := c.call(ctx, s, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}); err != nil {
		return nil, err
	}
	res := &Result{Drawn: -1}
	loaded := make(chan struct{})
	var evMu sync.Mutex
	go func() {
		once := sync.Once{}
		for ev := range c.events {
			if ev.SessionID != s {
				continue
			}
			evMu.Lock()
			collect(res, ev, pageURL)
			evMu.Unlock()
			if ev.Method == "Page.loadEventFired" {
				once.Do(func() { close(loaded) })
			}
		}
	}()
	if _, err := c.call(ctx, s, "Page.navigate", map[string]any{"url": pageURL}); err != nil {
		return nil, err
	}
	select {
	case <-loaded:
	case <-ctx.Done():
		return nil, fmt.Errorf("the page did not finish loading: %w", ctx.Err())
	}
	// The page's script marks the body once every chart is drawn (charts
	// draw synchronously; animation is off). A page that gave up before
	// drawing has only its error count once loaded: Drawn is then -1.
	for {
		v, err := c.eval(ctx, s, `document.body.getAttribute("data-charts") ||
			(document.readyState === "complete" && document.body.hasAttribute("data-report-errors") ? "none" : null)`)
		if err != nil {
			return nil, err
		}
		if v != nil {
			if n, ok := v.(string); ok {
				if _, err := fmt.Sscan(n, &res.Drawn); err != nil {
					res.Drawn = -1
				}
			}
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the page never marked its charts drawn: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if v, err := c.eval(ctx, s, `document.body.getAttribute("data-report-errors") || "0"`); err == nil {
		if n, ok := v.(string); ok {
			if _, err := fmt.Sscan(n, &res.PageErrors); err != nil {
				res.PageErrors = -1
			}
		}
	}
	ids, _ := json.Marshal(chartIDs)
	v, err := c.eval(ctx, s, fmt.Sprintf(chartsProbe, ids))
	if err != nil {
		return nil, err
	}
	if str, ok := v.(string); ok {
		if err := json.Unmarshal([]byte(str), &res.Charts); err != nil {
			return nil, fmt.Errorf("chart probe: %w", err)
		}
	}
	raw, err = c.call(ctx, s, "Page.getLayoutMetrics", nil)
	if err != nil {
		return nil, err
	}
	var lm struct {
		CSSContentSize struct{ Width, Height float64 } `json:"cssContentSize"`
	}
	if err := json.Unmarshal(raw, &lm); err != nil {
		return nil, err
	}
	raw, err = c.call(ctx, s, "Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": lm.CSSContentSize.Width, "height": lm.CSSContentSize.Height, "scale": 1}})
	if err != nil {
		return nil, err
	}
	var shot struct{ Data string }
	if err := json.Unmarshal(raw, &shot); err != nil {
		return nil, err
	}
	if res.Screenshot, err = base64.StdEncoding.DecodeString(shot.Data); err != nil {
		return nil, fmt.Errorf("screenshot: %w", err)
	}
	evMu.Lock()
	defer evMu.Unlock()
	out := *res
	out.Errors = append([]string(nil), res.Errors...)
	out.Network = append([]string(nil), res.Network...)
	return &out, nil
}

func (c *conn) eval(ctx context.Context, session, expr string) (any, error) {
	raw, err := c.call(ctx, session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	if err != nil {
		return nil, err
	}
	var r struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	if r.ExceptionDetails != nil {
		return nil, fmt.Errorf("evaluating %.40q: %s", expr, r.ExceptionDetails.Text)
	}
	return r.Result.Value, nil
}

// collect records the events that mean something went wrong.
func collect(res *Result, ev event, pageURL string) {
	switch ev.Method {
	case "Runtime.exceptionThrown":
		var p struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		if json.Unmarshal(ev.Params, &p) == nil {
			res.Errors = append(res.Errors, "uncaught: "+p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
		}
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		if json.Unmarshal(ev.Params, &p) != nil {
			return
		}
		var parts []string
		for _, a := range p.Args {
			if a.Value != nil {
				parts = append(parts, fmt.Sprint(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		msg := strings.Join(parts, " ")
		if p.Type == "error" || p.Type == "assert" || (p.Type == "warning" && strings.Contains(msg, "[ECharts]")) {
			res.Errors = append(res.Errors, "console."+p.Type+": "+msg)
		}
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level, Text, URL string
			} `json:"entry"`
		}
		if json.Unmarshal(ev.Params, &p) == nil && p.Entry.Level == "error" {
			res.Errors = append(res.Errors, "log: "+p.Entry.Text+" "+p.Entry.URL)
		}
	case "Network.requestWillBeSent":
		var p struct {
			Request struct{ URL string } `json:"request"`
		}
		if json.Unmarshal(ev.Params, &p) != nil {
			return
		}
		u, err := url.Parse(p.Request.URL)
		if err == nil && (u.Scheme == "data" || u.Scheme == "about" || u.Scheme == "blob") {
			return
		}
		if p.Request.URL == pageURL {
			return
		}
		res.Network = append(res.Network, p.Request.URL)
	case "Network.loadingFailed":
		var p struct {
			ErrorText string `json:"errorText"`
		}
		if json.Unmarshal(ev.Params, &p) == nil {
			res.Errors = append(res.Errors, "loading failed: "+p.ErrorText)
		}
	}
}

// Check opens the report at path and fails t unless the page loaded without
// errors and without reaching for the network, and every chart in chartIDs
// drew a non-empty canvas or SVG of non-zero size. The screenshot is saved
// in t.ArtifactDir() (kept with go test -artifacts) and, when
// $RISKLANE_SCREENSHOT_DIR is set, copied there as name.png. It skips when
// no Chromium is installed.
func Check(t *testing.T, path, name string, chartIDs []string) *Result {
	t.Helper()
	browser := Browser()
	if browser == "" {
		t.Skip("no Chromium: install Debian's chromium package (apt-get install chromium) or set RISKLANE_CHROMIUM to run the browser test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := Open(ctx, browser, path, chartIDs)
	if err != nil {
		t.Fatalf("open %s in %s: %v", path, browser, err)
	}
	shot := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(shot, res.Screenshot, 0o644); err != nil {
		t.Error(err)
	}
	if dir := os.Getenv("RISKLANE_SCREENSHOT_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err == nil {
			err = os.WriteFile(filepath.Join(dir, name+".png"), res.Screenshot, 0o644)
		}
		if err != nil {
			t.Errorf("saving the screenshot: %v", err)
		}
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(res.Screenshot))
	for _, e := range res.Errors {
		t.Errorf("browser: %s", e)
	}
	for _, u := range res.Network {
		t.Errorf("the page tried to reach the network: %s", u)
	}
	if res.PageErrors != 0 {
		t.Errorf("the page's script reported %d errors", res.PageErrors)
	}
	if res.Drawn != len(chartIDs) {
		t.Errorf("the page drew %d charts, want %d", res.Drawn, len(chartIDs))
	}
	for _, c := range res.Charts {
		switch {
		case !c.Found:
			t.Errorf("chart %s: no element", c.ID)
		case c.Canvases+c.SVGs == 0:
			t.Errorf("chart %s: nothing drawn (no canvas or SVG)", c.ID)
		case c.Width < 50 || c.Height < 50:
			t.Errorf("chart %s: drawn %gx%g pixels", c.ID, c.Width, c.Height)
		case c.Canvases > 0 && c.Painted == 0:
			t.Errorf("chart %s: the canvas is empty", c.ID)
		}
	}
	if len(res.Charts) != len(chartIDs) {
		t.Errorf("measured %d charts, want %d", len(res.Charts), len(chartIDs))
	}
	return res
}
