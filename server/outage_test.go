package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/internal/dbtest"
	"hoctap/internal/ids"
	"hoctap/internal/miniotest"
)

// outageClient gives up at the database driver's own operation timeout (30 s): a request
// that hangs longer while a dependency is down fails the test.
var outageClient = &http.Client{Timeout: 30 * time.Second}

type readiness struct {
	Status string            `json:"status"`
	Down   []string          `json:"down"`
	Checks map[string]string `json:"checks"`
}

// ready asks /readyz once.
func ready(t *testing.T, baseURL string) (int, readiness) {
	t.Helper()
	resp, err := outageClient.Get(baseURL + "/readyz")
	if err != nil {
		t.Fatalf("/readyz did not answer: %v", err)
	}
	defer resp.Body.Close()
	var r readiness
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, r
}

// waitReady polls /readyz until it answers 200, for a dependency that came back.
func waitReady(t *testing.T, baseURL string) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		code, r := ready(t, baseURL)
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not become ready again: %+v", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// outageCall sends a request with outageClient and returns the status and error body.
func outageCall(t *testing.T, baseURL, method, path, token string, body any) (int, apiError) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, baseURL+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := outageClient.Do(req)
	if err != nil {
		// Errorf, not Fatalf: this runs on goroutines too.
		t.Errorf("%s %s did not answer while a dependency is down: %v", method, path, err)
		return 0, apiError{}
	}
	defer resp.Body.Close()
	var e apiError
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &e)
	return resp.StatusCode, e
}

// wantUnavailable checks a 503 with the unavailable code and a message that names the
// dependency (say) and leaks none of its addresses.
func wantUnavailable(t *testing.T, status int, e apiError, what, say string) {
	t.Helper()
	if status != http.StatusServiceUnavailable || e.Error.Code != "unavailable" {
		t.Fatalf("%s: %d %+v, want 503 unavailable", what, status, e)
	}
	if !strings.Contains(e.Error.Message, say) || strings.Contains(e.Error.Message, "127.0.0.1") {
		t.Errorf("%s: message %q, want one that says %q and shows no internal address", what, e.Error.Message, say)
	}
}

// outageReq is one request sent during an outage and its answer.
type outageReq struct {
	what, method, path, token string
	body                      any
	status                    int
	e                         apiError
}

// routeCalls makes a request for every API route but logout, as token, with an id that
// exists nowhere and an empty JSON body.
func routeCalls(routes []fiber.Route, token string) []*outageReq {
	id := ids.New()
	var out []*outageReq
	for _, rt := range routes {
		if !strings.HasPrefix(rt.Path, "/api/v1/") || rt.Method == "HEAD" || rt.Path == "/api/v1/auth/logout" {
			continue
		}
		path := rt.Path
		for _, p := range rt.Params {
			path = strings.Replace(path, ":"+p, id, 1)
		}
		out = append(out, &outageReq{what: rt.Method + " " + rt.Path, method: rt.Method, path: strings.ReplaceAll(path, "*", "x"), token: token, body: map[string]any{}})
	}
	return out
}

// sendAll sends the requests at once (each may wait for a dependency's timeout) and
// records the answers; it logs the slow ones, for whoever reads -v output.
func sendAll(t *testing.T, base string, calls []*outageReq) {
	t.Helper()
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() {
			start := time.Now()
			c.status, c.e = outageCall(t, base, c.method, c.path, c.token, c.body)
			if d := time.Since(start); d > 6*time.Second {
				t.Logf("%s took %s to answer %d during the outage", c.what, d.Round(time.Second), c.status)
			}
		})
	}
	wg.Wait()
}

// TestMinIOOutageFailsMediaFastAndRecoversWithoutRestart stops MinIO under a running
// server: uploads and downloads answer 503 at once, /readyz names storage, the rest of the
// API keeps working; MinIO started again on the same port and data serves again with no
// restart of Hoctap.
func TestMinIOOutageFailsMediaFastAndRecoversWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	mo := miniotest.StartAt(t, dir, 0, "", "")
	ts := newTestServer(t, func(c *Config) {
		c.S3Endpoint, c.S3AccessKey, c.S3SecretKey, c.S3Bucket = mo.Endpoint, mo.AccessKey, mo.SecretKey, "hoctap"
	})
	lecturer, _, _ := lecturerFixture(t, ts)
	admin := ts.adminToken(t)
	obj := uploadFile(t, ts, lecturer, "bai-giang.mp4", "video/mp4", 64<<10, func() io.Reader { return fakeMP4(64 << 10) })
	if code, r := ready(t, ts.URL); code != http.StatusOK {
		t.Fatalf("/readyz before the outage: %d %+v", code, r)
	}

	mo.Stop()
	code, r := ready(t, ts.URL)
	if code != http.StatusServiceUnavailable || !slices.Equal(r.Down, []string{"storage"}) || r.Checks["database"] != "ok" {
		t.Fatalf("/readyz with MinIO down: %d %+v", code, r)
	}
	status, e := outageCall(t, ts.URL, "POST", "/api/v1/media/uploads", lecturer, map[string]any{"filename": "moi.mp4", "content_type": "video/mp4", "size": 1000})
	wantUnavailable(t, status, e, "upload", "storage")
	status, e = outageCall(t, ts.URL, "GET", "/api/v1/media/"+obj.ID, lecturer, nil)
	wantUnavailable(t, status, e, "download", "storage")
	// Everything that needs no storage keeps working: no other route answers 5xx.
	calls := routeCalls(ts.app.GetRoutes(true), admin)
	sendAll(t, ts.URL, calls)
	for _, c := range calls {
		if c.status >= 500 && !strings.HasPrefix(c.path, "/api/v1/media/") {
			t.Errorf("%s with MinIO down: %d %+v", c.what, c.status, c.e)
		}
	}
	ts.call(t, "GET", "/api/v1/me", lecturer, nil, http.StatusOK, nil)
	ts.call(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Xã Lũng Cú", "code": "LC"}, http.StatusCreated, nil)
	ts.call(t, "GET", "/api/v1/units", admin, nil, http.StatusOK, nil)
	ts.login(t, "learner1", "password-123")

	_, port, _ := net.SplitHostPort(mo.Endpoint)
	p, _ := strconv.Atoi(port)
	miniotest.StartAt(t, dir, p, mo.AccessKey, mo.SecretKey)
	waitReady(t, ts.URL)
	checkRangeRead(t, ts, lecturer, obj, 1000, 500)
	again := uploadFile(t, ts, lecturer, "sau-su-co.mp4", "video/mp4", 32<<10, func() io.Reader { return fakeMP4(32 << 10) })
	checkRangeRead(t, ts, lecturer, again, 100, 1000)
}

// TestMongoDBOutageFailsFastAndRecoversWithoutRestart runs the server as in production,
// on a database server it reaches over TCP with a normal pool (HOCTAP_MONGODB_URI), stops
// that server, and checks that /readyz names the database, that sign-in and API requests
// answer 503 saying so, that no API route answers 500 or hangs, and that service returns
// once the database is back, without a restart.
func TestMongoDBOutageFailsFastAndRecoversWithoutRestart(t *testing.T) {
	routes := newTestServer(t).app.GetRoutes(true) // the same routes Serve registers
	mongo := dbtest.NewServer(t)
	cfg := testConfig(t)
	cfg.MongoURI = mongo.URI
	cfg.MediaAddr = "127.0.0.1:0"
	ln := listen(t)
	cfg.PublicURL = "http://" + ln.Addr().String()
	base := cfg.PublicURL
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, cfg, NewLogger(io.Discard, "error"), ln) }()
	t.Cleanup(func() {
		mongo.Start() // so that shutdown flushes normally
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	waitReady(t, base)
	ts := &testServer{URL: base, client: outageClient}
	admin := ts.adminToken(t)
	ts.call(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Sở Tư pháp", "code": "STP"}, http.StatusCreated, nil)

	mongo.Stop()
	code, r := ready(t, base)
	if code != http.StatusServiceUnavailable || !slices.Equal(r.Down, []string{"database"}) || r.Checks["storage"] != "ok" {
		t.Fatalf("/readyz with the database down: %d %+v", code, r)
	}
	calls := []*outageReq{
		{what: "login", method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "admin", "password": testAdminPassword}},
		{what: "list units", method: "GET", path: "/api/v1/units", token: admin},
		{what: "create a unit", method: "POST", path: "/api/v1/units", token: admin, body: map[string]any{"name": "Sở Y tế", "code": "SYT"}},
	}
	named := len(calls)
	calls = append(calls, routeCalls(routes, admin)...)
	sendAll(t, base, calls)
	for i, c := range calls {
		if i < named {
			wantUnavailable(t, c.status, c.e, c.what, "database")
		} else if c.status >= 500 && c.status != http.StatusServiceUnavailable {
			t.Errorf("%s during the outage: %d %+v", c.what, c.status, c.e)
		}
	}
	resp, err := outageClient.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz with the database down: %v %v", resp, err)
	}
	resp.Body.Close()

	mongo.Start()
	waitReady(t, base)
	admin = ts.adminToken(t)
	ts.call(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Sở Y tế", "code": "SYT"}, http.StatusCreated, nil)
	var units struct {
		Items []struct{ Code string } `json:"items"`
	}
	ts.call(t, "GET", "/api/v1/units", admin, nil, http.StatusOK, &units)
	if len(units.Items) != 2 {
		t.Fatalf("after recovery the units are %+v", units.Items)
	}
}
