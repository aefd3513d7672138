package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/dbtest"
)

const testAdminPassword = "admin-password-1"

// testServer is the real server on a loopback port with a fresh database.
type testServer struct {
	*Server
	URL    string
	DB     *database.DB
	svc    Services
	client *http.Client
}

// testConfig is the configuration every test server starts from.
func testConfig(t *testing.T) Config {
	t.Helper()
	env := map[string]string{
		"HOCTAP_DATA_DIR":       t.TempDir(),
		"HOCTAP_ADMIN_PASSWORD": testAdminPassword,
		"HOCTAP_SECRET_KEY":     "test-secret-key-0123456789abcdef0123456789",
		"HOCTAP_LOG_LEVEL":      "error",
	}
	cfg, err := LoadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// newTestServer starts the server with testConfig, changed by each option.
func newTestServer(t *testing.T, options ...func(*Config)) *testServer {
	t.Helper()
	cfg := testConfig(t)
	for _, o := range options {
		o(&cfg)
	}
	return startTestServer(t, cfg, NewLogger(io.Discard, "error"))
}

// startTestServer runs the real wiring on loopback listeners: the API, and the disk media
// store's own listener unless cfg names MinIO.
func startTestServer(t *testing.T, cfg Config, log *slog.Logger) *testServer {
	t.Helper()
	ln := listen(t)
	cfg.PublicURL = "http://" + ln.Addr().String()
	var mln net.Listener
	if cfg.S3Endpoint == "" {
		mln = listen(t)
		cfg.MediaPublicURL = "http://" + mln.Addr().String()
	}
	ctx := context.Background()
	db := dbtest.New(t)
	store, disk, err := openStore(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if disk != nil {
		ms := mediaServer(disk)
		go serveMedia(ms, mln, log)
		t.Cleanup(func() { ms.Close() })
	}
	svc, closeServices, err := buildServices(ctx, cfg, db, store, clock.System, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := ensureAdmin(ctx, cfg, svc.Accounts, log); err != nil {
		t.Fatal(err)
	}
	srv := New(cfg, log, clock.System, svc)
	go func() { _ = srv.app.Listener(ln) }()
	t.Cleanup(func() {
		_ = srv.app.ShutdownWithTimeout(5 * time.Second)
		closeServices()
	})
	return &testServer{Server: srv, URL: cfg.PublicURL, DB: db, svc: svc, client: &http.Client{Timeout: 60 * time.Second}}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// do sends a request. body may be nil, a []byte or string sent as is, or a value sent as
// JSON. headers are name, value pairs.
func (ts *testServer) do(t *testing.T, method, path, token string, body any, headers ...string) *http.Response {
	t.Helper()
	var r io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = bytes.NewReader([]byte(b))
		contentType = "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
		contentType = "application/json"
	}
	req, err := http.NewRequest(method, ts.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// call sends a request, checks the status and decodes the JSON answer into out (if not nil).
func (ts *testServer) call(t *testing.T, method, path, token string, body any, want int, out any) {
	t.Helper()
	resp := ts.do(t, method, path, token, body)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, raw, err)
		}
	}
}

// apiError is the error body of API.md.
type apiError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// callErr sends a request that must fail with status want and error code code.
func (ts *testServer) callErr(t *testing.T, method, path, token string, body any, want int, code string) apiError {
	t.Helper()
	var e apiError
	ts.call(t, method, path, token, body, want, &e)
	if e.Error.Code != code {
		t.Fatalf("%s %s: error code %q, want %q (message %q)", method, path, e.Error.Code, code, e.Error.Message)
	}
	return e
}

// login signs in and returns the bearer token.
func (ts *testServer) login(t *testing.T, username, password string) string {
	t.Helper()
	var out struct{ Token string }
	ts.call(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": username, "password": password}, http.StatusOK, &out)
	return out.Token
}

// adminToken signs in as the admin made on start.
func (ts *testServer) adminToken(t *testing.T) string {
	return ts.login(t, "admin", testAdminPassword)
}

// count returns how many documents collection holds, to prove a refused request changed
// nothing.
func (ts *testServer) count(t *testing.T, collection string) int64 {
	t.Helper()
	n, err := ts.DB.Database.Collection(collection).CountDocuments(context.Background(), map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func jsonUnmarshal(raw []byte, out any) error { return json.Unmarshal(raw, out) }
