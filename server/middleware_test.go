package server

import (
	"bytes"
	"strings"
	"sync"
	"testing"
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
	ts := startTestServer(t, testConfig(t), NewLogger(&logs, "debug"))

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
