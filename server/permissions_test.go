package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hoctap/accounts"
)

// The permission matrix: every registered route × every role, against one fixture world.
// permWant (permissions_matrix_test.go) is keyed by the route string; a registered route
// with no entry fails the test. Each entry lists the expected status for the roles in
// permRoles order. Rule (API.md): 401 anonymous on the API (pages send anonymous visitors
// to /login with 303), 403 for a role or scope that does not allow the action, 404 for an
// object the caller may not see, so that its existence does not leak.
//
// Set HOCTAP_PERM_RECORD=1 to print the observed matrix in permWant's syntax instead of
// comparing (to review by hand when routes are added; never paste it unreviewed).

// permRole is one column of the matrix.
type permRole int

const (
	roleAnon       permRole = iota
	roleLearner             // learner of the class
	roleLearner2            // learner of another class
	roleLecturer            // owner of the course, the bank and the quiz
	roleLecturer2           // another lecturer
	roleTrainer             // trainer of the class
	roleTrainer2            // trainer of the other class
	roleUnitAdmin           // unit_admin of district 1, where the class's learner works
	roleUnitAdmin2          // unit_admin of district 2, the sibling
	roleAdmin
	permRoleCount
)

var permRoleNames = [permRoleCount]string{"anon", "learner", "learner2", "lecturer", "lecturer2", "trainer", "trainer2", "unit_admin", "unit_admin2", "admin"}

// permRunOrder runs outsiders first and the allowed roles last, so that for a mutating
// route the first allowed role gets the success and the others what follows from it.
var permRunOrder = []permRole{roleAnon, roleLearner2, roleLecturer2, roleTrainer2, roleUnitAdmin2, roleLearner, roleTrainer, roleLecturer, roleUnitAdmin, roleAdmin}

// permReq is the minimal valid request sent for one route. Its path names fixture ids in
// braces ({course}, {class}, …), filled by permWorld.fill.
type permReq struct {
	path  string
	body  any        // nil; a string sent as JSON; a map sent as JSON
	form  url.Values // a page form, sent with the session cookie and its CSRF token
	raw   []byte     // sent as is with ctype
	ctype string
	phase int // 0 read (run in parallel), 1 write, 2 destructive (last)
	// anonForm sends the anonymous forms' double-submit token (login, language).
	anonForm bool
	fresh    bool // a fresh sign-in per role (the request ends the session)
}

// permWorld is the fixture: ids and each role's session.
type permWorld struct {
	ts     *testServer
	tokens [permRoleCount]string
	csrf   [permRoleCount]string
	users  [permRoleCount]string // usernames
	ids    map[string]string
}

func (w *permWorld) fill(t *testing.T, p string) string {
	t.Helper()
	for k, v := range w.ids {
		p = strings.ReplaceAll(p, "{"+k+"}", v)
	}
	if m := permPlaceholder.FindString(p); m != "" {
		t.Errorf("fixture has no id %s (in %s)", m, p) // not Fatal: also called from goroutines
	}
	return p
}

var permPlaceholder = regexp.MustCompile(`\{[a-z0-9_]+\}`)

// loginFull signs in and returns the token and the CSRF token.
func loginFull(t *testing.T, ts *testServer, username string) (string, string) {
	t.Helper()
	var out struct {
		Token     string `json:"token"`
		CSRFToken string `json:"csrf_token"`
	}
	ts.call(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": username, "password": "password-123"}, http.StatusOK, &out)
	return out.Token, out.CSRFToken
}

func newPermWorld(t *testing.T) *permWorld {
	t.Helper()
	ts := newTestServer(t)
	admin := ts.adminToken(t)
	w := &permWorld{ts: ts, ids: map[string]string{}}
	p, d1, d2 := unitFixture(t, ts, admin)
	w.ids["province"], w.ids["d1"], w.ids["d2"] = p, d1, d2
	mk := func(r permRole, name, unit string, roles ...accounts.Role) {
		u := createUser(t, ts, admin, name, unit, roles...)
		w.ids["user_"+permRoleNames[r]] = u.ID
		w.users[r] = name
		w.tokens[r], w.csrf[r] = loginFull(t, ts, name)
	}
	mk(roleLearner, "pm_hv1", d1, accounts.RoleLearner)
	mk(roleLearner2, "pm_hv2", d2, accounts.RoleLearner)
	mk(roleLecturer, "pm_gv1", d1, accounts.RoleLecturer)
	mk(roleLecturer2, "pm_gv2", d1, accounts.RoleLecturer)
	mk(roleTrainer, "pm_hl1", d1, accounts.RoleTrainer)
	mk(roleTrainer2, "pm_hl2", d2, accounts.RoleTrainer)
	mk(roleUnitAdmin, "pm_tc1", d1, accounts.RoleUnitAdmin)
	mk(roleUnitAdmin2, "pm_tc2", d2, accounts.RoleUnitAdmin)
	var a struct {
		Token     string `json:"token"`
		CSRFToken string `json:"csrf_token"`
	}
	ts.call(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": testAdminPassword}, http.StatusOK, &a)
	w.tokens[roleAdmin], w.csrf[roleAdmin], w.users[roleAdmin] = a.Token, a.CSRFToken, "admin"

	lec, tr, tr2, ua := w.tokens[roleLecturer], w.tokens[roleTrainer], w.tokens[roleTrainer2], w.tokens[roleUnitAdmin]
	var obj struct {
		ID       string `json:"id"`
		UploadID string `json:"upload_id"`
		Version  int    `json:"version"`
	}
	id := func(method, path, token string, body any, want int) string {
		t.Helper()
		obj.ID, obj.UploadID = "", ""
		ts.call(t, method, path, token, body, want, &obj)
		if obj.ID == "" {
			return obj.UploadID
		}
		return obj.ID
	}

	// Media: a one-page PDF uploaded by the lecturer, and an upload left incomplete.
	pdf := []byte("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
	m := uploadFile(t, ts, lec, "tai-lieu.pdf", "application/pdf", int64(len(pdf)), func() io.Reader { return bytes.NewReader(pdf) })
	w.ids["media"] = m.ID
	w.ids["upload"] = id("POST", "/api/v1/media/uploads", lec, map[string]any{"filename": "b.pdf", "content_type": "application/pdf", "size": 100}, http.StatusCreated)

	// The course: a module with a text lesson and a PDF lesson, and a throwaway module and
	// lesson for the delete routes.
	c := id("POST", "/api/v1/courses", lec, map[string]any{"code": "PM-01", "title": "Quyền hạn", "category": "ky_nang_so", "description": "Khoá thử"}, http.StatusCreated)
	w.ids["course"] = c
	w.ids["module"] = id("POST", "/api/v1/courses/"+c+"/modules", lec, map[string]any{"title": "Chương 1"}, http.StatusCreated)
	w.ids["lesson"] = id("POST", "/api/v1/courses/"+c+"/modules/"+w.ids["module"]+"/lessons", lec, map[string]any{"title": "Bài 1", "kind": "text", "body": "Nội dung"}, http.StatusCreated)
	w.ids["pdf_lesson"] = id("POST", "/api/v1/courses/"+c+"/modules/"+w.ids["module"]+"/lessons", lec, map[string]any{"title": "Tài liệu", "kind": "pdf", "media_id": m.ID, "pages": 1}, http.StatusCreated)
	w.ids["xmodule"] = id("POST", "/api/v1/courses/"+c+"/modules", lec, map[string]any{"title": "Tạm"}, http.StatusCreated)
	w.ids["xlesson"] = id("POST", "/api/v1/courses/"+c+"/modules/"+w.ids["xmodule"]+"/lessons", lec, map[string]any{"title": "Tạm", "kind": "text", "body": "x"}, http.StatusCreated)
	ts.call(t, "POST", "/api/v1/courses/"+c+"/publish", lec, nil, http.StatusOK, nil)

	// Questions and a quiz of the lecturer's bank.
	w.ids["bank"] = "PM-Bank"
	w.ids["question"] = id("POST", "/api/v1/questions", lec, map[string]any{"bank": "PM-Bank", "type": "essay", "text": "Trình bày", "points": 5}, http.StatusCreated)
	w.ids["xquestion"] = id("POST", "/api/v1/questions", lec, map[string]any{"bank": "PM-Bank", "type": "essay", "text": "Nháp", "points": 1}, http.StatusCreated)
	w.ids["quiz"] = id("POST", "/api/v1/quizzes", lec, map[string]any{"course_id": c, "title": "Kiểm tra", "time_limit_s": 600, "max_attempts": 5, "pass_percent": 50,
		"items": []any{map[string]any{"question_id": w.ids["question"]}}}, http.StatusCreated)

	// Classes: the trainer's with the learner, the other trainer's with learner 2.
	now := time.Now().UTC()
	classBody := func(name string) map[string]any {
		return map[string]any{"name": name, "starts_at": now.Add(-time.Hour).Format(time.RFC3339), "ends_at": now.AddDate(0, 1, 0).Format(time.RFC3339), "capacity": 50}
	}
	w.ids["class"] = id("POST", "/api/v1/courses/"+c+"/classes", tr, classBody("Lớp 1"), http.StatusCreated)
	w.ids["class2"] = id("POST", "/api/v1/courses/"+c+"/classes", tr2, classBody("Lớp 2"), http.StatusCreated)
	ts.call(t, "POST", "/api/v1/classes/"+w.ids["class"]+"/enrolments", tr, map[string]any{"user_ids": []string{w.ids["user_learner"]}}, http.StatusOK, nil)
	ts.call(t, "POST", "/api/v1/classes/"+w.ids["class2"]+"/enrolments", tr2, map[string]any{"user_ids": []string{w.ids["user_learner2"]}}, http.StatusOK, nil)
	w.ids["session"] = id("POST", "/api/v1/classes/"+w.ids["class"]+"/live-sessions", tr, map[string]any{"title": "Buổi 1", "starts_at": now.Format(time.RFC3339)}, http.StatusCreated)

	// The learner completes the course (a certificate) and takes the quiz once.
	l := w.tokens[roleLearner]
	for _, k := range []string{"lesson", "xlesson"} {
		ts.call(t, "PUT", "/api/v1/lessons/"+w.ids[k]+"/progress", l, map[string]any{}, http.StatusOK, nil)
	}
	ts.call(t, "PUT", "/api/v1/lessons/"+w.ids["pdf_lesson"]+"/progress", l, map[string]any{"pages_viewed": []int{1}}, http.StatusOK, nil)
	var certs struct {
		Items []struct {
			ID     string `json:"id"`
			Number string `json:"number"`
		} `json:"items"`
	}
	ts.call(t, "GET", "/api/v1/me/certificates", l, nil, http.StatusOK, &certs)
	if len(certs.Items) != 1 {
		t.Fatalf("the learner has %d certificates", len(certs.Items))
	}
	w.ids["cert"], w.ids["cert_number"] = certs.Items[0].ID, certs.Items[0].Number
	w.ids["attempt"] = id("POST", "/api/v1/quizzes/"+w.ids["quiz"]+"/attempts", l, nil, http.StatusCreated)
	ts.call(t, "PUT", "/api/v1/attempts/"+w.ids["attempt"]+"/answers", l, map[string]any{"answers": map[string]any{w.ids["question"]: "Trả lời"}}, http.StatusOK, nil)
	ts.call(t, "POST", "/api/v1/attempts/"+w.ids["attempt"]+"/submit", l, nil, http.StatusOK, nil)

	// Reports: a target and a plan of the unit admin's district.
	due := now.AddDate(0, 6, 0).Format("2006-01-02")
	w.ids["target"] = id("POST", "/api/v1/targets", ua, map[string]any{"unit_id": d1, "title": "Mục tiêu", "course_id": c, "metric": "completed", "percent": 100, "due": due}, http.StatusCreated)
	w.ids["year"] = strconv.Itoa(now.In(time.FixedZone("ICT", 7*3600)).Year())
	w.ids["plan"] = id("POST", "/api/v1/plans", ua, map[string]any{"unit_id": d1, "year": now.In(time.FixedZone("ICT", 7*3600)).Year(), "title": "Kế hoạch",
		"items": []map[string]any{{"course_id": c, "planned": 2}}}, http.StatusCreated)
	return w
}

// send runs one request as role r and returns the status (0 after reporting an error). It
// runs on several goroutines, so it never calls t.Fatal.
func (w *permWorld) send(t *testing.T, client *http.Client, route string, rq permReq, r permRole) int {
	t.Helper()
	method := route[:strings.IndexByte(route, ' ')]
	path := w.fill(t, rq.path)
	token, csrf := w.tokens[r], w.csrf[r]
	if rq.fresh && r != roleAnon {
		if r == roleAdmin {
			var a struct {
				Token     string `json:"token"`
				CSRFToken string `json:"csrf_token"`
			}
			w.ts.call(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": testAdminPassword}, http.StatusOK, &a)
			token, csrf = a.Token, a.CSRFToken
		} else {
			token, csrf = loginFull(t, w.ts, w.users[r])
		}
	}
	if strings.HasPrefix(path, "/ws/") {
		h := http.Header{}
		if r != roleAnon {
			h.Set("Authorization", "Bearer "+token)
		}
		conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(w.ts.URL, "http")+path, h)
		if resp == nil {
			t.Errorf("%s as %s: %v", route, permRoleNames[r], err)
			return 0
		}
		if conn == nil {
			return resp.StatusCode
		}
		defer conn.Close()
		return wsOutcome(t, conn)
	}
	var body io.Reader
	ctype := rq.ctype
	switch {
	case rq.form != nil:
		f := url.Values{}
		for k, vs := range rq.form { // a copy: permRequests is shared by every run
			for _, v := range vs {
				f.Add(k, w.fill(t, v))
			}
		}
		if r != roleAnon {
			f.Set(csrfFormField, csrf)
		}
		if rq.anonForm {
			f.Set(csrfFormField, permFormToken)
		}
		body, ctype = strings.NewReader(f.Encode()), "application/x-www-form-urlencoded"
	case rq.raw != nil:
		body = bytes.NewReader([]byte(w.fill(t, string(rq.raw))))
	case rq.body != nil:
		s, ok := rq.body.(string)
		if !ok {
			s = mustMarshal(t, rq.body)
		}
		body, ctype = strings.NewReader(w.fill(t, s)), "application/json"
	}
	req, err := http.NewRequest(method, w.ts.URL+path, body)
	if err != nil {
		t.Error(err)
		return 0
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if rq.anonForm {
		req.AddCookie(&http.Cookie{Name: "hoctap_form", Value: permFormToken})
	}
	if r != roleAnon {
		if isPage(path) {
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
			req.Header.Set(csrfHeader, csrf)
		} else {
			req.Header.Set("Authorization", "Bearer "+token)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("%s as %s: %v", route, permRoleNames[r], err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// wsOutcome reads the first frame of a live socket. The server refuses after the upgrade
// with a policy close whose reason starts with the error code; the matrix writes that as
// the status the same refusal gets over HTTP, and a socket that joined as 101.
func wsOutcome(t *testing.T, conn *websocket.Conn) int {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := conn.ReadMessage()
	var ce *websocket.CloseError
	switch {
	case err == nil:
		return http.StatusSwitchingProtocols
	case !errors.As(err, &ce):
		t.Errorf("live socket: %v", err)
		return 0
	case ce.Text == "sign in first":
		return http.StatusUnauthorized
	}
	for prefix, status := range map[string]int{"forbidden:": 403, "not_found:": 404, "conflict:": 409, "invalid:": 422} {
		if strings.HasPrefix(ce.Text, prefix) {
			return status
		}
	}
	t.Errorf("live socket closed with %d %q", ce.Code, ce.Text)
	return 0
}

// permFormToken is the double-submit token of anonymous forms, sent as cookie and field.
const permFormToken = "0123456789abcdef0123456789abcdef"

func isPage(path string) bool {
	return !strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/ws/")
}

func TestPermissionMatrix(t *testing.T) {
	w := newPermWorld(t)
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	record := os.Getenv("HOCTAP_PERM_RECORD") != ""

	routes := registeredRoutes(w.ts.Server)
	for _, r := range routes {
		if _, ok := permRequests[r]; !ok {
			t.Errorf("add route %s to the permission matrix (permRequests)", r)
		}
		if _, ok := permWant[r]; !ok && !record {
			t.Errorf("add route %s to the permission matrix (permWant)", r)
		}
	}
	for r := range permRequests {
		if !slices.Contains(routes, r) {
			t.Errorf("the permission matrix names %s, which is not registered", r)
		}
	}
	if t.Failed() {
		return
	}

	got := map[string]*[permRoleCount]int{}
	for _, r := range routes {
		got[r] = new([permRoleCount]int)
	}
	for phase := 0; phase <= 2; phase++ {
		var todo []string
		for _, r := range routes {
			if permRequests[r].phase == phase {
				todo = append(todo, r)
			}
		}
		slices.SortStableFunc(todo, func(a, b string) int { return permOrder(a) - permOrder(b) })
		if phase == 0 { // reads change nothing: run them side by side
			var wg sync.WaitGroup
			sem := make(chan struct{}, 8)
			for _, r := range todo {
				for _, role := range permRunOrder {
					wg.Add(1)
					sem <- struct{}{}
					go func() {
						defer func() { <-sem; wg.Done() }()
						got[r][role] = w.send(t, client, r, permRequests[r], role)
					}()
				}
			}
			wg.Wait()
			continue
		}
		for _, r := range todo {
			for _, role := range permRunOrder {
				got[r][role] = w.send(t, client, r, permRequests[r], role)
			}
		}
	}

	if record {
		var b strings.Builder
		for _, r := range routes {
			var s []string
			for _, st := range got[r] {
				s = append(s, strconv.Itoa(st))
			}
			fmt.Fprintf(&b, "\t%q: %q,\n", r, strings.Join(s, " "))
		}
		t.Logf("observed matrix (%s):\n%s", strings.Join(permRoleNames[:], " "), b.String())
		return
	}
	for _, r := range routes {
		want := strings.Fields(permWant[r])
		if len(want) != int(permRoleCount) {
			t.Errorf("%s: the matrix entry has %d statuses, want %d", r, len(want), permRoleCount)
			continue
		}
		for role, st := range got[r] {
			if want[role] != strconv.Itoa(st) {
				t.Errorf("%s as %s: status %d, want %s", r, permRoleNames[role], st, want[role])
			}
		}
	}
}

// permOrder places, within a phase, the routes that end things last among the writes.
func permOrder(route string) int {
	for i, s := range permLast {
		if strings.Contains(route, s) {
			return i + 1
		}
	}
	return 0
}

// permLast are, in order, the routes run after the other writes of their phase.
var permLast = []string{"/submit", "/revision", "/archive", "/end", "/revoke", "/delete", "DELETE ", "logout"}

// permRequests is the request each route is sent with.
var permRequests = map[string]permReq{
	// Health and static files.
	"GET /healthz":       {path: "/healthz"},
	"GET /readyz":        {path: "/readyz"},
	"GET /metrics":       {path: "/metrics"},
	"GET /static/{path}": {path: "/static/css/app.css"},

	// Accounts.
	"POST /api/v1/auth/login":  {path: "/api/v1/auth/login", body: `{"username":"pm_hv1","password":"password-123"}`, phase: 1},
	"POST /api/v1/auth/logout": {path: "/api/v1/auth/logout", phase: 2, fresh: true},
	"GET /api/v1/me":           {path: "/api/v1/me"},
	"PATCH /api/v1/me":         {path: "/api/v1/me", body: `{"language":"vi"}`, phase: 1},
	"POST /api/v1/units":       {path: "/api/v1/units", body: `{"name":"Xã Mới","code":"HG-DV-XM","parent_id":"{d1}"}`, phase: 1},
	"GET /api/v1/units":        {path: "/api/v1/units"},
	"GET /api/v1/units/{id}":   {path: "/api/v1/units/{d1}"},
	"PATCH /api/v1/units/{id}": {path: "/api/v1/units/{d1}", body: `{"name":"Huyện Đồng Văn"}`, phase: 1},
	"POST /api/v1/users":       {path: "/api/v1/users", body: `{"username":"pm_new","password":"password-123","full_name":"Người Mới","unit_id":"{d1}","roles":["learner"]}`, phase: 1},
	"GET /api/v1/users":        {path: "/api/v1/users"},
	"POST /api/v1/users/import": {path: "/api/v1/users/import", ctype: "text/csv", phase: 1,
		raw: []byte("username,full_name,unit_code,position,email\npm_csv,Người CSV,HG-DV,Chuyên viên,csv@example.vn\n")},
	"GET /api/v1/users/{id}":   {path: "/api/v1/users/{user_learner}"},
	"PATCH /api/v1/users/{id}": {path: "/api/v1/users/{user_learner}", body: `{"position":"Chuyên viên"}`, phase: 1},

	// Media.
	"POST /api/v1/media/uploads":                      {path: "/api/v1/media/uploads", body: `{"filename":"c.pdf","content_type":"application/pdf","size":100}`, phase: 1},
	"POST /api/v1/media/uploads/{upload_id}/complete": {path: "/api/v1/media/uploads/{upload}/complete", body: `{}`, phase: 1},
	"GET /api/v1/media/{id}":                          {path: "/api/v1/media/{media}"},

	// Courses.
	"GET /api/v1/course-categories":                         {path: "/api/v1/course-categories"},
	"POST /api/v1/courses":                                  {path: "/api/v1/courses", body: `{"code":"PM-02","title":"Khoá mới","category":"ky_nang_so"}`, phase: 1},
	"GET /api/v1/courses":                                   {path: "/api/v1/courses"},
	"GET /api/v1/courses/{id}":                              {path: "/api/v1/courses/{course}"},
	"PATCH /api/v1/courses/{id}":                            {path: "/api/v1/courses/{course}", body: `{"description":"Mô tả"}`, phase: 1},
	"POST /api/v1/courses/{id}/publish":                     {path: "/api/v1/courses/{course}/publish", phase: 1},
	"POST /api/v1/courses/{id}/archive":                     {path: "/api/v1/courses/{course}/archive", phase: 2},
	"GET /api/v1/courses/{id}/revisions/{revision}":         {path: "/api/v1/courses/{course}/revisions/1"},
	"POST /api/v1/courses/{id}/modules":                     {path: "/api/v1/courses/{course}/modules", body: `{"title":"Chương 2"}`, phase: 1},
	"PATCH /api/v1/courses/{id}/modules/{module_id}":        {path: "/api/v1/courses/{course}/modules/{module}", body: `{"title":"Chương một"}`, phase: 1},
	"DELETE /api/v1/courses/{id}/modules/{module_id}":       {path: "/api/v1/courses/{course}/modules/{xmodule}", phase: 2},
	"POST /api/v1/courses/{id}/modules/{module_id}/move":    {path: "/api/v1/courses/{course}/modules/{module}/move", body: `{"position":0}`, phase: 1},
	"POST /api/v1/courses/{id}/modules/{module_id}/lessons": {path: "/api/v1/courses/{course}/modules/{module}/lessons", body: `{"title":"Bài 2","kind":"text","body":"x"}`, phase: 1},
	"PATCH /api/v1/courses/{id}/lessons/{lesson_id}":        {path: "/api/v1/courses/{course}/lessons/{lesson}", body: `{"title":"Bài một"}`, phase: 1},
	"DELETE /api/v1/courses/{id}/lessons/{lesson_id}":       {path: "/api/v1/courses/{course}/lessons/{xlesson}", phase: 2},
	"POST /api/v1/courses/{id}/lessons/{lesson_id}/move":    {path: "/api/v1/courses/{course}/lessons/{lesson}/move", body: `{"module_id":"{module}","position":0}`, phase: 1},
	"POST /api/v1/courses/{id}/classes":                     {path: "/api/v1/courses/{course}/classes", body: `{"name":"Lớp 3","starts_at":"2030-01-01T00:00:00Z","ends_at":"2030-02-01T00:00:00Z","capacity":10}`, phase: 1},
	"GET /api/v1/classes":                                   {path: "/api/v1/classes"},
	"GET /api/v1/classes/{id}":                              {path: "/api/v1/classes/{class}"},
	"POST /api/v1/classes/{id}/revision":                    {path: "/api/v1/classes/{class}/revision", body: `{"revision":1}`, phase: 1},
	"POST /api/v1/classes/{id}/enrolments":                  {path: "/api/v1/classes/{class}/enrolments", body: `{"user_ids":["{user_learner}"]}`, phase: 1},
	"GET /api/v1/classes/{id}/enrolments":                   {path: "/api/v1/classes/{class}/enrolments"},
	"GET /api/v1/classes/{id}/progress/me":                  {path: "/api/v1/classes/{class}/progress/me"},
	"GET /api/v1/me/enrolments":                             {path: "/api/v1/me/enrolments"},
	"PUT /api/v1/lessons/{id}/progress":                     {path: "/api/v1/lessons/{lesson}/progress", body: `{}`, phase: 1},
	"POST /api/v1/classes/{id}/live-sessions":               {path: "/api/v1/classes/{class}/live-sessions", body: `{"title":"Buổi 2","starts_at":"2030-01-02T01:00:00Z"}`, phase: 1},
	"GET /api/v1/classes/{id}/live-sessions":                {path: "/api/v1/classes/{class}/live-sessions"},
	"GET /api/v1/live-sessions/{id}":                        {path: "/api/v1/live-sessions/{session}"},
	"POST /api/v1/live-sessions/{id}/end":                   {path: "/api/v1/live-sessions/{session}/end", phase: 2},
	"GET /api/v1/live-sessions/{id}/events":                 {path: "/api/v1/live-sessions/{session}/events"},
	"GET /api/v1/live-sessions/{id}/attendance":             {path: "/api/v1/live-sessions/{session}/attendance"},
	"GET /ws/live/{session_id}":                             {path: "/ws/live/{session}"},
	"GET /api/v1/reports/classes/{id}.xlsx":                 {path: "/api/v1/reports/classes/{class}.xlsx"},
	"GET /api/v1/reports/classes/{id}/attendance.xlsx":      {path: "/api/v1/reports/classes/{class}/attendance.xlsx"},
	"POST /api/v1/classes/{id}/certificates":                {path: "/api/v1/classes/{class}/certificates", phase: 1},
	"GET /api/v1/reports/units/{id}/dashboard":              {path: "/api/v1/reports/units/{d1}/dashboard"},

	// Assessment.
	"GET /api/v1/question-banks":                        {path: "/api/v1/question-banks"},
	"POST /api/v1/question-banks/share":                 {path: "/api/v1/question-banks/share", body: `{"bank":"PM-Bank","user_ids":["{user_lecturer2}"]}`, phase: 2},
	"POST /api/v1/questions":                            {path: "/api/v1/questions", body: `{"bank":"PM-Bank","type":"essay","text":"Câu mới"}`, phase: 1},
	"GET /api/v1/questions":                             {path: "/api/v1/questions?bank=PM-Bank"},
	"POST /api/v1/questions/import":                     {path: "/api/v1/questions/import?format=aiken&bank=PM-Bank", ctype: "text/plain", raw: []byte("Câu hỏi?\nA. Một\nB. Hai\nANSWER: A\n"), phase: 1},
	"GET /api/v1/questions/export":                      {path: "/api/v1/questions/export?bank=PM-Bank&format=gift"},
	"GET /api/v1/questions/{id}":                        {path: "/api/v1/questions/{question}"},
	"PUT /api/v1/questions/{id}":                        {path: "/api/v1/questions/{question}", body: `{"type":"essay","text":"Trình bày rõ","points":5,"version":1}`, phase: 1},
	"DELETE /api/v1/questions/{id}":                     {path: "/api/v1/questions/{xquestion}", phase: 2},
	"POST /api/v1/quizzes":                              {path: "/api/v1/quizzes", body: `{"course_id":"{course}","title":"Kiểm tra 2","items":[{"question_id":"{question}"}]}`, phase: 1},
	"GET /api/v1/quizzes":                               {path: "/api/v1/quizzes?course_id={course}"},
	"GET /api/v1/quizzes/{id}":                          {path: "/api/v1/quizzes/{quiz}"},
	"PUT /api/v1/quizzes/{id}":                          {path: "/api/v1/quizzes/{quiz}", body: `{"course_id":"{course}","title":"Kiểm tra","time_limit_s":600,"max_attempts":5,"pass_percent":50,"items":[{"question_id":"{question}"}]}`, phase: 1},
	"POST /api/v1/quizzes/{id}/attempts":                {path: "/api/v1/quizzes/{quiz}/attempts", phase: 1},
	"GET /api/v1/quizzes/{id}/attempts/me":              {path: "/api/v1/quizzes/{quiz}/attempts/me"},
	"GET /api/v1/quizzes/{id}/results":                  {path: "/api/v1/quizzes/{quiz}/results"},
	"GET /api/v1/quizzes/{id}/grades/{user_id}":         {path: "/api/v1/quizzes/{quiz}/grades/{user_learner}"},
	"GET /api/v1/quizzes/{id}/essays":                   {path: "/api/v1/quizzes/{quiz}/essays"},
	"GET /api/v1/quizzes/{id}/accommodations":           {path: "/api/v1/quizzes/{quiz}/accommodations"},
	"PUT /api/v1/quizzes/{id}/accommodations/{user_id}": {path: "/api/v1/quizzes/{quiz}/accommodations/{user_learner}", body: `{"extra_time_s":60,"extra_attempts":0}`, phase: 1},
	"GET /api/v1/attempts/{id}":                         {path: "/api/v1/attempts/{attempt}"},
	"PUT /api/v1/attempts/{id}/answers":                 {path: "/api/v1/attempts/{attempt}/answers", body: `{"answers":{}}`, phase: 1},
	"POST /api/v1/attempts/{id}/submit":                 {path: "/api/v1/attempts/{attempt}/submit", phase: 1},
	"PUT /api/v1/attempts/{id}/grades/{question_id}":    {path: "/api/v1/attempts/{attempt}/grades/{question}", body: `{"score":4,"comment":"Tốt"}`, phase: 1},

	// Reports and certificates.
	"POST /api/v1/targets":                     {path: "/api/v1/targets", body: `{"unit_id":"{d1}","title":"Mục tiêu 2","course_id":"{course}","metric":"passed","percent":80,"due":"2031-12-31"}`, phase: 1},
	"GET /api/v1/targets":                      {path: "/api/v1/targets"},
	"GET /api/v1/targets/{id}":                 {path: "/api/v1/targets/{target}"},
	"DELETE /api/v1/targets/{id}":              {path: "/api/v1/targets/{target}", phase: 2},
	"GET /api/v1/targets/{id}/status":          {path: "/api/v1/targets/{target}/status"},
	"GET /api/v1/targets/{id}/pending":         {path: "/api/v1/targets/{target}/pending"},
	"GET /api/v1/targets/{id}/chart.svg":       {path: "/api/v1/targets/{target}/chart.svg"},
	"GET /api/v1/reports/targets/{id}.xlsx":    {path: "/api/v1/reports/targets/{target}.xlsx"},
	"GET /api/v1/reports/plans/{id}.xlsx":      {path: "/api/v1/reports/plans/{plan}.xlsx"},
	"POST /api/v1/plans":                       {path: "/api/v1/plans", body: `{"unit_id":"{d1}","year":2031,"title":"Kế hoạch 2031","items":[{"course_id":"{course}","planned":1}]}`, phase: 1},
	"GET /api/v1/plans":                        {path: "/api/v1/plans"},
	"GET /api/v1/plans/{id}":                   {path: "/api/v1/plans/{plan}"},
	"PUT /api/v1/plans/{id}":                   {path: "/api/v1/plans/{plan}", body: `{"title":"Kế hoạch sửa","items":[{"course_id":"{course}","planned":3}]}`, phase: 1},
	"DELETE /api/v1/plans/{id}":                {path: "/api/v1/plans/{plan}", phase: 2},
	"GET /api/v1/plans/{id}/report":            {path: "/api/v1/plans/{plan}/report"},
	"GET /api/v1/certificates/verify/{number}": {path: "/api/v1/certificates/verify/{cert_number}"},
	"GET /api/v1/me/certificates":              {path: "/api/v1/me/certificates"},
	"GET /api/v1/certificates":                 {path: "/api/v1/certificates"},
	"GET /api/v1/certificates/{id}.pdf":        {path: "/api/v1/certificates/{cert}.pdf"},
	"GET /api/v1/certificates/{id}/print":      {path: "/api/v1/certificates/{cert}/print"},
	"GET /api/v1/certificates/{id}":            {path: "/api/v1/certificates/{cert}"},
	"POST /api/v1/certificates/{id}/revoke":    {path: "/api/v1/certificates/{cert}/revoke", body: `{"reason":"Cấp nhầm"}`, phase: 2},
	"GET /api/v1/audit":                        {path: "/api/v1/audit"},

	// Pages.
	"GET /":                                     {path: "/"},
	"GET /login":                                {path: "/login"},
	"POST /login":                               {path: "/login", form: url.Values{"username": {"pm_hv1"}, "password": {"password-123"}}, anonForm: true, phase: 1},
	"POST /logout":                              {path: "/logout", form: url.Values{}, phase: 2, fresh: true},
	"POST /language":                            {path: "/language", form: url.Values{"lang": {"vi"}}, anonForm: true, phase: 1},
	"GET /account":                              {path: "/account"},
	"POST /account/password":                    {path: "/account/password", form: url.Values{"current_password": {"wrong-password"}, "password": {"new-password-1"}}, phase: 1},
	"GET /admin/units":                          {path: "/admin/units"},
	"POST /admin/units":                         {path: "/admin/units", form: url.Values{"name": {"Xã Trang"}, "code": {"HG-DV-XT"}, "parent_id": {"{d1}"}}, phase: 1},
	"POST /admin/units/{id}":                    {path: "/admin/units/{d1}", form: url.Values{"name": {"Huyện Đồng Văn"}, "code": {"HG-DV"}, "current_parent": {"{province}"}, "parent_id": {"{province}"}}, phase: 1},
	"GET /admin/users":                          {path: "/admin/users"},
	"GET /admin/audit":                          {path: "/admin/audit"},
	"GET /admin/users/new":                      {path: "/admin/users/new"},
	"POST /admin/users":                         {path: "/admin/users", form: url.Values{"username": {"pm_page"}, "password": {"password-123"}, "full_name": {"Người Trang"}, "unit_id": {"{d1}"}}, phase: 1},
	"GET /admin/users/import":                   {path: "/admin/users/import"},
	"POST /admin/users/import":                  {path: "/admin/users/import", form: url.Values{}, phase: 1},
	"GET /admin/users/{id}":                     {path: "/admin/users/{user_learner}"},
	"POST /admin/users/{id}":                    {path: "/admin/users/{user_learner}", form: url.Values{"full_name": {"Nguyễn Văn pm_hv1"}, "unit_id": {"{d1}"}, "position": {"Chuyên viên"}, "active": {"on"}}, phase: 1},
	"GET /learn":                                {path: "/learn"},
	"GET /learn/classes/{id}":                   {path: "/learn/classes/{class}"},
	"GET /learn/classes/{id}/lessons/{lesson}":  {path: "/learn/classes/{class}/lessons/{lesson}"},
	"GET /learn/quizzes/{id}":                   {path: "/learn/quizzes/{quiz}"},
	"POST /learn/quizzes/{id}/start":            {path: "/learn/quizzes/{quiz}/start", form: url.Values{}, phase: 1},
	"GET /learn/attempts/{id}":                  {path: "/learn/attempts/{attempt}"},
	"POST /learn/attempts/{id}":                 {path: "/learn/attempts/{attempt}", form: url.Values{"action": {"save"}}, phase: 1},
	"GET /live/{id}":                            {path: "/live/{session}"},
	"GET /live/{id}/attendance":                 {path: "/live/{session}/attendance"},
	"POST /live/{id}/end":                       {path: "/live/{session}/end", form: url.Values{}, phase: 2},
	"GET /reports":                              {path: "/reports"},
	"POST /reports/targets":                     {path: "/reports/targets", form: url.Values{"unit_id": {"{d1}"}, "title": {"Mục tiêu trang"}, "course_id": {"{course}"}, "metric": {"completed"}, "percent": {"100"}, "due": {"2031-12-31"}}, phase: 1},
	"GET /reports/certificates":                 {path: "/reports/certificates?unit_id={d1}"},
	"POST /reports/certificates/{id}/revoke":    {path: "/reports/certificates/{cert}/revoke", form: url.Values{"reason": {"Cấp nhầm"}, "unit_id": {"{d1}"}}, phase: 2},
	"GET /reports/plans":                        {path: "/reports/plans"},
	"GET /reports/plans/{id}":                   {path: "/reports/plans/{plan}"},
	"POST /reports/plans":                       {path: "/reports/plans", form: url.Values{"unit_id": {"{d1}"}, "year": {"2032"}, "title": {"Kế hoạch trang"}, "course_id": {"{course}"}, "class_id": {""}, "planned": {"1"}}, phase: 1},
	"POST /reports/plans/{id}":                  {path: "/reports/plans/{plan}", form: url.Values{"title": {"Kế hoạch sửa trang"}, "course_id": {"{course}"}, "class_id": {""}, "planned": {"3"}}, phase: 1},
	"GET /reports/targets/{id}":                 {path: "/reports/targets/{target}"},
	"GET /verify/{number}":                      {path: "/verify/{cert_number}"},
	"GET /certificates":                         {path: "/certificates"},
	"GET /teach/bank":                           {path: "/teach/bank?name=PM-Bank"},
	"GET /teach/bank/export":                    {path: "/teach/bank/export?name=PM-Bank&format=gift"},
	"GET /teach/banks":                          {path: "/teach/banks"},
	"POST /teach/banks/import":                  {path: "/teach/banks/import", form: url.Values{"bank": {"PM-Bank"}, "format": {"aiken"}}, phase: 1},
	"POST /teach/bank/questions":                {path: "/teach/bank/questions", form: url.Values{"bank": {"PM-Bank"}, "type": {"essay"}, "text": {"Câu trang"}, "points": {"1"}}, phase: 1},
	"GET /teach/questions/{id}":                 {path: "/teach/questions/{question}"},
	"POST /teach/questions/{id}":                {path: "/teach/questions/{question}", form: url.Values{"text": {"Trình bày rõ"}}, phase: 1},
	"GET /teach/quizzes/{id}":                   {path: "/teach/quizzes/{quiz}"},
	"POST /teach/quizzes/{id}/grade":            {path: "/teach/quizzes/{quiz}/grade", form: url.Values{"attempt_id": {"{attempt}"}, "question_id": {"{question}"}, "score": {"4"}}, phase: 1},
	"POST /teach/quizzes/{id}/settings":         {path: "/teach/quizzes/{quiz}/settings", form: url.Values{"pass_percent": {"50"}}, phase: 1},
	"POST /teach/quizzes/{id}/accommodations":   {path: "/teach/quizzes/{quiz}/accommodations", form: url.Values{"username": {"pm_hv1"}, "extra_time_min": {"5"}, "extra_attempts": {"1"}}, phase: 1},
	"POST /teach/courses/{id}/archive":          {path: "/teach/courses/{course}/archive", form: url.Values{}, phase: 2},
	"POST /teach/courses/{id}/modules/{module}": {path: "/teach/courses/{course}/modules/{module}", form: url.Values{"title": {"Chương 1"}}, phase: 1},
	"POST /teach/classes/{id}/revision":         {path: "/teach/classes/{class}/revision", form: url.Values{"revision": {"1"}}, phase: 1},
	"POST /teach/bank/share":                    {path: "/teach/bank/share", form: url.Values{"bank": {"PM-Bank"}, "usernames": {""}}, phase: 1},
	"GET /teach/courses":                        {path: "/teach/courses"},
	"POST /teach/courses":                       {path: "/teach/courses", form: url.Values{"code": {"PM-03"}, "title": {"Khoá trang"}, "category": {"ky_nang_so"}}, phase: 1},
	"GET /teach/courses/{id}":                   {path: "/teach/courses/{course}"},
	"POST /teach/courses/{id}/modules":          {path: "/teach/courses/{course}/modules", form: url.Values{"title": {"Chương trang"}}, phase: 1},
	"POST /teach/courses/{id}/lessons":          {path: "/teach/courses/{course}/lessons", form: url.Values{"module_id": {"{module}"}, "title": {"Bài trang"}, "kind": {"text"}, "body": {"x"}}, phase: 1},
	"POST /teach/courses/{id}/move":             {path: "/teach/courses/{course}/move", form: url.Values{"module_id": {"{module}"}, "position": {"0"}}, phase: 1},
	"POST /teach/courses/{id}/delete":           {path: "/teach/courses/{course}/delete", form: url.Values{"module_id": {"{xmodule}"}}, phase: 2},
	"POST /teach/courses/{id}/publish":          {path: "/teach/courses/{course}/publish", form: url.Values{}, phase: 1},
	"POST /teach/courses/{id}/classes":          {path: "/teach/courses/{course}/classes", form: url.Values{"name": {"Lớp trang"}, "starts_on": {"2031-01-01"}, "ends_on": {"2031-02-01"}}, phase: 1},
	"POST /teach/courses/{id}/quizzes":          {path: "/teach/courses/{course}/quizzes", form: url.Values{"bank": {"PM-Bank"}, "title": {"Kiểm tra trang"}}, phase: 1},
	"GET /teach/courses/{id}/lessons/{lesson}":  {path: "/teach/courses/{course}/lessons/{lesson}"},
	"POST /teach/courses/{id}/lessons/{lesson}": {path: "/teach/courses/{course}/lessons/{lesson}", form: url.Values{"title": {"Bài 1"}, "body": {"Nội dung"}}, phase: 1},
	"POST /teach/courses/{id}/edit":             {path: "/teach/courses/{course}/edit", form: url.Values{"code": {"PM-01"}, "title": {"Quyền hạn"}, "description": {"Khoá thử"}, "category": {"ky_nang_so"}}, phase: 1},
	"GET /teach/classes":                        {path: "/teach/classes"},
	"GET /teach/classes/{id}":                   {path: "/teach/classes/{class}"},
	"POST /teach/classes/{id}/enrol":            {path: "/teach/classes/{class}/enrol", form: url.Values{"usernames": {"pm_hv1"}}, phase: 1},
	"POST /teach/classes/{id}/live":             {path: "/teach/classes/{class}/live", form: url.Values{"title": {"Buổi trang"}, "starts_at": {"2031-01-01T08:00"}}, phase: 1},
	"POST /teach/classes/{id}/certificates":     {path: "/teach/classes/{class}/certificates", form: url.Values{}, phase: 1},
}
