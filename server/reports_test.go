package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hoctap/accounts"
	"hoctap/courses"
	"hoctap/reports"
)

// reportsFixture is a province with two districts, an officer of the first, a learner in
// each, and a published one-lesson course whose class both learners take; the first
// learner completes it.
type reportsFixture struct {
	ts                 *testServer
	admin, officer     string // tokens
	learner1, learner2 string
	trainer            string
	province, d1, d2   string
	l1, l2             accounts.User
	course             courses.Course
	class              courses.Class
}

func newReportsFixture(t *testing.T) *reportsFixture {
	t.Helper()
	ts := newTestServer(t)
	f := &reportsFixture{ts: ts, admin: ts.adminToken(t)}
	f.province, f.d1, f.d2 = unitFixture(t, ts, f.admin)
	createUser(t, ts, f.admin, "tochuc1", f.d1, accounts.RoleUnitAdmin)
	tr := createUser(t, ts, f.admin, "giangvien1", f.d2, accounts.RoleTrainer)
	f.trainer = ts.login(t, "giangvien1", "password-123")
	f.l1 = createUser(t, ts, f.admin, "hocvien1", f.d1)
	f.l2 = createUser(t, ts, f.admin, "hocvien2", f.d2)
	f.officer = ts.login(t, "tochuc1", "password-123")
	f.learner1 = ts.login(t, "hocvien1", "password-123")
	f.learner2 = ts.login(t, "hocvien2", "password-123")

	// Courses has no HTTP routes yet: make the course through its service.
	ctx := context.Background()
	admin, err := ts.svc.Accounts.Authenticate(ctx, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	crs := ts.svc.Courses
	c, err := crs.CreateCourse(ctx, admin, courses.CourseInput{Code: "DVC-01", Title: "Dịch vụ công trực tuyến", Category: courses.CategoryDigitalSkills})
	if err != nil {
		t.Fatal(err)
	}
	m, err := crs.AddModule(ctx, admin, c.ID, courses.ModuleInput{Title: "Phần 1"})
	if err != nil {
		t.Fatal(err)
	}
	lesson, err := crs.AddLesson(ctx, admin, c.ID, m.ID, courses.LessonInput{Title: "Giới thiệu", Kind: courses.KindText, Body: "Nội dung"})
	if err != nil {
		t.Fatal(err)
	}
	if f.course, err = crs.PublishCourse(ctx, admin, c.ID); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if f.class, err = crs.CreateClass(ctx, admin, c.ID, courses.ClassInput{Name: "Lớp DVC 1", StartsAt: now.Add(-time.Hour), EndsAt: now.AddDate(0, 1, 0), TrainerIDs: []string{tr.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := crs.EnrolUsers(ctx, admin, f.class.ID, []string{f.l1.ID, f.l2.ID}); err != nil {
		t.Fatal(err)
	}
	p1, err := ts.svc.Accounts.Authenticate(ctx, f.learner1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := crs.RecordProgress(ctx, p1, lesson.ID, courses.Heartbeat{})
	if err != nil || !res.Completed {
		t.Fatalf("completing the lesson: %+v %v", res, err)
	}
	return f
}

func openXLSX(t *testing.T, resp *http.Response) *excelize.File {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != reports.XLSXContentType {
		t.Fatalf("status %d, type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	x, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

func TestTargetsOverHTTP(t *testing.T) {
	f := newReportsFixture(t)
	ts := f.ts
	body := map[string]any{"unit_id": f.province, "title": "100% CBCC dùng DVC", "course_id": f.course.ID,
		"metric": "completed", "percent": 100, "due": time.Now().AddDate(0, 6, 0).Format("2006-01-02")}

	// Bad input and wrong callers change nothing.
	ts.callErr(t, "POST", "/api/v1/targets", f.admin, `{"unit_id":`, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "POST", "/api/v1/targets", f.admin, map[string]any{"unit_id": f.province, "percent": "all"}, http.StatusUnprocessableEntity, "invalid")
	bad := map[string]any{}
	for k, v := range body {
		bad[k] = v
	}
	bad["percent"] = 120
	e := ts.callErr(t, "POST", "/api/v1/targets", f.admin, bad, http.StatusUnprocessableEntity, "invalid")
	if e.Error.Fields["percent"] == "" {
		t.Fatalf("no field reason: %+v", e)
	}
	ts.callErr(t, "POST", "/api/v1/targets", f.learner1, body, http.StatusForbidden, "forbidden")
	ts.callErr(t, "POST", "/api/v1/targets", f.officer, body, http.StatusForbidden, "forbidden") // the province is above them
	ts.callErr(t, "POST", "/api/v1/targets", "", body, http.StatusUnauthorized, "unauthenticated")
	if n := ts.count(t, reports.CollTargets); n != 0 {
		t.Fatalf("%d targets stored by refused requests", n)
	}

	var tg reports.Target
	ts.call(t, "POST", "/api/v1/targets", f.admin, body, http.StatusCreated, &tg)
	var st reports.TargetStatus
	ts.call(t, "GET", "/api/v1/targets/"+tg.ID+"/status", f.admin, nil, http.StatusOK, &st)
	// Counted: every active user under the province: officer, trainer, two learners (the
	// admin has no unit).
	if st.Unit.ID != f.province || st.Staff != 4 || st.Done != 1 || len(st.Children) != 2 || st.Target.ID != tg.ID {
		t.Fatalf("status %+v", st)
	}
	ts.call(t, "GET", "/api/v1/targets/"+tg.ID+"/status", f.officer, nil, http.StatusOK, &st)
	if st.Unit.ID != f.d1 || st.Staff != 2 || st.Done != 1 || st.Percent != 50 {
		t.Fatalf("officer's status %+v", st)
	}
	ts.callErr(t, "GET", "/api/v1/targets/"+tg.ID+"/status?unit_id="+f.d2, f.officer, nil, http.StatusNotFound, "not_found")
	// A move through the API shows at once: learner 1 (done) goes to district 2.
	ts.call(t, "PATCH", "/api/v1/users/"+f.l1.ID, f.admin, map[string]any{"unit_id": f.d2}, http.StatusOK, nil)
	ts.call(t, "GET", "/api/v1/targets/"+tg.ID+"/status", f.officer, nil, http.StatusOK, &st)
	if st.Staff != 1 || st.Done != 0 {
		t.Fatalf("officer's status after the move %+v", st.StatusNode)
	}
	ts.call(t, "PATCH", "/api/v1/users/"+f.l1.ID, f.admin, map[string]any{"unit_id": f.d1}, http.StatusOK, nil)
	ts.callErr(t, "GET", "/api/v1/targets/"+tg.ID+"/status?depth=x", f.admin, nil, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "GET", "/api/v1/targets/"+tg.ID+"/status", f.learner1, nil, http.StatusForbidden, "forbidden")
	ts.callErr(t, "GET", "/api/v1/targets/nope/status", f.admin, nil, http.StatusNotFound, "not_found")

	var pend struct {
		Items []reports.Person `json:"items"`
		Total int              `json:"total"`
	}
	ts.call(t, "GET", "/api/v1/targets/"+tg.ID+"/pending?unit_id="+f.d2, f.admin, nil, http.StatusOK, &pend)
	if pend.Total != 2 || (pend.Items[0].UserID != f.l2.ID && pend.Items[1].UserID != f.l2.ID) {
		t.Fatalf("pending %+v", pend)
	}
	var lst struct{ Total int }
	ts.call(t, "GET", "/api/v1/targets?unit_id="+f.d1, f.officer, nil, http.StatusOK, &lst)
	if lst.Total != 1 {
		t.Fatalf("officer lists %d", lst.Total)
	}
	var dash reports.Dashboard
	ts.call(t, "GET", "/api/v1/reports/units/"+f.d1+"/dashboard", f.officer, nil, http.StatusOK, &dash)
	if len(dash.Targets) != 1 || dash.Targets[0].Status.Done != 1 {
		t.Fatalf("dashboard %+v", dash)
	}

	resp := ts.do(t, "GET", "/api/v1/targets/"+tg.ID+"/chart.svg?kind=donut", f.admin, nil)
	svg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/svg+xml") || !bytes.Contains(svg, []byte("25,0%")) {
		t.Fatalf("chart %d %q: %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), svg)
	}
	ts.callErr(t, "GET", "/api/v1/targets/"+tg.ID+"/chart.svg?kind=pie", f.admin, nil, http.StatusUnprocessableEntity, "invalid")

	x := openXLSX(t, ts.do(t, "GET", "/api/v1/reports/targets/"+tg.ID+".xlsx", f.admin, nil))
	rows, _ := x.GetRows("Chỉ tiêu")
	if len(rows) != 4 || rows[1][0] != "Tỉnh Hà Giang" || rows[1][3] != "4" || rows[1][4] != "1" || rows[1][6] != "25.0%" {
		t.Fatalf("target sheet %q", rows)
	}

	ts.call(t, "DELETE", "/api/v1/targets/"+tg.ID, f.officer, nil, http.StatusForbidden, nil)
	ts.call(t, "DELETE", "/api/v1/targets/"+tg.ID, f.admin, nil, http.StatusNoContent, nil)
	ts.callErr(t, "GET", "/api/v1/targets/"+tg.ID, f.admin, nil, http.StatusNotFound, "not_found")
}

func TestClassExportPlansAndCertificatesOverHTTP(t *testing.T) {
	f := newReportsFixture(t)
	ts := f.ts

	// Class export: the admin sees both learners, the district officer only theirs.
	x := openXLSX(t, ts.do(t, "GET", "/api/v1/reports/classes/"+f.class.ID+".xlsx", f.admin, nil))
	rows, _ := x.GetRows("Học viên")
	if len(rows) != 3 || rows[0][1] != "Họ và tên" {
		t.Fatalf("class sheet %q", rows)
	}
	x = openXLSX(t, ts.do(t, "GET", "/api/v1/reports/classes/"+f.class.ID+".xlsx", f.officer, nil))
	rows, _ = x.GetRows("Học viên")
	if len(rows) != 2 || rows[1][1] != f.l1.FullName || rows[1][5] != "100.0%" || rows[1][6] != "Có" {
		t.Fatalf("officer's class sheet %q", rows)
	}
	ts.callErr(t, "GET", "/api/v1/reports/classes/"+f.class.ID+".xlsx", f.learner1, nil, http.StatusForbidden, "forbidden")
	ts.callErr(t, "GET", "/api/v1/reports/classes/nope.xlsx", f.admin, nil, http.StatusNotFound, "not_found")
	// Attendance: learner 1 joins a live session over the websocket.
	var sess struct{ ID string }
	ts.call(t, "POST", "/api/v1/classes/"+f.class.ID+"/live-sessions", f.trainer,
		map[string]any{"title": "Buổi 1", "starts_at": time.Now().UTC().Format(time.RFC3339)}, http.StatusCreated, &sess)
	conn := dialLive(t, ts, sess.ID, "", bearer(f.learner1))
	writeJSON(t, conn, `{"type":"chat.send","client_id":"c1","text":"Xin chào"}`)
	if fr := readFrame(t, conn); fr.Type != "chat.message" {
		t.Fatalf("frame %+v", fr)
	}
	x = openXLSX(t, ts.do(t, "GET", "/api/v1/reports/classes/"+f.class.ID+"/attendance.xlsx", f.trainer, nil))
	rows, _ = x.GetRows("Điểm danh")
	if len(rows) != 3 || rows[1][1] != "Buổi 1" || rows[1][3] != f.l1.FullName || rows[1][5] == "" || rows[2][3] != f.l2.FullName || rows[2][5] != "" {
		t.Fatalf("attendance sheet %q", rows)
	}
	conn.Close()

	// Plans.
	year := time.Now().In(time.FixedZone("ICT", 7*3600)).Year()
	var plan reports.Plan
	ts.callErr(t, "POST", "/api/v1/plans", f.officer, map[string]any{"unit_id": f.d1, "year": year, "title": "KH", "items": []any{}}, http.StatusUnprocessableEntity, "invalid")
	ts.call(t, "POST", "/api/v1/plans", f.officer, map[string]any{"unit_id": f.d1, "year": year, "title": "Kế hoạch huyện",
		"items": []map[string]any{{"course_id": f.course.ID, "planned": 2}}}, http.StatusCreated, &plan)
	ts.callErr(t, "POST", "/api/v1/plans", f.officer, map[string]any{"unit_id": f.d1, "year": year, "title": "again",
		"items": []map[string]any{{"course_id": f.course.ID, "planned": 2}}}, http.StatusConflict, "conflict")
	var rep reports.PlanReport
	ts.call(t, "GET", "/api/v1/plans/"+plan.ID+"/report", f.officer, nil, http.StatusOK, &rep)
	if rep.Total.Planned != 2 || rep.Total.Enrolled != 1 || rep.Total.Completed != 1 || rep.Summary != "Đạt 50,0% so với kế hoạch (1/2 học viên)" {
		t.Fatalf("plan report %+v", rep)
	}
	ts.call(t, "PUT", "/api/v1/plans/"+plan.ID, f.officer, map[string]any{"title": "Kế hoạch sửa", "items": []map[string]any{{"course_id": f.course.ID, "planned": 4}}}, http.StatusOK, &plan)
	openXLSX(t, ts.do(t, "GET", "/api/v1/reports/plans/"+plan.ID+".xlsx", f.officer, nil))
	ts.callErr(t, "GET", "/api/v1/plans/"+plan.ID, f.learner1, nil, http.StatusForbidden, "forbidden")

	// Certificates: completing the class issued the learner's certificate at once.
	if n := ts.count(t, "certificates"); n != 1 {
		t.Fatalf("%d certificates after one learner completed the class, want 1", n)
	}
	var mine struct {
		Items []reports.Certificate `json:"items"`
		Total int                   `json:"total"`
	}
	ts.call(t, "GET", "/api/v1/me/certificates", f.learner2, nil, http.StatusOK, &mine)
	if mine.Total != 0 {
		t.Fatalf("learner 2 has %+v", mine)
	}
	ts.call(t, "GET", "/api/v1/me/certificates", f.learner1, nil, http.StatusOK, &mine)
	if mine.Total != 1 || !strings.HasPrefix(mine.Items[0].Number, "HT-") || mine.Items[0].CourseTitle != "Dịch vụ công trực tuyến" {
		t.Fatalf("learner 1 has %+v", mine)
	}
	cert := mine.Items[0]
	var issued struct{ Issued int }
	ts.call(t, "POST", "/api/v1/classes/"+f.class.ID+"/certificates", f.admin, nil, http.StatusOK, &issued)
	if issued.Issued != 0 {
		t.Fatalf("issued again: %d", issued.Issued)
	}

	// Public verification: no sign-in, only five fields.
	resp := ts.do(t, "GET", "/api/v1/certificates/verify/"+strings.ToLower(cert.Number), "", nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil || resp.StatusCode != 200 || len(v) != 5 || v["learner_name"] != f.l1.FullName || v["revoked"] != false {
		t.Fatalf("verify %d %s", resp.StatusCode, raw)
	}
	ts.callErr(t, "GET", "/api/v1/certificates/verify/HT-2020-999999", "", nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "GET", "/api/v1/certificates/verify/<script>", "", nil, http.StatusNotFound, "not_found")

	resp = ts.do(t, "GET", "/api/v1/certificates/"+cert.ID+".pdf", f.learner1, nil)
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("pdf %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp = ts.do(t, "GET", "/api/v1/certificates/"+cert.ID+"/print", f.officer, nil)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte(cert.Number)) {
		t.Fatalf("print %d", resp.StatusCode)
	}
	ts.callErr(t, "GET", "/api/v1/certificates/"+cert.ID, f.learner2, nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "GET", "/api/v1/certificates/"+cert.ID+".pdf", f.learner2, nil, http.StatusNotFound, "not_found")

	// Revocation.
	ts.callErr(t, "POST", "/api/v1/certificates/"+cert.ID+"/revoke", f.officer, map[string]any{"reason": ""}, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "POST", "/api/v1/certificates/"+cert.ID+"/revoke", f.learner1, map[string]any{"reason": "x"}, http.StatusForbidden, "forbidden")
	var revoked reports.Certificate
	ts.call(t, "POST", "/api/v1/certificates/"+cert.ID+"/revoke", f.officer, map[string]any{"reason": "Cấp nhầm"}, http.StatusOK, &revoked)
	if !revoked.Revoked || revoked.RevokeNote != "Cấp nhầm" {
		t.Fatalf("revoked %+v", revoked)
	}
	ts.callErr(t, "POST", "/api/v1/certificates/"+cert.ID+"/revoke", f.admin, map[string]any{"reason": "again"}, http.StatusConflict, "conflict")
	ts.call(t, "GET", "/api/v1/certificates/verify/"+cert.Number, "", nil, http.StatusOK, &v)
	if v["revoked"] != true {
		t.Fatalf("verify after revocation %v", v)
	}
	var all struct{ Total int }
	ts.call(t, "GET", "/api/v1/certificates?unit_id="+f.d1, f.officer, nil, http.StatusOK, &all)
	if all.Total != 1 {
		t.Fatalf("officer lists %d certificates", all.Total)
	}
	ts.callErr(t, "GET", "/api/v1/certificates", f.learner1, nil, http.StatusForbidden, "forbidden")
}

// reports reads the courses package's enrolments collection itself (EnrolmentReader).
func TestReportsReadsCoursesEnrolments(t *testing.T) {
	if reports.EnrolmentsCollection != courses.CollEnrolments {
		t.Fatalf("reports reads %q, courses writes %q", reports.EnrolmentsCollection, courses.CollEnrolments)
	}
}
