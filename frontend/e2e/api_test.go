package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

var client = &http.Client{Timeout: 30 * time.Second}

// api calls the JSON API with a bearer token and decodes the answer into out.
func api(t *testing.T, token, method, path string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, baseURL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

var (
	adminTokenOnce sync.Once
	adminTok       string
)

// adminToken signs the admin in over the API once per test binary.
func adminToken(t *testing.T) string {
	t.Helper()
	adminTokenOnce.Do(func() {
		var out struct{ Token string }
		api(t, "", "POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": adminPassword}, &out)
		adminTok = out.Token
	})
	if adminTok == "" {
		t.Fatal("the admin could not sign in")
	}
	return adminTok
}

// createUnit makes a unit over the API and returns its id.
func createUnit(t *testing.T, name, code, parentID string) string {
	t.Helper()
	var u struct{ ID string }
	api(t, adminToken(t), "POST", "/api/v1/units", map[string]string{"name": name, "code": code, "parent_id": parentID}, &u)
	return u.ID
}

// createUser makes a user over the API and returns its id.
func createUser(t *testing.T, username, password, fullName, unitID string, roles ...string) string {
	t.Helper()
	if len(roles) == 0 {
		roles = []string{"learner"}
	}
	var u struct{ ID string }
	api(t, adminToken(t), "POST", "/api/v1/users", map[string]any{
		"username": username, "password": password, "full_name": fullName, "unit_id": unitID, "roles": roles,
	}, &u)
	return u.ID
}
