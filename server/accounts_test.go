package server

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"hoctap/accounts"
)

// unitFixture creates a province with two districts and returns their ids.
func unitFixture(t *testing.T, ts *testServer, admin string) (province, district1, district2 string) {
	t.Helper()
	var p, d1, d2 accounts.Unit
	ts.call(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Tỉnh Hà Giang", "code": "HG"}, http.StatusCreated, &p)
	ts.call(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Huyện Đồng Văn", "code": "HG-DV", "parent_id": p.ID}, http.StatusCreated, &d1)
	ts.call(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Huyện Mèo Vạc", "code": "HG-MV", "parent_id": p.ID}, http.StatusCreated, &d2)
	return p.ID, d1.ID, d2.ID
}

func createUser(t *testing.T, ts *testServer, token, username, unitID string, roles ...accounts.Role) accounts.User {
	t.Helper()
	var u accounts.User
	ts.call(t, "POST", "/api/v1/users", token, map[string]any{
		"username": username, "password": "password-123", "full_name": "Nguyễn Văn " + username,
		"unit_id": unitID, "roles": roles,
	}, http.StatusCreated, &u)
	return u
}

func TestAdminBuildsUnitTreeUsersAndFindsByUnaccentedName(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.adminToken(t)
	province, district, _ := unitFixture(t, ts, admin)

	var unit struct {
		accounts.Unit
		Children []accounts.Unit `json:"children"`
	}
	ts.call(t, "GET", "/api/v1/units/"+province, admin, nil, http.StatusOK, &unit)
	if len(unit.Children) != 2 {
		t.Fatalf("province has %d children, want 2", len(unit.Children))
	}

	var cu accounts.User
	ts.call(t, "POST", "/api/v1/users", admin, map[string]any{
		"username": "cu.nv", "password": "password-123", "full_name": "Nguyễn Văn Cừ",
		"unit_id": district, "position": "Chuyên viên", "roles": []string{"learner"},
	}, http.StatusCreated, &cu)

	raw := ts.do(t, "GET", "/api/v1/users/"+cu.ID, admin, nil)
	body, _ := io.ReadAll(raw.Body)
	raw.Body.Close()
	if strings.Contains(string(body), "password") || strings.Contains(string(body), "argon2") {
		t.Fatalf("the user answer leaks the password hash: %s", body)
	}

	for _, q := range []string{"nguyen+van+cu", "NGUY%E1%BB%84N", "c%C6%B0%CC%80"} { // NGUYỄN; "cừ" in NFD
		var found list[accounts.User]
		ts.call(t, "GET", "/api/v1/users?unit_id="+province+"&subunits=true&q="+q, admin, nil, http.StatusOK, &found)
		if found.Total != 1 || found.Items[0].ID != cu.ID {
			t.Errorf("q=%s found %+v, want Nguyễn Văn Cừ", q, found)
		}
	}

	// The learner signs in with the new account and sees themselves.
	learner := ts.login(t, "cu.nv", "password-123")
	var me accounts.User
	ts.call(t, "GET", "/api/v1/me", learner, nil, http.StatusOK, &me)
	if me.ID != cu.ID || me.FullName != "Nguyễn Văn Cừ" {
		t.Fatalf("me = %+v", me)
	}
}

func TestLoginFailuresLookTheSameAndAreLimited(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.LoginMaxFailuresPerUser = 3 })
	admin := ts.adminToken(t)
	_, district, _ := unitFixture(t, ts, admin)
	createUser(t, ts, admin, "lan.tt", district)

	wrong := ts.callErr(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "lan.tt", "password": "wrong-password"}, http.StatusUnauthorized, "unauthenticated")
	unknown := ts.callErr(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "nobody", "password": "wrong-password"}, http.StatusUnauthorized, "unauthenticated")
	if wrong.Error.Message != unknown.Error.Message {
		t.Fatalf("wrong password says %q, unknown user says %q", wrong.Error.Message, unknown.Error.Message)
	}
	for range 3 {
		ts.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "lan.tt", "password": "wrong-password"}).Body.Close()
	}
	ts.callErr(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "lan.tt", "password": "password-123"}, http.StatusTooManyRequests, "rate_limited")
	// Another user from the same address is not affected.
	ts.login(t, "admin", testAdminPassword)
}

func TestCorrectPasswordsPassWhenTheAddressIsOverItsLimit(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.LoginMaxFailuresPerIP = 2 })
	admin := ts.adminToken(t)
	_, district, _ := unitFixture(t, ts, admin)
	createUser(t, ts, admin, "hoa.lt", district)
	for _, u := range []string{"x1", "x2", "x3"} {
		ts.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": u, "password": "wrong-password"}).Body.Close()
	}
	ts.callErr(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "x4", "password": "wrong-password"}, http.StatusTooManyRequests, "rate_limited")
	ts.login(t, "hoa.lt", "password-123")
}

func TestTokensThatAreRevokedForgedOrExpiredAreRefused(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.SessionTTL = 300 * time.Millisecond })
	token := ts.adminToken(t)
	ts.call(t, "GET", "/api/v1/me", token, nil, http.StatusOK, nil)
	ts.call(t, "POST", "/api/v1/auth/logout", token, nil, http.StatusNoContent, nil)
	ts.callErr(t, "GET", "/api/v1/me", token, nil, http.StatusUnauthorized, "unauthenticated")

	ts.callErr(t, "GET", "/api/v1/me", "forged-"+strings.Repeat("a", 40), nil, http.StatusUnauthorized, "unauthenticated")
	ts.callErr(t, "GET", "/api/v1/me", "", nil, http.StatusUnauthorized, "unauthenticated")

	expiring := ts.adminToken(t)
	time.Sleep(400 * time.Millisecond) // past the session's lifetime; nothing is timed here
	ts.callErr(t, "GET", "/api/v1/me", expiring, nil, http.StatusUnauthorized, "unauthenticated")
}

func TestCookieSessionsNeedTheCSRFTokenOnUnsafeRequests(t *testing.T) {
	ts := newTestServer(t)
	resp := ts.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": testAdminPassword})
	var login struct {
		CSRFToken string `json:"csrf_token"`
	}
	decodeBody(t, resp, &login)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v, want HttpOnly and SameSite=Lax", cookie)
	}
	withCookie := func(method, path, body, csrf string) *http.Response {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(cookie)
		if csrf != "" {
			req.Header.Set(csrfHeader, csrf)
		}
		r, err := ts.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := withCookie("GET", "/api/v1/me", "", ""); r.StatusCode != http.StatusOK {
		t.Fatalf("GET with cookie: %d", r.StatusCode)
	}
	before := ts.count(t, "units")
	unit := `{"name":"Sở Nội vụ","code":"SNV"}`
	for _, csrf := range []string{"", "wrong-token"} {
		r := withCookie("POST", "/api/v1/units", unit, csrf)
		var e apiError
		decodeBody(t, r, &e)
		if r.StatusCode != http.StatusUnprocessableEntity || e.Error.Code != "invalid" {
			t.Fatalf("POST without CSRF token %q: %d %+v", csrf, r.StatusCode, e)
		}
	}
	if ts.count(t, "units") != before {
		t.Fatal("a request without its CSRF token created a unit")
	}
	if r := withCookie("POST", "/api/v1/units", unit, login.CSRFToken); r.StatusCode != http.StatusCreated {
		t.Fatalf("POST with CSRF token: %d", r.StatusCode)
	}
}

func decodeBody(t *testing.T, resp *http.Response, out any) {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := jsonUnmarshal(raw, out); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
}

func TestBadInputGetsAClearErrorAndChangesNothing(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.adminToken(t)
	_, district, _ := unitFixture(t, ts, admin)
	createUser(t, ts, admin, "existing", district)
	learner := ts.login(t, "existing", "password-123")
	valid := func() map[string]any {
		return map[string]any{"username": "newbie", "password": "password-123", "full_name": "Lê Thị Mới", "unit_id": district}
	}
	with := func(k string, v any) map[string]any { m := valid(); m[k] = v; return m }

	tests := []struct {
		name   string
		token  string
		body   any
		status int
		code   string
		field  string
	}{
		{"malformed JSON", admin, `{"username": "newbie",`, 422, "invalid", ""},
		{"not an object", admin, `[1,2,3]`, 422, "invalid", ""},
		{"wrong type", admin, with("username", 42), 422, "invalid", "username"},
		{"unknown field", admin, with("is_superuser", true), 422, "invalid", "is_superuser"},
		{"empty body", admin, []byte{}, 422, "invalid", ""},
		{"two JSON values", admin, `{"username":"a"} {"username":"b"}`, 422, "invalid", ""},
		{"huge body", admin, `{"full_name":"` + strings.Repeat("a", 10<<20) + `"}`, 413, "too_large", ""},
		{"username taken", admin, with("username", "existing"), 409, "conflict", ""},
		{"unknown unit", admin, with("unit_id", "0123456789abcdef01234567"), 422, "invalid", "unit_id"},
		{"short password", admin, with("password", "short"), 422, "invalid", "password"},
		{"bad username", admin, with("username", "has space"), 422, "invalid", "username"},
		{"unknown role", admin, with("roles", []string{"emperor"}), 422, "invalid", "roles"},
		{"learner calls an admin route", learner, valid(), 403, "forbidden", ""},
		{"anonymous", "", valid(), 401, "unauthenticated", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ts.count(t, "users")
			e := ts.callErr(t, "POST", "/api/v1/users", tt.token, tt.body, tt.status, tt.code)
			if tt.field != "" {
				if _, ok := e.Error.Fields[tt.field]; !ok {
					t.Errorf("fields %v do not name %s", e.Error.Fields, tt.field)
				}
			}
			if e.Error.Message == "" {
				t.Error("the error has no message")
			}
			if after := ts.count(t, "users"); after != before {
				t.Errorf("users went from %d to %d", before, after)
			}
		})
	}
}

func TestUnitTreeRules(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.adminToken(t)
	province, district, _ := unitFixture(t, ts, admin)
	var commune accounts.Unit
	ts.call(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Xã Lũng Cú", "code": "HG-DV-LC", "parent_id": district}, http.StatusCreated, &commune)

	before := ts.count(t, "units")
	ts.callErr(t, "PATCH", "/api/v1/units/"+province, admin, map[string]any{"parent_id": commune.ID}, http.StatusConflict, "conflict")
	ts.callErr(t, "PATCH", "/api/v1/units/"+district, admin, map[string]any{"parent_id": district}, http.StatusConflict, "conflict")
	ts.callErr(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Trùng", "code": "HG"}, http.StatusConflict, "conflict")
	ts.callErr(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Mồ côi", "code": "X1", "parent_id": "0123456789abcdef01234567"}, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "GET", "/api/v1/units/0123456789abcdef01234567", admin, nil, http.StatusNotFound, "not_found")
	if ts.count(t, "units") != before {
		t.Fatal("a refused unit change changed the units")
	}

	// A unit_admin of the district manages it and below, not the province.
	officer := createUser(t, ts, admin, "officer", district, accounts.RoleUnitAdmin)
	_ = officer
	ot := ts.login(t, "officer", "password-123")
	ts.call(t, "POST", "/api/v1/units", ot, map[string]any{"name": "Xã Sủng Là", "code": "HG-DV-SL", "parent_id": district}, http.StatusCreated, nil)
	ts.callErr(t, "POST", "/api/v1/units", ot, map[string]any{"name": "Huyện khác", "code": "HG-X", "parent_id": province}, http.StatusForbidden, "forbidden")
	ts.callErr(t, "POST", "/api/v1/users", ot, map[string]any{"username": "boss", "password": "password-123", "full_name": "Boss", "unit_id": district, "roles": []string{"admin"}}, http.StatusForbidden, "forbidden")
}

func TestCSVImport(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.adminToken(t)
	unitFixture(t, ts, admin)
	csv := "\ufeffusername;full_name;unit_code;position;email\r\n" +
		"an.nv;Nguyễn Văn An;HG-DV;Chuyên viên;an@example.vn\r\n" +
		"bad user;Tên Sai;HG-DV;;\r\n" +
		"binh.tt;Trần Thị Bình;NO-SUCH;;\r\n" +
		"chi.lt;Lê Thị Chi;HG-MV;Phó phòng;\r\n"
	var res struct {
		Created int
		Updated int
		Errors  []accounts.ImportError
	}
	resp := ts.do(t, "POST", "/api/v1/users/import", admin, []byte(csv), "Content-Type", "text/csv")
	decodeBody(t, resp, &res)
	if resp.StatusCode != 200 || res.Created != 2 || len(res.Errors) != 2 || res.Errors[0].Line != 3 || res.Errors[1].Line != 4 {
		t.Fatalf("import: %d %+v", resp.StatusCode, res)
	}

	// The same file again updates instead of creating, sent as multipart this time.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "staff.csv")
	fw.Write([]byte(csv))
	mw.Close()
	resp = ts.do(t, "POST", "/api/v1/users/import", admin, buf.Bytes(), "Content-Type", mw.FormDataContentType())
	decodeBody(t, resp, &res)
	if resp.StatusCode != 200 || res.Created != 0 || res.Updated != 2 {
		t.Fatalf("second import: %d %+v", resp.StatusCode, res)
	}

	before := ts.count(t, "users")
	broken := "username,full_name,unit_code\nok.user,\"Unclosed quote,HG-DV\nnext,Next,HG-DV\n"
	resp = ts.do(t, "POST", "/api/v1/users/import", admin, []byte(broken), "Content-Type", "text/csv")
	var e apiError
	decodeBody(t, resp, &e)
	if resp.StatusCode != 422 || e.Error.Code != "invalid" || !strings.Contains(e.Error.Message, "line") {
		t.Fatalf("broken CSV: %d %+v", resp.StatusCode, e)
	}
	ts.callErr(t, "POST", "/api/v1/users/import", admin, []byte("anything"), http.StatusUnprocessableEntity, "invalid") // no Content-Type
	if ts.count(t, "users") != before {
		t.Fatal("a refused import changed the users")
	}
}

func TestEdgeBehaviour(t *testing.T) {
	ts := newTestServer(t)
	resp := ts.do(t, "GET", "/api/v1/no-such-route", "", nil)
	var e apiError
	decodeBody(t, resp, &e)
	if resp.StatusCode != 404 || e.Error.Code != "not_found" {
		t.Fatalf("unknown route: %d %+v", resp.StatusCode, e)
	}
	resp = ts.do(t, "GET", "/healthz", "", nil)
	resp.Body.Close()
	for _, h := range []string{"X-Request-Id", "X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("response lacks %s", h)
		}
	}
	var ready struct {
		Status string
		Checks map[string]string
	}
	ts.call(t, "GET", "/readyz", "", nil, http.StatusOK, &ready)
	if ready.Status != "ok" || ready.Checks["database"] != "ok" {
		t.Fatalf("readyz: %+v", ready)
	}
	resp = ts.do(t, "GET", "/metrics", "", nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{`hoctap_http_requests_total{method="GET",route="/healthz",status="200"}`, "hoctap_http_request_duration_seconds", "hoctap_http_in_flight_requests", "go_goroutines"} {
		if !bytes.Contains(raw, []byte(m)) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if bytes.Contains(raw, []byte("no-such-route")) {
		t.Error("/metrics labels an unmatched path by its raw path")
	}
	big := ts.do(t, "GET", "/healthz", "", nil, "X-Big", strings.Repeat("a", 20<<10))
	big.Body.Close()
	if big.StatusCode != http.StatusRequestHeaderFieldsTooLarge && big.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("20 KB header: status %d", big.StatusCode)
	}
}
