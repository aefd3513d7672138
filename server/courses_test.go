package server

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"hoctap/accounts"
	"hoctap/courses"
)

// courseFixture is a province with two districts and one user of each role; the unit
// admin manages district 1, where the two learners work; the outsider works in district 2.
type courseFixture struct {
	admin, lecturer, lecturer2, trainer, trainer2, unitAdmin, learner, learner2, outsider string
	district1, district2                                                                  string
	learnerID, learner2ID, outsiderID, trainer2ID                                         string
}

func newCourseFixture(t *testing.T, ts *testServer) courseFixture {
	t.Helper()
	f := courseFixture{admin: ts.adminToken(t)}
	_, f.district1, f.district2 = unitFixture(t, ts, f.admin)
	createUser(t, ts, f.admin, "gv1", f.district1, accounts.RoleLecturer)
	createUser(t, ts, f.admin, "gv2", f.district1, accounts.RoleLecturer)
	createUser(t, ts, f.admin, "hl1", f.district1, accounts.RoleTrainer)
	f.trainer2ID = createUser(t, ts, f.admin, "hl2", f.district1, accounts.RoleTrainer).ID
	createUser(t, ts, f.admin, "tc1", f.district1, accounts.RoleUnitAdmin)
	f.learnerID = createUser(t, ts, f.admin, "hv1", f.district1, accounts.RoleLearner).ID
	f.learner2ID = createUser(t, ts, f.admin, "hv2", f.district1, accounts.RoleLearner).ID
	f.outsiderID = createUser(t, ts, f.admin, "hv3", f.district2, accounts.RoleLearner).ID
	login := func(u string) string { return ts.login(t, u, "password-123") }
	f.lecturer, f.lecturer2, f.trainer, f.trainer2 = login("gv1"), login("gv2"), login("hl1"), login("hl2")
	f.unitAdmin, f.learner, f.learner2, f.outsider = login("tc1"), login("hv1"), login("hv2"), login("hv3")
	return f
}

func TestCoursesOverHTTP(t *testing.T) {
	ts := newTestServer(t)
	f := newCourseFixture(t, ts)

	// Authoring: lecturers and admins create; others are refused; input is checked.
	body := map[string]any{"code": "LLCT-01", "title": "Lý luận chính trị cơ bản", "category": "ly_luan_chinh_tri", "description": "Khoá bồi dưỡng"}
	ts.callErr(t, "POST", "/api/v1/courses", "", body, http.StatusUnauthorized, "unauthenticated")
	ts.callErr(t, "POST", "/api/v1/courses", f.learner, body, http.StatusForbidden, "forbidden")
	ts.callErr(t, "POST", "/api/v1/courses", f.trainer, body, http.StatusForbidden, "forbidden")
	e := ts.callErr(t, "POST", "/api/v1/courses", f.lecturer, map[string]any{"code": "X", "title": "x", "category": "khac"}, http.StatusUnprocessableEntity, "invalid")
	if e.Error.Fields["category"] == "" {
		t.Fatalf("no reason for category: %+v", e)
	}
	ts.callErr(t, "POST", "/api/v1/courses", f.lecturer, `{"code":"X","title":"x","category":"ky_nang_so","owner_id":"me"}`, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "POST", "/api/v1/courses", f.lecturer, `{"code":`, http.StatusUnprocessableEntity, "invalid")
	if n := ts.count(t, courses.CollCourses); n != 0 {
		t.Fatalf("%d courses stored from refused requests", n)
	}
	var c courses.Course
	ts.call(t, "POST", "/api/v1/courses", f.lecturer, body, http.StatusCreated, &c)
	if c.Status != courses.StatusDraft || c.Code != "LLCT-01" {
		t.Fatalf("created %+v", c)
	}
	ts.callErr(t, "POST", "/api/v1/courses", f.lecturer2, body, http.StatusConflict, "conflict")
	base := "/api/v1/courses/" + c.ID
	ts.callErr(t, "POST", base+"/publish", f.lecturer, nil, http.StatusConflict, "conflict") // no lessons yet
	ts.callErr(t, "GET", base, f.learner, nil, http.StatusNotFound, "not_found")             // a draft

	var m1, m2 courses.Module
	ts.call(t, "POST", base+"/modules", f.lecturer, map[string]any{"title": "Chương 1"}, http.StatusCreated, &m1)
	ts.call(t, "POST", base+"/modules", f.lecturer, map[string]any{"title": "Chương 2"}, http.StatusCreated, &m2)
	ts.callErr(t, "POST", base+"/modules", f.lecturer2, map[string]any{"title": "x"}, http.StatusNotFound, "not_found")
	var video, pdf, text courses.Lesson
	mp4 := uploadFile(t, ts, f.lecturer, "bai-giang.mp4", "video/mp4", 1<<20, func() io.Reader { return fakeMP4(1 << 20) })
	doc := []byte("%PDF-1.4\n% Tài liệu\n")
	pdfFile := uploadFile(t, ts, f.lecturer, "tai-lieu.pdf", "application/pdf", int64(len(doc)), func() io.Reader { return bytes.NewReader(doc) })
	otherMP4 := uploadFile(t, ts, f.lecturer2, "khac.mp4", "video/mp4", 1<<10, func() io.Reader { return fakeMP4(1 << 10) })
	for _, bad := range []map[string]any{
		{"title": "x", "kind": "video", "media_id": pdfFile.ID, "duration_s": 60},  // a PDF is no video
		{"title": "x", "kind": "pdf", "media_id": mp4.ID, "pages": 1},              // nor a video a PDF
		{"title": "x", "kind": "video", "media_id": otherMP4.ID, "duration_s": 60}, // someone else's upload
		{"title": "x", "kind": "video", "media_id": "0123456789abcdef01234567", "duration_s": 60},
	} {
		e := ts.callErr(t, "POST", base+"/modules/"+m1.ID+"/lessons", f.lecturer, bad, http.StatusUnprocessableEntity, "invalid")
		if e.Error.Fields["media_id"] == "" {
			t.Fatalf("lesson %v refused without naming media_id: %+v", bad, e)
		}
	}
	ts.call(t, "POST", base+"/modules/"+m1.ID+"/lessons", f.lecturer, map[string]any{"title": "Bài giảng", "kind": "video", "media_id": mp4.ID, "duration_s": 600}, http.StatusCreated, &video)
	ts.call(t, "POST", base+"/modules/"+m1.ID+"/lessons", f.lecturer, map[string]any{"title": "Tài liệu", "kind": "pdf", "media_id": pdfFile.ID, "pages": 4}, http.StatusCreated, &pdf)
	ts.call(t, "POST", base+"/modules/"+m2.ID+"/lessons", f.lecturer, map[string]any{"title": "Đọc thêm", "kind": "text", "body": "Nội dung"}, http.StatusCreated, &text)
	ts.callErr(t, "POST", base+"/modules/"+m1.ID+"/lessons", f.lecturer, map[string]any{"title": "x", "kind": "video", "media_id": "m"}, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "POST", base+"/modules/nope/lessons", f.lecturer, map[string]any{"title": "x", "kind": "text", "body": "x"}, http.StatusNotFound, "not_found")

	// Ordering: move the text lesson first, then the second module first, then back.
	var v courses.CourseView
	ts.call(t, "POST", base+"/lessons/"+text.ID+"/move", f.lecturer, map[string]any{"module_id": m1.ID, "position": 0}, http.StatusOK, &v)
	if v.Modules[0].Lessons[0].ID != text.ID || len(v.Modules[1].Lessons) != 0 {
		t.Fatalf("after lesson move %+v", v.Modules)
	}
	ts.call(t, "POST", base+"/lessons/"+text.ID+"/move", f.lecturer, map[string]any{"module_id": m2.ID, "position": 0}, http.StatusOK, &v)
	ts.call(t, "POST", base+"/modules/"+m2.ID+"/move", f.lecturer, map[string]any{"position": 0}, http.StatusOK, &v)
	if v.Modules[0].ID != m2.ID {
		t.Fatalf("after module move %+v", v.Modules)
	}
	ts.call(t, "POST", base+"/modules/"+m2.ID+"/move", f.lecturer, map[string]any{"position": 1}, http.StatusOK, &v)
	ts.callErr(t, "POST", base+"/modules/"+m2.ID+"/move", f.lecturer, map[string]any{"position": 5}, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "POST", base+"/modules/"+m2.ID+"/move", f.lecturer, map[string]any{}, http.StatusUnprocessableEntity, "invalid")
	var renamed courses.Module
	ts.call(t, "PATCH", base+"/modules/"+m2.ID, f.lecturer, map[string]any{"title": "Phần đọc thêm"}, http.StatusOK, &renamed)
	var extra courses.Lesson
	ts.call(t, "POST", base+"/modules/"+m2.ID+"/lessons", f.lecturer, map[string]any{"title": "Tạm", "kind": "text", "body": "x"}, http.StatusCreated, &extra)
	ts.call(t, "PATCH", base+"/lessons/"+extra.ID, f.lecturer, map[string]any{"title": "Tạm thời"}, http.StatusOK, &extra)
	ts.call(t, "DELETE", base+"/lessons/"+extra.ID, f.lecturer, nil, http.StatusNoContent, nil)
	ts.callErr(t, "DELETE", base+"/lessons/"+extra.ID, f.lecturer, nil, http.StatusNotFound, "not_found")

	var pub courses.Course
	ts.call(t, "POST", base+"/publish", f.lecturer, nil, http.StatusOK, &pub)
	if pub.Status != courses.StatusPublished || pub.Revision != 1 {
		t.Fatalf("published %+v", pub)
	}
	ts.callErr(t, "PATCH", base, f.lecturer2, map[string]any{"title": "x"}, http.StatusForbidden, "forbidden")
	ts.call(t, "GET", base, f.learner, nil, http.StatusOK, &v)
	if v.Editable || len(v.Modules) != 2 || len(v.Modules[0].Lessons) != 2 {
		t.Fatalf("learner's view %+v", v)
	}

	// Catalog: diacritics ignored.
	var cat struct {
		Items []courses.CourseSummary `json:"items"`
		Total int                     `json:"total"`
	}
	ts.call(t, "GET", "/api/v1/courses?q=ly%20luan%20chinh%20tri&category=ly_luan_chinh_tri", f.learner, nil, http.StatusOK, &cat)
	if cat.Total != 1 || cat.Items[0].ID != c.ID {
		t.Fatalf("catalog %+v", cat)
	}
	ts.callErr(t, "GET", "/api/v1/courses?limit=0", f.learner, nil, http.StatusUnprocessableEntity, "invalid")
	var cats struct{ Total int }
	ts.call(t, "GET", "/api/v1/course-categories", f.learner, nil, http.StatusOK, &cats)
	if cats.Total != 6 {
		t.Fatalf("%d categories", cats.Total)
	}

	// Classes and enrolment.
	classBody := map[string]any{"name": "Lớp K1", "starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-06-01T00:00:00Z", "capacity": 100}
	ts.callErr(t, "POST", base+"/classes", f.learner, classBody, http.StatusForbidden, "forbidden")
	ts.callErr(t, "POST", base+"/classes", f.trainer, map[string]any{"name": "x", "starts_at": "yesterday"}, http.StatusUnprocessableEntity, "invalid")
	var cl courses.Class
	ts.call(t, "POST", base+"/classes", f.trainer, classBody, http.StatusCreated, &cl)
	cls := "/api/v1/classes/" + cl.ID
	ts.callErr(t, "POST", cls+"/enrolments", f.learner, map[string]any{"user_ids": []string{f.learnerID}}, http.StatusNotFound, "not_found")
	ts.callErr(t, "POST", cls+"/enrolments", f.trainer2, map[string]any{"user_ids": []string{f.learnerID}}, http.StatusForbidden, "forbidden")
	ts.callErr(t, "POST", cls+"/enrolments", f.unitAdmin, map[string]any{"unit_id": f.district2}, http.StatusForbidden, "forbidden")
	ts.callErr(t, "POST", cls+"/enrolments", f.unitAdmin, map[string]any{"unit_id": f.district1, "user_ids": []string{f.learnerID}}, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "POST", cls+"/enrolments", f.unitAdmin, map[string]any{}, http.StatusUnprocessableEntity, "invalid")
	if n := ts.count(t, courses.CollEnrolments); n != 0 {
		t.Fatalf("%d enrolments from refused requests", n)
	}
	var res courses.EnrolResult
	ts.call(t, "POST", cls+"/enrolments", f.unitAdmin, map[string]any{"unit_id": f.district1, "include_subunits": true}, http.StatusOK, &res)
	// District 1 holds gv1, gv2, hl1, hl2, tc1, hv1 and hv2.
	if res.Enrolled != 7 || res.Already != 0 {
		t.Fatalf("unit enrolment %+v", res)
	}
	ts.call(t, "POST", cls+"/enrolments", f.trainer, map[string]any{"user_ids": []string{f.learnerID, f.outsiderID}}, http.StatusOK, &res)
	if res.Enrolled != 1 || res.Already != 1 {
		t.Fatalf("second enrolment %+v", res)
	}
	var got courses.Class
	ts.call(t, "GET", cls, f.learner, nil, http.StatusOK, &got)
	// Enrolled learners and the class's trainer may fetch the lesson's video; others may not.
	ts.call(t, "GET", "/api/v1/media/"+mp4.ID, f.learner, nil, http.StatusOK, nil)
	ts.call(t, "GET", "/api/v1/media/"+mp4.ID, f.trainer, nil, http.StatusOK, nil)
	// (The unit enrolment above took everyone in district 1, staff included.)
	createUser(t, ts, f.admin, "hv9", f.district2, accounts.RoleLearner, accounts.RoleTrainer)
	ts.callErr(t, "GET", "/api/v1/media/"+mp4.ID, ts.login(t, "hv9", "password-123"), nil, http.StatusNotFound, "not_found")
	if got.Enrolled != 8 {
		t.Fatalf("class %+v", got)
	}
	var classes struct{ Total int }
	ts.call(t, "GET", "/api/v1/classes?course_id="+c.ID, f.trainer, nil, http.StatusOK, &classes)
	if classes.Total != 1 {
		t.Fatalf("trainer's classes %+v", classes)
	}

	// Progress.
	var lr courses.LessonResult
	ts.call(t, "PUT", "/api/v1/lessons/"+text.ID+"/progress", f.learner, map[string]any{}, http.StatusOK, &lr)
	if !lr.Completed || lr.Percent != 100 {
		t.Fatalf("text lesson %+v", lr)
	}
	ts.call(t, "PUT", "/api/v1/lessons/"+pdf.ID+"/progress", f.learner, map[string]any{"pages_viewed": []int{1, 2}}, http.StatusOK, &lr)
	if lr.Completed || lr.Percent != 50 {
		t.Fatalf("pdf lesson %+v", lr)
	}
	ts.call(t, "PUT", "/api/v1/lessons/"+video.ID+"/progress", f.learner, map[string]any{"position_s": 10, "watched": [][]float64{{0, 10}}}, http.StatusOK, &lr)
	for _, bad := range []string{
		`{"watched":[[1,2,3]]}`, `{"watched":[[-1,5]]}`, `{"watched":[[50,40]]}`, `{"watched":[[0,700]]}`,
		`{"watched":[[0,590]]}`, `{"pages_viewed":[1]}`, `{"position_s":"ten"}`, `{"speed":2}`,
	} {
		ts.callErr(t, "PUT", "/api/v1/lessons/"+video.ID+"/progress", f.learner, bad, http.StatusUnprocessableEntity, "invalid")
	}
	ts.callErr(t, "PUT", "/api/v1/lessons/"+pdf.ID+"/progress", f.learner, map[string]any{"pages_viewed": []int{9}}, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "PUT", "/api/v1/lessons/"+text.ID+"/progress", f.outsider+"x" /* a forged token */, map[string]any{}, http.StatusUnauthorized, "unauthenticated")
	ts.callErr(t, "PUT", "/api/v1/lessons/"+text.ID+"/progress", f.learner2, map[string]any{"pages_viewed": []int{1}}, http.StatusUnprocessableEntity, "invalid")
	// An enrolled learner with no progress of their own sees zero; one outside the class
	// gets 404.
	var cp courses.ClassProgress
	ts.call(t, "GET", cls+"/progress/me", f.learner, nil, http.StatusOK, &cp)
	if cp.Percent != 33 || len(cp.Lessons) != 3 || cp.Lessons[0].Percent != 1 || !cp.Lessons[2].Completed {
		t.Fatalf("progress %+v", cp)
	}
	ts.call(t, "GET", cls+"/progress/me", f.learner2, nil, http.StatusOK, &cp)
	if cp.Percent != 0 {
		t.Fatalf("learner2 sees %+v", cp)
	}
	createUser(t, ts, f.admin, "hv4", f.district2, accounts.RoleLearner)
	lonerToken := ts.login(t, "hv4", "password-123")
	ts.callErr(t, "GET", cls+"/progress/me", lonerToken, nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "GET", cls, lonerToken, nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "PUT", "/api/v1/lessons/"+text.ID+"/progress", lonerToken, map[string]any{}, http.StatusNotFound, "not_found")

	var mine struct {
		Items []courses.Enrolment `json:"items"`
		Total int                 `json:"total"`
	}
	ts.call(t, "GET", "/api/v1/me/enrolments", f.learner, nil, http.StatusOK, &mine)
	if mine.Total != 1 || mine.Items[0].Progress.CompletedLessons != 1 || mine.Items[0].Progress.Percent != 33 || mine.Items[0].CourseTitle != c.Title {
		t.Fatalf("my enrolments %+v", mine)
	}
	var list struct {
		Items []courses.Enrolment `json:"items"`
		Total int                 `json:"total"`
	}
	ts.call(t, "GET", cls+"/enrolments?limit=5", f.trainer, nil, http.StatusOK, &list)
	if list.Total != 8 || len(list.Items) != 5 {
		t.Fatalf("class list %d/%d", len(list.Items), list.Total)
	}
	ts.call(t, "GET", cls+"/enrolments", f.unitAdmin, nil, http.StatusOK, &list)
	if list.Total != 7 { // not the outsider from district 2
		t.Fatalf("unit admin's class list %d", list.Total)
	}
	ts.callErr(t, "GET", cls+"/enrolments", f.learner, nil, http.StatusForbidden, "forbidden")

	// A new revision; the class moves only on purpose.
	ts.call(t, "DELETE", base+"/lessons/"+pdf.ID, f.lecturer, nil, http.StatusNoContent, nil)
	ts.call(t, "POST", base+"/publish", f.lecturer, nil, http.StatusOK, &pub)
	if pub.Revision != 2 {
		t.Fatalf("revision %d", pub.Revision)
	}
	var rev courses.Revision
	ts.call(t, "GET", base+"/revisions/1", f.learner, nil, http.StatusOK, &rev) // their class's revision
	if len(rev.Lessons()) != 3 {
		t.Fatalf("revision 1 %+v", rev)
	}
	ts.callErr(t, "GET", base+"/revisions/x", f.learner, nil, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "POST", cls+"/revision", f.unitAdmin, map[string]any{"revision": 2}, http.StatusForbidden, "forbidden")
	ts.callErr(t, "POST", cls+"/revision", f.trainer, map[string]any{"revision": 9}, http.StatusUnprocessableEntity, "invalid")
	ts.call(t, "POST", cls+"/revision", f.trainer, map[string]any{"revision": 2}, http.StatusOK, &got)
	ts.call(t, "GET", "/api/v1/me/enrolments", f.learner, nil, http.StatusOK, &mine)
	if p := mine.Items[0].Progress; p.TotalLessons != 2 || p.CompletedLessons != 1 || p.Percent != 50 {
		t.Fatalf("after the move %+v", p)
	}
	ts.callErr(t, "PUT", "/api/v1/lessons/"+pdf.ID+"/progress", f.learner, map[string]any{"pages_viewed": []int{3}}, http.StatusUnprocessableEntity, "invalid")

	// Archive hides the course from learners; publish restores it.
	ts.call(t, "POST", base+"/archive", f.lecturer, nil, http.StatusOK, &pub)
	ts.callErr(t, "GET", base, f.learner, nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "POST", base+"/classes", f.trainer, classBody, http.StatusConflict, "conflict")
	ts.call(t, "POST", base+"/publish", f.lecturer, nil, http.StatusOK, &pub)
	ts.call(t, "GET", base, f.learner, nil, http.StatusOK, &v)
	ts.call(t, "DELETE", base+"/modules/"+m1.ID, f.admin, nil, http.StatusNoContent, nil)
}
