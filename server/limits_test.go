package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hoctap/accounts"
	"hoctap/courses/live"
)

// rawStatus sends a raw HTTP/1.1 request and returns the status and the body, for requests
// net/http would refuse to send.
func rawStatus(t *testing.T, ts *testServer, request string) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	go func() { _, _ = io.WriteString(conn, request) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// wantRefused posts an oversized body to the user import: the answer must be 413 with the
// JSON error, or the connection reset while the body is still being sent (the server
// refused it from its declared length without reading it).
func wantRefused(t *testing.T, ts *testServer, what, token, contentType string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/users/import", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := ts.client.Do(req)
	if err != nil {
		if !strings.Contains(err.Error(), "connection reset") && !strings.Contains(err.Error(), "broken pipe") {
			t.Errorf("%s: %v", what, err)
		}
		return
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantJSONError(t, what, resp.StatusCode, http.StatusRequestEntityTooLarge, raw, "too_large")
}

// wantJSONError checks the body is API.md's error with code.
func wantJSONError(t *testing.T, what string, status, wantStatus int, raw []byte, code string) {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(raw, &e); err != nil || status != wantStatus || e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("%s: status %d (want %d), body %.300s (want the JSON error %q)", what, status, wantStatus, raw, code)
	}
}

func TestRequestLimits(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxBodyMB, c.MaxJSONKB = 1, 4 })
	admin := ts.adminToken(t)
	_, district, _ := unitFixture(t, ts, admin)
	before := ts.count(t, "units")

	// A JSON body over HOCTAP_MAX_JSON_KB: 413, nothing stored.
	big := fmt.Sprintf(`{"name":"%s","code":"X1","parent_id":%q}`, strings.Repeat("a", 5<<10), district)
	ts.callErr(t, "POST", "/api/v1/units", admin, big, http.StatusRequestEntityTooLarge, "too_large")

	// A body over HOCTAP_MAX_BODY_MB, as CSV and as a multipart part: 413 with the JSON error.
	// The server refuses a body whose declared length is over the limit from its headers and
	// closes the connection without reading it; a client still sending then sees the
	// connection reset instead of the 413. Both mean refused; when the answer arrives it
	// must be the JSON error.
	csv := "username,full_name,unit_code\n" + strings.Repeat("nguoi,Người,HG-DV\n", (1<<20)/17+10)
	wantRefused(t, ts, "CSV body over the limit", admin, "text/csv", []byte(csv))
	body, ctype := multipartBody(t, map[string]string{"note": "x"}, []byte(csv))
	wantRefused(t, ts, "multipart part over the limit", admin, ctype, body)
	var raw []byte

	// A query string over 8 KB: 413 with the JSON error, before any handler.
	resp := ts.do(t, "GET", "/api/v1/users?q="+strings.Repeat("a", 9<<10), admin, nil)
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	wantJSONError(t, "query over 8 KB", resp.StatusCode, http.StatusRequestEntityTooLarge, raw, "too_large")
	ts.call(t, "GET", "/api/v1/me?pad="+strings.Repeat("a", 7<<10), admin, nil, http.StatusOK, nil)

	// Headers over the 16 KB read buffer: 431.
	status, raw := rawStatus(t, ts, "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("b", 20<<10)+"\r\n\r\n")
	wantJSONError(t, "headers over 16 KB", status, http.StatusRequestHeaderFieldsTooLarge, raw, "too_large")

	// A path id over 128 bytes: invalid, not a database lookup.
	ts.callErr(t, "GET", "/api/v1/users/"+strings.Repeat("x", 200), admin, nil, http.StatusUnprocessableEntity, "invalid")
	if n := ts.count(t, "units"); n != before {
		t.Errorf("refused requests stored %d units", n-before)
	}
}

func TestLiveFrameLimit(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.adminToken(t)
	_, district, _ := unitFixture(t, ts, admin)
	createUser(t, ts, admin, "gv1", district, accounts.RoleLecturer)
	tr := createUser(t, ts, admin, "hl1", district, accounts.RoleTrainer)
	lec, trainer := ts.login(t, "gv1", "password-123"), ts.login(t, "hl1", "password-123")
	var c, m, cl, sess struct{ ID string }
	ts.call(t, "POST", "/api/v1/courses", lec, map[string]any{"code": "LIM-1", "title": "Giới hạn", "category": "ky_nang_so"}, http.StatusCreated, &c)
	ts.call(t, "POST", "/api/v1/courses/"+c.ID+"/modules", lec, map[string]any{"title": "M"}, http.StatusCreated, &m)
	ts.call(t, "POST", "/api/v1/courses/"+c.ID+"/modules/"+m.ID+"/lessons", lec, map[string]any{"title": "L", "kind": "text", "body": "x"}, http.StatusCreated, nil)
	ts.call(t, "POST", "/api/v1/courses/"+c.ID+"/publish", lec, nil, http.StatusOK, nil)
	ts.call(t, "POST", "/api/v1/courses/"+c.ID+"/classes", trainer, map[string]any{"name": "Lớp", "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2036-01-01T00:00:00Z", "trainer_ids": []string{tr.ID}}, http.StatusCreated, &cl)
	ts.call(t, "POST", "/api/v1/classes/"+cl.ID+"/live-sessions", trainer, map[string]any{"title": "Buổi", "starts_at": time.Now().UTC().Format(time.RFC3339)}, http.StatusCreated, &sess)

	conn := dialLive(t, ts, sess.ID, "", bearer(trainer))
	frame := fmt.Sprintf(`{"type":"chat.send","client_id":"c1","text":%q}`, strings.Repeat("x", live.MaxFrameBytes))
	if err := conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	for {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err := conn.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != websocket.CloseMessageTooBig {
				t.Fatalf("a frame over %d bytes closed with %d %q, want 1009", live.MaxFrameBytes, ce.Code, ce.Text)
			}
			return
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
	}
}

func TestMalformedJSONBodies(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.adminToken(t)
	before := ts.count(t, "units")
	for _, tc := range []struct {
		name, body string
		headers    []string
	}{
		{"empty", " ", nil},
		{"not JSON", "name=x", []string{"Content-Type", "application/x-www-form-urlencoded"}},
		{"two values", `{"name":"A","code":"A1"} {"name":"B","code":"B1"}`, nil},
		{"unknown field", `{"name":"A","code":"A1","owner":"me"}`, nil},
		{"wrong type", `{"name":1,"code":"A1"}`, nil},
		{"an array", `[{"name":"A","code":"A1"}]`, nil},
		{"nested past the decoder's depth", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), nil},
		{"invalid UTF-8 escape", `{"name":"\ud800","code":"A1`, nil},
	} {
		h := tc.headers
		if h == nil {
			h = []string{"Content-Type", "application/json"}
		}
		resp := ts.do(t, "POST", "/api/v1/units", admin, []byte(tc.body), h...)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantJSONError(t, tc.name, resp.StatusCode, http.StatusUnprocessableEntity, raw, "invalid")
	}
	if n := ts.count(t, "units"); n != before {
		t.Errorf("malformed bodies stored %d units", n-before)
	}
}

func TestQuestionImportOverFileLimit(t *testing.T) {
	ts := newTestServer(t)
	lecturer, _, _ := lecturerFixture(t, ts)
	file := []byte(strings.Repeat("Câu hỏi?\nA. Một\nB. Hai\nANSWER: A\n\n", (9<<20)/40))
	body, ctype := multipartBody(t, map[string]string{"format": "aiken", "bank": "B"}, file)
	resp := ts.do(t, "POST", "/api/v1/questions/import", lecturer, body, "Content-Type", ctype)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantJSONError(t, "a 9 MB question file", resp.StatusCode, http.StatusRequestEntityTooLarge, raw, "too_large")
	if n := ts.count(t, "questions"); n != 0 {
		t.Errorf("an oversized import stored %d questions", n)
	}
}
