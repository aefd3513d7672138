package server

import (
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"hoctap/accounts"
	"hoctap/assessment"
	"hoctap/audit"
)

type auditPage struct {
	Items []audit.Entry `json:"items"`
	Total int           `json:"total"`
}

func TestAuditLogThroughTheAPI(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.adminToken(t)
	var me struct {
		ID string `json:"id"`
	}
	ts.call(t, "GET", "/api/v1/me", admin, nil, http.StatusOK, &me)

	// Two sibling units; a unit admin of the first.
	var prov, d1, d2 accounts.Unit
	ts.call(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Tỉnh Hà Giang", "code": "AU-HG"}, http.StatusCreated, &prov)
	ts.call(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Huyện Đồng Văn", "code": "AU-DV", "parent_id": prov.ID}, http.StatusCreated, &d1)
	ts.call(t, "POST", "/api/v1/units", admin, map[string]any{"name": "Huyện Mèo Vạc", "code": "AU-MV", "parent_id": prov.ID}, http.StatusCreated, &d2)
	mkUser := func(token, username, unitID string, roles ...string) accounts.User {
		t.Helper()
		var u accounts.User
		ts.call(t, "POST", "/api/v1/users", token, map[string]any{"username": username, "password": "password-123", "full_name": "Người " + username,
			"unit_id": unitID, "roles": roles}, http.StatusCreated, &u)
		return u
	}
	officer := mkUser(admin, "au_officer", d1.ID, "unit_admin")
	mkUser(admin, "au_lan", d2.ID)
	ua := ts.login(t, "au_officer", "password-123")
	hung := mkUser(ua, "au_hung", d1.ID) // by the unit admin, in their unit
	ts.call(t, "PATCH", "/api/v1/users/"+hung.ID, admin, map[string]any{"roles": []string{"learner", "trainer"}}, http.StatusOK, nil)

	list := func(token, query string) auditPage {
		t.Helper()
		var p auditPage
		ts.call(t, "GET", "/api/v1/audit"+query, token, nil, http.StatusOK, &p)
		return p
	}

	// The admin's actions are there, with who, what and on what; newest first.
	all := list(admin, "")
	if all.Total != 7 || len(all.Items) != 7 || all.Items[0].Action != "user.role_change" || all.Items[6].Action != "unit.create" {
		t.Fatalf("the admin reads %+v", all)
	}
	created := list(admin, "?action=user.create&actor=admin")
	if created.Total != 2 {
		t.Fatalf("users created by admin: %+v", created)
	}
	e := created.Items[1]
	if e.Actor != me.ID || e.ActorName != "admin" || e.Object != "user:"+officer.ID || e.ObjectLabel != "au_officer" ||
		e.Details["roles"] != "unit_admin" || e.Details["unit"] != "AU-DV" || e.At.IsZero() {
		t.Errorf("the entry of the officer's creation = %+v", e)
	}
	if p := list(admin, "?actor="+url.QueryEscape(officer.ID)); p.Total != 1 || p.Items[0].Object != "user:"+hung.ID {
		t.Errorf("by the officer's id: %+v", p)
	}
	if p := list(admin, "?action=unit.create&limit=2&offset=1"); p.Total != 3 || len(p.Items) != 2 || p.Items[1].ObjectLabel != "AU-HG" {
		t.Errorf("a page of unit creations: %+v", p)
	}
	at := all.Items[3].At.UTC().Format("2006-01-02T15:04:05.000Z")
	if p := list(admin, "?until="+url.QueryEscape(at)); p.Total < 4 {
		t.Errorf("until the fourth newest: %+v", p)
	}
	if p := list(admin, "?since=2000-01-01&until=01/01/2001"); p.Total != 0 {
		t.Errorf("an old range: %+v", p)
	}

	// The unit admin of d1 reads what touches d1 (below the province): the officer's own
	// creation, Hùng's creation and role change; not d2's user nor the units' creation
	// above them, except d1's own.
	mine := list(ua, "")
	var acts []string
	for _, e := range mine.Items {
		acts = append(acts, string(e.Action)+" "+e.ObjectLabel)
	}
	if strings.Join(acts, "|") != "user.role_change au_hung|user.create au_hung|user.create au_officer|unit.create AU-DV" {
		t.Errorf("the unit admin reads %q", acts)
	}

	// Learners, lecturers and trainers may not read it; anonymous callers are not signed in.
	lecturer := mkUser(admin, "au_lect", d1.ID, "lecturer")
	_ = lecturer
	for _, who := range []string{"au_lan", "au_lect", "au_hung"} {
		tok := ts.login(t, who, "password-123")
		ts.callErr(t, "GET", "/api/v1/audit", tok, nil, http.StatusForbidden, "forbidden")
		ts.callErr(t, "GET", "/api/v1/audit?format=csv", tok, nil, http.StatusForbidden, "forbidden")
	}
	ts.callErr(t, "GET", "/api/v1/audit", "", nil, http.StatusUnauthorized, "unauthenticated")

	// Bad filters are refused with the field named, and change nothing.
	before := ts.count(t, audit.Collection)
	for _, q := range []string{"?since=2025-03-02&until=2025-03-01", "?since=yesterday", "?until=31-12-2025", "?action=user.delete",
		"?limit=0", "?format=xml", "?since=2025-03-02&until=2025-03-01&format=csv"} {
		e := ts.callErr(t, "GET", "/api/v1/audit"+q, admin, nil, http.StatusUnprocessableEntity, "invalid")
		if len(e.Error.Fields) == 0 {
			t.Errorf("%s: no field named: %+v", q, e)
		}
	}
	if after := ts.count(t, audit.Collection); after != before {
		t.Errorf("refused queries changed the log: %d entries, then %d", before, after)
	}

	// CSV: a byte order mark, the header, one row per entry the caller may read.
	resp := ts.do(t, "GET", "/api/v1/audit?format=csv&actor=admin", admin, nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV answer %d %v", resp.StatusCode, resp.Header)
	}
	if !strings.HasPrefix(string(raw), audit.BOM) {
		t.Fatalf("no byte order mark: %q", raw[:min(len(raw), 20)])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), audit.BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	byAdmin := list(admin, "?actor=admin&limit=500")
	if len(rows) != 1+byAdmin.Total || strings.Join(rows[0], ",") != strings.Join(audit.CSVHeader, ",") {
		t.Fatalf("CSV rows %q, want header and %d", rows, byAdmin.Total)
	}
	if rows[1][1] != me.ID || rows[1][2] != "admin" || rows[1][3] != string(byAdmin.Items[0].Action) {
		t.Errorf("first CSV row %q", rows[1])
	}
}

// Grading, accommodations, enrolment and the certificate a completion issues all reach
// the audit log through the wired services.
func TestAuditRecordsTeachingActions(t *testing.T) {
	f := newAssessmentFixture(t)
	ts := f.ts
	var essay assessment.Question
	ts.call(t, "POST", "/api/v1/questions", f.lecturer, map[string]any{"bank": "B", "type": "essay", "text": "Trình bày.", "points": 5}, http.StatusCreated, &essay)
	var quiz assessment.Quiz
	ts.call(t, "POST", "/api/v1/quizzes", f.lecturer, map[string]any{"course_id": f.course.ID, "title": "Tự luận",
		"items": []any{map[string]any{"question_id": essay.ID}}}, http.StatusCreated, &quiz)
	var a assessment.AttemptView
	ts.call(t, "POST", "/api/v1/quizzes/"+quiz.ID+"/attempts", f.learner2, nil, http.StatusCreated, &a)
	ts.call(t, "PUT", "/api/v1/attempts/"+a.ID+"/answers", f.learner2, map[string]any{"answers": map[string]any{essay.ID: "Bài làm."}}, http.StatusOK, nil)
	ts.call(t, "POST", "/api/v1/attempts/"+a.ID+"/submit", f.learner2, nil, http.StatusOK, nil)
	ts.call(t, "PUT", "/api/v1/attempts/"+a.ID+"/grades/"+essay.ID, f.trainer, map[string]any{"score": 4, "comment": "Tốt"}, http.StatusOK, nil)
	learner1 := mustUserID(t, ts, f.learner1)
	ts.call(t, "PUT", "/api/v1/quizzes/"+quiz.ID+"/accommodations/"+learner1, f.trainer, map[string]any{"extra_time_s": 300, "extra_attempts": 1}, http.StatusOK, nil)
	lesson := f.course.Modules[0].Lessons[0].ID
	ts.call(t, "PUT", "/api/v1/lessons/"+lesson+"/progress", f.learner1, map[string]any{}, http.StatusOK, nil)

	trainer := mustUserID(t, ts, f.trainer)
	one := func(action, actor string) audit.Entry {
		t.Helper()
		var p auditPage
		ts.call(t, "GET", "/api/v1/audit?action="+action, f.admin, nil, http.StatusOK, &p)
		if p.Total != 1 || p.Items[0].Actor != actor {
			t.Fatalf("%s entries: %+v", action, p)
		}
		return p.Items[0]
	}
	if e := one("grade.essay", trainer); e.Object != "attempt:"+a.ID || e.Details["score"] != "4" {
		t.Errorf("grade entry %+v", e)
	}
	if e := one("accommodation.set", trainer); e.Details["user_id"] != learner1 || e.Details["extra_time_s"] != "300" {
		t.Errorf("accommodation entry %+v", e)
	}
	if e := one("enrolment.create", mustUserID(t, ts, f.admin)); e.Details["enrolled"] != "2" {
		t.Errorf("enrolment entry %+v", e)
	}
	deadline := time.Now().Add(10 * time.Second) // the certificate follows the completion
	for {
		var p auditPage
		ts.call(t, "GET", "/api/v1/audit?action=certificate.issue", f.admin, nil, http.StatusOK, &p)
		if p.Total == 1 {
			if e := p.Items[0]; e.Actor != "system" || e.Details["user_id"] != learner1 || !strings.HasPrefix(e.ObjectLabel, "HT-") {
				t.Errorf("certificate entry %+v", e)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no certificate.issue entry after the learner completed the class: %+v", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
