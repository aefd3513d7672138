// Package e2e drives Hoctap's pages in a real headless Chromium against the real server
// (server.Serve on a loopback port with the embedded database). One browser and one
// server serve every test of the binary; each test gets its own browser context
// (cookies included), so tests do not see each other's sessions.
//
// Set HOCTAP_SCREENSHOTS=1 to write screenshots of the main pages to docs/screenshots/.
// HOCTAP_CHROMIUM names the browser binary (default: chromium on the PATH).
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hoctap/internal/miniotest"
	"hoctap/server"
)

const adminPassword = "admin-password-1"

var (
	baseURL    string
	browserCtx context.Context
	axeSource  string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	raw, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	axeSource = string(raw)

	dir, err := os.MkdirTemp("", "hoctap-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	minio, err := miniotest.StartShared()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting MinIO:", err)
		return 1
	}
	defer minio.Stop()

	stopServer, err := startServer(filepath.Join(dir, "data"), minio)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the server:", err)
		return 1
	}
	defer stopServer()

	chromium := os.Getenv("HOCTAP_CHROMIUM")
	if chromium == "" {
		if chromium, err = exec.LookPath("chromium"); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: Chromium is needed (apt-get install chromium, or make deps):", err)
			return 1
		}
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "vi-VN"),
		chromedp.UserDataDir(filepath.Join(dir, "chromium")),
	)
	defer cancelAlloc()
	var cancelBrowser context.CancelFunc
	browserCtx, cancelBrowser = chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil { // start the browser once
		fmt.Fprintln(os.Stderr, "e2e: starting Chromium:", err)
		return 1
	}
	return m.Run()
}

// startServer runs server.Serve on a free loopback port with a fresh data directory and
// lectures stored in the real MinIO server.
func startServer(dataDir string, minio miniotest.Server) (func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	baseURL = "http://" + ln.Addr().String()
	env := map[string]string{
		"HOCTAP_DATA_DIR":       dataDir,
		"HOCTAP_PUBLIC_URL":     baseURL,
		"HOCTAP_ADMIN_PASSWORD": adminPassword,
		"HOCTAP_SECRET_KEY":     "e2e-secret-key-0123456789abcdef0123456789",
		"HOCTAP_LOG_LEVEL":      "error",
		"HOCTAP_S3_ENDPOINT":    minio.Endpoint,
		"HOCTAP_S3_ACCESS_KEY":  minio.AccessKey,
		"HOCTAP_S3_SECRET_KEY":  minio.SecretKey,
		"HOCTAP_S3_BUCKET":      "hoctap-e2e",
	}
	cfg, err := server.LoadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, cfg, server.NewLogger(os.Stderr, "error"), ln) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(baseURL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			cancel()
			return nil, fmt.Errorf("the server stopped: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			return nil, fmt.Errorf("the server did not answer /healthz within a minute")
		}
	}
	return func() { cancel(); <-done }, nil
}

// Viewports every flow runs at: a desk computer and a 360 px phone.
var viewports = []struct {
	name          string
	width, height int64
}{
	{"desktop", 1280, 900},
	{"phone", 360, 740},
}

// tab is one browser context (its own cookies) with one page.
type tab struct {
	t        *testing.T
	ctx      context.Context
	viewport string
}

// newTab opens a fresh browser context at the viewport's size; it closes with the test.
func newTab(t *testing.T, viewport string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first action on a context opens its tab, and cancelling that action's context
	// would close it: open it with the long-lived context, steps get timeouts after.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	tb := &tab{t: t, ctx: ctx, viewport: viewport}
	for _, v := range viewports {
		if v.name == viewport {
			var opts []chromedp.EmulateViewportOption
			if v.width < 600 {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			tb.do(chromedp.EmulateViewport(v.width, v.height, opts...))
		}
	}
	return tb
}

// stepTimeout bounds one browser step, so a missing element fails the test quickly.
const stepTimeout = 20 * time.Second

// step returns a context for one browser step.
func (tb *tab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(tb.ctx, stepTimeout)
}

// do runs actions, failing the test on error.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v (page %s)\n%s", tb.viewport, err, tb.location(), tb.mainText())
	}
}

func (tb *tab) location() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// mainText is the page's main text, for failure messages.
func (tb *tab) mainText() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main")?.innerText ?? document.body?.innerText ?? ""`))
	return s
}

// open navigates to a path of the site and waits for the page's main element.
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(baseURL+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// text returns the visible text of the first element matching the CSS selector.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("%s: reading %s: %v (page %s)\n%s", tb.viewport, sel, err, tb.location(), tb.mainText())
	}
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("%s: evaluating %s: %v", tb.viewport, expr, err)
	}
	return v
}

// submit clicks the form's button and waits for the next page's main element, which
// must come from a new document.
func (tb *tab) submit(button string) {
	tb.t.Helper()
	tb.do(chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.old = "1"`))
	tb.do(chromedp.Click(chromedp.CSS(button)))
	tb.waitFor(`!document.documentElement.dataset.old && document.readyState === "complete" && !!document.querySelector("main")`)
}

// waitFor evaluates expr until it is true, across navigations (while a new document
// loads, evaluation fails; that only means "not yet").
func (tb *tab) waitFor(expr string) {
	tb.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s: waiting for %s: %v (page %s)\n%s", tb.viewport, expr, err, tb.location(), tb.mainText())
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// fill sets a field's value (empty clears it).
func (tb *tab) fill(sel, value string) {
	tb.t.Helper()
	if value == "" {
		tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector(` + jsString(sel) + `).value = ""`))
		return
	}
	tb.do(chromedp.SetValue(chromedp.CSS(sel), value))
}

// signIn signs in through the sign-in page.
func (tb *tab) signIn(username, password string) {
	tb.t.Helper()
	tb.open("/login")
	tb.fill("#username", username)
	tb.fill("#password", password)
	tb.submit("form[action='/login'] button")
}

// axeViolation is one failed accessibility rule as axe-core reports it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// checkAccessibility runs axe-core in the page (WCAG 2 A and AA rules and best
// practices) and fails the test on serious or critical violations.
func (tb *tab) checkAccessibility(page string) {
	tb.t.Helper()
	if !eval[bool](tb, `typeof window.axe === "object"`) {
		tb.do(chromedp.Evaluate[chromedp.Void](axeSource))
	}
	ctx, cancel := context.WithTimeout(tb.ctx, time.Minute)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s: running axe on %s: %v", tb.viewport, page, err)
	}
	var violations []axeViolation
	if err := json.Unmarshal(raw, &violations); err != nil {
		tb.t.Fatalf("decoding axe results: %v", err)
	}
	for _, v := range violations {
		if v.Impact != "serious" && v.Impact != "critical" {
			continue
		}
		var where []string
		for _, n := range v.Nodes {
			where = append(where, n.HTML)
		}
		tb.t.Errorf("%s (%s): accessibility %s violation %s: %s\n  %s", page, tb.viewport, v.Impact, v.ID, v.Help, strings.Join(where, "\n  "))
	}
}

// screenshot writes docs/screenshots/<name>-<viewport>.png when HOCTAP_SCREENSHOTS=1.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	if os.Getenv("HOCTAP_SCREENSHOTS") != "1" {
		return
	}
	ctx, cancel := tb.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-"+tb.viewport+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// noHorizontalScroll fails when the page is wider than the viewport (content cut off or
// needing sideways scrolling at 360 px). Tables scroll inside their own wrapper.
func (tb *tab) noHorizontalScroll(page string) {
	tb.t.Helper()
	if w := eval[int](tb, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); w > 0 {
		// Name the outermost elements that stick out, so the fix is quick to find.
		culprits := eval[[]string](tb, `(() => {
			const vw = document.documentElement.clientWidth, out = [];
			for (const el of document.querySelectorAll("body *")) {
				const r = el.getBoundingClientRect();
				if (r.right <= vw + 1 || out.some(o => o.el.contains(el))) continue;
				let s = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
				out.push({el, s: s + " (right edge " + Math.round(r.right) + " px)"});
				if (out.length >= 5) break;
			}
			return out.map(o => o.s);
		})()`)
		tb.t.Errorf("%s (%s): the page is %d px wider than the screen; sticking out: %s", page, tb.viewport, w, strings.Join(culprits, ", "))
	}
}

// checkPage runs the checks every main page gets: accessibility, width, screenshot.
func (tb *tab) checkPage(name string) {
	tb.t.Helper()
	tb.checkAccessibility(name)
	tb.noHorizontalScroll(name)
	tb.screenshot(name)
}
