package server

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hoctap/accounts"
)

// xss is stored in every free-text field a page shows later.
const xss = `<script>alert(1)</script>"><img src=x onerror=alert(1)>`

// xssLink is lesson and description text with links a renderer might turn live.
const xssLink = `[x](javascript:alert(1)) <a href="javascript:alert(1)">x</a> javascript:alert(1)`

// rawXSS matches the payload's markup reaching a page unescaped, or a javascript: URL in
// an attribute.
var rawXSS = regexp.MustCompile(`(?i)<script>alert|<img src=x|(href|src|action|formaction)\s*=\s*["']?\s*javascript:`)

func TestPagesEscapeStoredText(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.adminToken(t)
	var unit, user struct{ ID string }
	ts.call(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Xã " + xss, "code": "XSS"}, http.StatusCreated, &unit)
	mk := func(name string, roles ...accounts.Role) (string, string) {
		ts.call(t, "POST", "/api/v1/users", admin, map[string]any{"username": name, "password": "password-123", "full_name": "Người " + xss,
			"unit_id": unit.ID, "position": "Chức vụ " + xss, "roles": roles}, http.StatusCreated, &user)
		return user.ID, ts.login(t, name, "password-123")
	}
	_, lec := mk("xss_gv", accounts.RoleLecturer)
	trID, tr := mk("xss_hl", accounts.RoleTrainer)
	lID, learner := mk("xss_hv", accounts.RoleLearner)

	var c, m, lesson, q, quiz, class, sess, target, attempt struct{ ID string }
	ts.call(t, "POST", "/api/v1/courses", lec, map[string]any{"code": "XSS-1", "title": "Khoá " + xss, "category": "ky_nang_so", "description": xss + " " + xssLink}, http.StatusCreated, &c)
	ts.call(t, "POST", "/api/v1/courses/"+c.ID+"/modules", lec, map[string]any{"title": "Chương " + xss}, http.StatusCreated, &m)
	ts.call(t, "POST", "/api/v1/courses/"+c.ID+"/modules/"+m.ID+"/lessons", lec, map[string]any{"title": "Bài " + xss, "kind": "text", "body": xss + "\n\n" + xssLink}, http.StatusCreated, &lesson)
	ts.call(t, "POST", "/api/v1/courses/"+c.ID+"/publish", lec, nil, http.StatusOK, nil)
	bank := "Ngân hàng " + xss
	ts.call(t, "POST", "/api/v1/questions", lec, map[string]any{"bank": bank, "category": "Mục " + xss, "type": "single", "text": "Câu " + xss,
		"choices": []map[string]any{{"id": "a", "text": "Đúng " + xss, "correct": true}, {"id": "b", "text": "Sai " + xssLink}}}, http.StatusCreated, &q)
	ts.call(t, "POST", "/api/v1/quizzes", lec, map[string]any{"course_id": c.ID, "title": "Kiểm tra " + xss, "time_limit_s": 600, "max_attempts": 3, "pass_percent": 50,
		"items": []any{map[string]any{"question_id": q.ID}}}, http.StatusCreated, &quiz)
	now := time.Now().UTC()
	ts.call(t, "POST", "/api/v1/courses/"+c.ID+"/classes", tr, map[string]any{"name": "Lớp " + xss, "starts_at": now.Add(-time.Hour).Format(time.RFC3339),
		"ends_at": now.AddDate(0, 1, 0).Format(time.RFC3339), "trainer_ids": []string{trID}}, http.StatusCreated, &class)
	ts.call(t, "POST", "/api/v1/classes/"+class.ID+"/enrolments", tr, map[string]any{"user_ids": []string{lID}}, http.StatusOK, nil)
	// A javascript: stream link is refused outright.
	ts.callErr(t, "POST", "/api/v1/classes/"+class.ID+"/live-sessions", tr, map[string]any{"title": "x", "starts_at": now.Format(time.RFC3339), "stream_url": "javascript:alert(1)"}, http.StatusUnprocessableEntity, "invalid")
	ts.call(t, "POST", "/api/v1/classes/"+class.ID+"/live-sessions", tr, map[string]any{"title": "Buổi " + xss, "starts_at": now.Format(time.RFC3339)}, http.StatusCreated, &sess)
	conn := dialLive(t, ts, sess.ID, "", bearer(learner))
	writeJSON(t, conn, `{"type":"chat.send","client_id":"x1","text":%q}`, "Chat "+xss)
	if fr := readFrame(t, conn); fr.Type != "chat.message" {
		t.Fatalf("frame %+v", fr)
	}
	writeJSON(t, conn, `{"type":"question.ask","client_id":"x2","text":%q}`, "Hỏi "+xss)
	if fr := readFrame(t, conn); fr.Type != "question.asked" {
		t.Fatalf("frame %+v", fr)
	}
	conn.Close()
	ts.call(t, "PUT", "/api/v1/lessons/"+lesson.ID+"/progress", learner, map[string]any{}, http.StatusOK, nil)
	var certs struct {
		Items []struct{ ID, Number string } `json:"items"`
	}
	ts.call(t, "GET", "/api/v1/me/certificates", learner, nil, http.StatusOK, &certs)
	if len(certs.Items) != 1 {
		t.Fatalf("certificates %+v", certs)
	}
	ts.call(t, "POST", "/api/v1/quizzes/"+quiz.ID+"/attempts", learner, nil, http.StatusCreated, &attempt)
	ts.call(t, "PUT", "/api/v1/attempts/"+attempt.ID+"/answers", learner, map[string]any{"answers": map[string]any{q.ID: "a"}}, http.StatusOK, nil)
	ts.call(t, "POST", "/api/v1/targets", admin, map[string]any{"unit_id": unit.ID, "title": "Mục tiêu " + xss, "course_id": c.ID, "metric": "completed",
		"percent": 100, "due": now.AddDate(0, 6, 0).Format("2006-01-02")}, http.StatusCreated, &target)

	bq := url.QueryEscape(bank)
	pages := []struct{ token, path string }{
		{admin, "/admin/units"}, {admin, "/admin/users"}, {admin, "/admin/users/" + lID}, {admin, "/admin/users/new"},
		{admin, "/admin/audit"}, {admin, "/reports"}, {admin, "/reports/targets/" + target.ID}, {admin, "/teach/courses"}, {admin, "/teach/classes"},
		{lec, "/teach/courses/" + c.ID}, {lec, "/teach/courses/" + c.ID + "/lessons/" + lesson.ID}, {lec, "/teach/banks"},
		{lec, "/teach/bank?name=" + bq}, {lec, "/teach/questions/" + q.ID}, {lec, "/teach/quizzes/" + quiz.ID},
		{tr, "/teach/classes/" + class.ID}, {tr, "/live/" + sess.ID}, {tr, "/live/" + sess.ID + "/attendance"},
		{learner, "/"}, {learner, "/learn"}, {learner, "/learn/classes/" + class.ID}, {learner, "/learn/classes/" + class.ID + "/lessons/" + lesson.ID},
		{learner, "/learn/quizzes/" + quiz.ID}, {learner, "/learn/attempts/" + attempt.ID}, {learner, "/certificates"}, {learner, "/account"},
		{learner, "/live/" + sess.ID}, {learner, "/api/v1/certificates/" + certs.Items[0].ID + "/print"}, {"", "/verify/" + certs.Items[0].Number},
	}
	for _, p := range pages {
		req, _ := http.NewRequest("GET", ts.URL+p.path, nil)
		if p.token != "" {
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: p.token})
		}
		resp, err := ts.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(raw)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", p.path, resp.StatusCode)
			continue
		}
		if loc := rawXSS.FindStringIndex(page); loc != nil {
			t.Errorf("GET %s shows stored text unescaped: …%s…", p.path, page[max(0, loc[0]-80):min(len(page), loc[1]+40)])
		}
		if !strings.Contains(page, "alert(1)") {
			t.Errorf("GET %s shows none of the stored text, so it proves nothing", p.path)
		}
	}

	// Reflected: the payload in a path or query comes back escaped on error pages and forms,
	// and a javascript: next= is not followed.
	for _, p := range []struct{ token, path string }{
		{learner, "/learn/classes/" + url.PathEscape(xss)}, {learner, "/learn/classes/" + class.ID + "/lessons/" + url.PathEscape(xss)},
		{lec, "/teach/bank?name=" + url.QueryEscape(xss)}, {lec, "/teach/courses/" + url.PathEscape(xss)},
		{admin, "/admin/users?q=" + url.QueryEscape(xss)}, {admin, "/admin/users/" + url.PathEscape(xss)},
		{admin, "/admin/audit?actor=" + url.QueryEscape(xss) + "&since=" + url.QueryEscape(xss) + "&action=" + url.QueryEscape(xss)},
		{"", "/login?next=" + url.QueryEscape("javascript:alert(1)")}, {"", "/login?next=" + url.QueryEscape(xss)},
		{"", "/verify/" + url.PathEscape(xss)}, {"", "/no-such-page/" + url.PathEscape(xss)},
	} {
		req, _ := http.NewRequest("GET", ts.URL+p.path, nil)
		if p.token != "" {
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: p.token})
		}
		resp, err := ts.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if loc := rawXSS.FindIndex(raw); loc != nil {
			t.Errorf("GET %s (%d) reflects the payload unescaped: …%s…", p.path, resp.StatusCode, raw[max(0, loc[0]-80):min(len(raw), loc[1]+40)])
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") && !strings.HasPrefix(ct, "application/json") {
			t.Errorf("GET %s: content type %q", p.path, ct)
		}
	}
}
