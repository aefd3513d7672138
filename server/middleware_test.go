package server

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"hoctap/internal/clock"
	"hoctap/internal/dbtest"
)

func TestRedactQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"since=4", "since=4"},
		{"token=abc&since=4", "since=4&token=REDACTED"},
		{"sig=xyz&exp=1", "exp=1&sig=REDACTED"},
		{"%zz", "(unparsable)"},
	}
	for _, tt := range tests {
		if got := redactQuery(tt.in); got != tt.want {
			t.Errorf("redactQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogsHoldNoSecrets signs in and sends a token in the query string, then checks that the
// log has neither the password, the token nor the cookie.
func TestLogsHoldNoSecrets(t *testing.T) {
	var logs lockedBuffer
	cfg := testConfig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.PublicURL = "http://" + ln.Addr().String()
	svc, closeServices, err := buildServices(context.Background(), cfg, dbtest.New(t), clock.System)
	if err != nil {
		t.Fatal(err)
	}
	defer closeServices()
	log := NewLogger(&logs, "debug")
	if err := ensureAdmin(context.Background(), cfg, svc.Accounts, log); err != nil {
		t.Fatal(err)
	}
	srv := New(cfg, log, clock.System, svc)
	go func() { _ = srv.app.Listener(ln) }()
	defer srv.app.ShutdownWithTimeout(5 * time.Second)
	ts := &testServer{Server: srv, URL: cfg.PublicURL, client: http.DefaultClient}

	token := ts.adminToken(t)
	ts.do(t, "GET", "/api/v1/me?token="+token, "", nil).Body.Close()
	ts.do(t, "GET", "/api/v1/me", token, nil).Body.Close()
	out := logs.String()
	if !strings.Contains(out, `"path":"/api/v1/me"`) {
		t.Fatalf("no access log line for /api/v1/me:\n%s", out)
	}
	for _, secret := range []string{testAdminPassword, token} {
		if strings.Contains(out, secret) {
			t.Fatalf("the log holds a secret %q:\n%s", secret, out)
		}
	}
}
