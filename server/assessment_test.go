package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"hoctap/accounts"
	"hoctap/assessment"
	"hoctap/courses"
)

// assessmentFixture: a lecturer, a trainer of the course's class, two enrolled learners
// and one learner who is not enrolled.
type assessmentFixture struct {
	ts                          *testServer
	admin, lecturer, trainer    string
	learner1, learner2, outside string
	course                      courses.Course
}

func newAssessmentFixture(t *testing.T) *assessmentFixture {
	t.Helper()
	ts := newTestServer(t)
	f := &assessmentFixture{ts: ts, admin: ts.adminToken(t)}
	_, unit, _ := unitFixture(t, ts, f.admin)
	createUser(t, ts, f.admin, "giangvien", unit, accounts.RoleLecturer)
	tr := createUser(t, ts, f.admin, "giangday", unit, accounts.RoleTrainer)
	l1 := createUser(t, ts, f.admin, "hocvien1", unit)
	l2 := createUser(t, ts, f.admin, "hocvien2", unit)
	createUser(t, ts, f.admin, "ngoai", unit)
	f.lecturer = ts.login(t, "giangvien", "password-123")
	f.trainer = ts.login(t, "giangday", "password-123")
	f.learner1 = ts.login(t, "hocvien1", "password-123")
	f.learner2 = ts.login(t, "hocvien2", "password-123")
	f.outside = ts.login(t, "ngoai", "password-123")

	ctx := context.Background()
	admin, err := ts.svc.Accounts.Authenticate(ctx, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	crs := ts.svc.Courses
	c, err := crs.CreateCourse(ctx, admin, courses.CourseInput{Code: "LLCT-01", Title: "Lý luận chính trị", Category: courses.CategoryDigitalSkills})
	if err != nil {
		t.Fatal(err)
	}
	m, err := crs.AddModule(ctx, admin, c.ID, courses.ModuleInput{Title: "Chương 1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crs.AddLesson(ctx, admin, c.ID, m.ID, courses.LessonInput{Title: "Bài 1", Kind: courses.KindText, Body: "Nội dung"}); err != nil {
		t.Fatal(err)
	}
	if f.course, err = crs.PublishCourse(ctx, admin, c.ID); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	class, err := crs.CreateClass(ctx, admin, c.ID, courses.ClassInput{Name: "Lớp 1", StartsAt: now.Add(-time.Hour), EndsAt: now.AddDate(0, 1, 0), TrainerIDs: []string{tr.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crs.EnrolUsers(ctx, admin, class.ID, []string{l1.ID, l2.ID}); err != nil {
		t.Fatal(err)
	}
	return f
}

func multipartBody(t *testing.T, fields map[string]string, file []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := w.CreateFormFile("file", "questions.txt")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

func (f *assessmentFixture) importFile(t *testing.T, token string, fields map[string]string, file []byte, want int) assessment.ImportResult {
	t.Helper()
	body, ctype := multipartBody(t, fields, file)
	resp := f.ts.do(t, "POST", "/api/v1/questions/import", token, body, "Content-Type", ctype)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("import: status %d, want %d: %s", resp.StatusCode, want, raw)
	}
	var res assessment.ImportResult
	_ = json.Unmarshal(raw, &res)
	return res
}

func TestAssessmentOverHTTP(t *testing.T) {
	f := newAssessmentFixture(t)
	ts := f.ts

	// Questions: roles, bad input, versions.
	single := map[string]any{"bank": "LLCT", "category": "LLCT/Chương 1", "type": "single", "text": "Chủ nghĩa Mác - Lênin gồm mấy bộ phận?",
		"choices": []map[string]any{{"id": "a", "text": "Ba", "correct": true}, {"id": "b", "text": "Hai"}}, "tags": []string{"llct"}, "points": 2}
	var q1 assessment.Question
	ts.call(t, "POST", "/api/v1/questions", f.lecturer, single, http.StatusCreated, &q1)
	ts.callErr(t, "POST", "/api/v1/questions", f.learner1, single, http.StatusForbidden, "forbidden")
	ts.callErr(t, "POST", "/api/v1/questions", "", single, http.StatusUnauthorized, "unauthenticated")
	ts.callErr(t, "POST", "/api/v1/questions", f.lecturer, `{"bank":"LLCT","type":"single","text":"x","choices":[{"text":"a"},{"text":"b"}]}`, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "POST", "/api/v1/questions", f.lecturer, `{"bank":"LLCT","type":"essay","text":"x","bogus":1}`, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "POST", "/api/v1/questions", f.lecturer, `{"bank":`, http.StatusUnprocessableEntity, "invalid")
	if n := ts.count(t, assessment.QuestionsCollection); n != 1 {
		t.Fatalf("%d questions after refused requests", n)
	}
	var tf assessment.Question
	ts.call(t, "POST", "/api/v1/questions", f.lecturer, map[string]any{"bank": "LLCT", "type": "true_false", "text": "Đảng được thành lập năm 1930.", "answers": []any{true}}, http.StatusCreated, &tf)
	var edited assessment.Question
	ts.call(t, "PUT", "/api/v1/questions/"+tf.ID, f.lecturer, map[string]any{"type": "true_false", "text": "Đảng Cộng sản Việt Nam được thành lập năm 1930.", "answers": []string{"true"}, "version": 1}, http.StatusOK, &edited)
	if edited.Version != 2 {
		t.Fatalf("edit made version %d", edited.Version)
	}
	ts.callErr(t, "PUT", "/api/v1/questions/"+tf.ID, f.lecturer, map[string]any{"type": "true_false", "text": "x", "answers": []string{"true"}, "version": 1}, http.StatusConflict, "conflict")
	var v1 assessment.Question
	ts.call(t, "GET", "/api/v1/questions/"+tf.ID+"?version=1", f.lecturer, nil, http.StatusOK, &v1)
	if v1.Text != "Đảng được thành lập năm 1930." {
		t.Errorf("version 1 text %q", v1.Text)
	}
	ts.callErr(t, "GET", "/api/v1/questions/"+tf.ID, f.learner1, nil, http.StatusForbidden, "forbidden")
	var scrap assessment.Question
	ts.call(t, "POST", "/api/v1/questions", f.lecturer, map[string]any{"bank": "LLCT", "type": "essay", "text": "Nháp"}, http.StatusCreated, &scrap)
	ts.call(t, "DELETE", "/api/v1/questions/"+scrap.ID, f.lecturer, nil, http.StatusNoContent, nil)
	ts.callErr(t, "DELETE", "/api/v1/questions/"+scrap.ID, f.learner1, nil, http.StatusForbidden, "forbidden")
	ts.callErr(t, "DELETE", "/api/v1/questions/nope", f.lecturer, nil, http.StatusNotFound, "not_found")

	// Import: all or nothing, line numbers, keep_valid, formats.
	gift, _ := os.ReadFile("../assessment/importer/testdata/llct.gift")
	res := f.importFile(t, f.lecturer, map[string]string{"format": "gift", "bank": "Ngân hàng LLCT"}, gift, http.StatusOK)
	if res.Imported != 13 || len(res.Errors) != 0 {
		t.Fatalf("import %+v", res)
	}
	broken, _ := os.ReadFile("../assessment/importer/testdata/broken.gift")
	res = f.importFile(t, f.lecturer, map[string]string{"format": "gift", "bank": "Hỏng"}, broken, http.StatusOK)
	if res.Imported != 0 || len(res.Errors) != 3 || res.Errors[0].Line != 4 {
		t.Fatalf("broken import %+v", res)
	}
	res = f.importFile(t, f.lecturer, map[string]string{"format": "gift", "bank": "Hỏng", "keep_valid": "true"}, broken, http.StatusOK)
	if res.Imported != 2 {
		t.Fatalf("keep_valid import %+v", res)
	}
	f.importFile(t, f.lecturer, map[string]string{"format": "csv", "bank": "X"}, broken, http.StatusUnprocessableEntity)
	f.importFile(t, f.learner1, map[string]string{"format": "gift", "bank": "X"}, gift, http.StatusForbidden)
	resp := ts.do(t, "GET", "/api/v1/questions/export?bank="+urlQuery("Ngân hàng LLCT")+"&format=gift", f.lecturer, nil)
	exported, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(exported), "$CATEGORY: $course$/top/LLCT/Chương 1") {
		t.Fatalf("export %d %s", resp.StatusCode, exported)
	}
	res = f.importFile(t, f.lecturer, map[string]string{"format": "gift", "bank": "Bản sao"}, exported, http.StatusOK)
	if res.Imported != 13 {
		t.Fatalf("re-import of the export %+v", res)
	}
	var page struct {
		Items []assessment.Question `json:"items"`
		Total int                   `json:"total"`
	}
	ts.call(t, "GET", "/api/v1/questions?bank="+urlQuery("Bản sao")+"&category=LLCT&limit=5", f.lecturer, nil, http.StatusOK, &page)
	if page.Total != 13 || len(page.Items) != 5 {
		t.Fatalf("list %d/%d", len(page.Items), page.Total)
	}

	// Quiz and attempts.
	quizBody := map[string]any{"course_id": f.course.ID, "title": "Kiểm tra chương 1", "time_limit_s": 900, "max_attempts": 2, "pass_percent": 50,
		"shuffle": true, "required": true, "items": []any{map[string]any{"question_id": q1.ID}, map[string]any{"question_id": tf.ID},
			map[string]any{"random": map[string]any{"bank": "Ngân hàng LLCT", "category": "LLCT", "count": 3}}}}
	var quiz assessment.Quiz
	ts.call(t, "POST", "/api/v1/quizzes", f.lecturer, quizBody, http.StatusCreated, &quiz)
	ts.callErr(t, "POST", "/api/v1/quizzes", f.learner1, quizBody, http.StatusForbidden, "forbidden")
	ts.callErr(t, "POST", "/api/v1/quizzes", f.lecturer, map[string]any{"course_id": f.course.ID, "title": "x", "items": []any{}}, http.StatusUnprocessableEntity, "invalid")

	var a assessment.AttemptView
	resp = ts.do(t, "POST", "/api/v1/quizzes/"+quiz.ID+"/attempts", f.learner1, nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("start: %d %s", resp.StatusCode, raw)
	}
	for _, leak := range []string{`"correct"`, `"fraction"`, `"correct_answer"`, `"accepted"`} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("the learner's attempt leaks %s", leak)
		}
	}
	if err := json.Unmarshal(raw, &a); err != nil || len(a.Questions) != 5 || a.Deadline == nil {
		t.Fatalf("attempt %s (%v)", raw, err)
	}
	var again assessment.AttemptView
	ts.call(t, "POST", "/api/v1/quizzes/"+quiz.ID+"/attempts", f.learner1, nil, http.StatusOK, &again)
	if again.ID != a.ID || !again.Resumed {
		t.Fatalf("resume gave %s", again.ID)
	}
	ts.callErr(t, "POST", "/api/v1/quizzes/"+quiz.ID+"/attempts", f.outside, nil, http.StatusForbidden, "forbidden")
	ts.callErr(t, "POST", "/api/v1/quizzes/0123456789abcdef01234567/attempts", f.learner1, nil, http.StatusNotFound, "not_found")

	answers := map[string]any{"answers": map[string]any{q1.ID: "a", tf.ID: true}}
	var saved assessment.SaveResult
	ts.call(t, "PUT", "/api/v1/attempts/"+a.ID+"/answers", f.learner1, answers, http.StatusOK, &saved)
	ts.call(t, "PUT", "/api/v1/attempts/"+a.ID+"/answers", f.learner1, answers, http.StatusOK, &saved)
	ts.callErr(t, "PUT", "/api/v1/attempts/"+a.ID+"/answers", f.learner1, map[string]any{"answers": map[string]any{q1.ID: "zzz"}}, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "PUT", "/api/v1/attempts/"+a.ID+"/answers", f.learner1, `{"answers":{"x":[1,2]}}`, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "PUT", "/api/v1/attempts/"+a.ID+"/answers", f.learner1, `{}`, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "PUT", "/api/v1/attempts/"+a.ID+"/answers", f.learner2, answers, http.StatusNotFound, "not_found")
	ts.callErr(t, "GET", "/api/v1/attempts/"+a.ID, f.learner2, nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "POST", "/api/v1/attempts/"+a.ID+"/submit", f.learner2, nil, http.StatusNotFound, "not_found")
	var staffView map[string]any
	ts.call(t, "GET", "/api/v1/attempts/"+a.ID, f.trainer, nil, http.StatusOK, &staffView)
	if !strings.Contains(mustMarshal(t, staffView), "correct_answer") {
		t.Error("the trainer does not see the keys")
	}

	var sum assessment.Summary
	ts.call(t, "POST", "/api/v1/attempts/"+a.ID+"/submit", f.learner1, nil, http.StatusOK, &sum)
	if sum.Score != 3 || sum.MaxScore != 6 || sum.Percent != 50 || !sum.Passed {
		t.Fatalf("submit %+v", sum)
	}
	var sum2 assessment.Summary
	ts.call(t, "POST", "/api/v1/attempts/"+a.ID+"/submit", f.learner1, nil, http.StatusOK, &sum2)
	if sum2 != sum {
		t.Fatalf("second submit %+v", sum2)
	}
	ts.callErr(t, "PUT", "/api/v1/attempts/"+a.ID+"/answers", f.learner1, answers, http.StatusConflict, "conflict")

	var results assessment.QuizResults
	ts.call(t, "GET", "/api/v1/quizzes/"+quiz.ID+"/results", f.trainer, nil, http.StatusOK, &results)
	if len(results.Learners) != 1 || results.Passed != 1 || len(results.Histogram) != 10 {
		t.Fatalf("results %+v", results)
	}
	ts.callErr(t, "GET", "/api/v1/quizzes/"+quiz.ID+"/results", f.learner1, nil, http.StatusForbidden, "forbidden")
	var g assessment.Grade
	ts.call(t, "GET", "/api/v1/quizzes/"+quiz.ID+"/grades/me", f.learner1, nil, http.StatusOK, &g)
	if !g.Passed || g.Attempts != 1 {
		t.Fatalf("grade %+v", g)
	}
	var mine struct{ Items []assessment.AttemptSummary }
	ts.call(t, "GET", "/api/v1/quizzes/"+quiz.ID+"/attempts/me", f.learner1, nil, http.StatusOK, &mine)
	if len(mine.Items) != 1 {
		t.Fatalf("my attempts %+v", mine)
	}

	// Passing the required quiz counts for course completion.
	ok, err := ts.svc.Assessment.RequiredQuizStatus(context.Background(), f.course.ID, mustUserID(t, ts, f.learner1))
	if err != nil || !ok {
		t.Errorf("required quiz status %v %v", ok, err)
	}
}

func TestAssessmentConcurrentStartsAndEssaysOverHTTP(t *testing.T) {
	f := newAssessmentFixture(t)
	ts := f.ts
	var essay, mc assessment.Question
	ts.call(t, "POST", "/api/v1/questions", f.lecturer, map[string]any{"bank": "B", "type": "essay", "text": "Trình bày vai trò của cán bộ cơ sở.", "points": 5}, http.StatusCreated, &essay)
	ts.call(t, "POST", "/api/v1/questions", f.lecturer, map[string]any{"bank": "B", "type": "multiple", "text": "Chọn các ứng dụng",
		"choices": []map[string]any{{"text": "VNeID", "correct": true}, {"text": "DVCQG", "correct": true}, {"text": "Trò chơi"}}}, http.StatusCreated, &mc)
	var quiz assessment.Quiz
	ts.call(t, "POST", "/api/v1/quizzes", f.lecturer, map[string]any{"course_id": f.course.ID, "title": "Tự luận", "time_limit_s": 600,
		"items": []any{map[string]any{"question_id": essay.ID}, map[string]any{"question_id": mc.ID}}}, http.StatusCreated, &quiz)

	const n = 6
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp := ts.do(t, "POST", "/api/v1/quizzes/"+quiz.ID+"/attempts", f.learner2, nil)
			defer resp.Body.Close()
			var a assessment.AttemptView
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
				_ = json.NewDecoder(resp.Body).Decode(&a)
			}
			ids[i] = a.ID
		})
	}
	wg.Wait()
	for i := range n {
		if ids[i] == "" || ids[i] != ids[0] {
			t.Fatalf("concurrent starts gave %v", ids)
		}
	}
	var a assessment.AttemptView
	ts.call(t, "GET", "/api/v1/attempts/"+ids[0], f.learner2, nil, http.StatusOK, &a)
	var mcChoices []string
	for _, q := range a.Questions {
		if q.ID == mc.ID {
			for _, c := range q.Choices {
				if c.Text != "Trò chơi" {
					mcChoices = append(mcChoices, c.ID)
				}
			}
		}
	}
	ts.call(t, "PUT", "/api/v1/attempts/"+a.ID+"/answers", f.learner2, map[string]any{"answers": map[string]any{essay.ID: "Cán bộ cơ sở gần dân nhất.", mc.ID: mcChoices}}, http.StatusOK, nil)
	var sum assessment.Summary
	ts.call(t, "POST", "/api/v1/attempts/"+a.ID+"/submit", f.learner2, nil, http.StatusOK, &sum)
	if sum.Pending != 1 || sum.Score != 1 || sum.Passed {
		t.Fatalf("submit %+v", sum)
	}
	var pending struct {
		Items []assessment.PendingEssay `json:"items"`
	}
	ts.call(t, "GET", "/api/v1/quizzes/"+quiz.ID+"/essays", f.trainer, nil, http.StatusOK, &pending)
	if len(pending.Items) != 1 || pending.Items[0].Answer != "Cán bộ cơ sở gần dân nhất." {
		t.Fatalf("pending %+v", pending)
	}
	ts.callErr(t, "PUT", "/api/v1/attempts/"+a.ID+"/grades/"+essay.ID, f.trainer, map[string]any{"score": 9}, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "PUT", "/api/v1/attempts/"+a.ID+"/grades/"+essay.ID, f.trainer, map[string]any{"comment": "x"}, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "PUT", "/api/v1/attempts/"+a.ID+"/grades/"+essay.ID, f.learner2, map[string]any{"score": 5}, http.StatusForbidden, "forbidden")
	var r assessment.Result
	ts.call(t, "PUT", "/api/v1/attempts/"+a.ID+"/grades/"+essay.ID, f.trainer, map[string]any{"score": 4, "comment": "Tốt"}, http.StatusOK, &r)
	if r.Score != 5 || r.Pending != 0 || !r.Passed {
		t.Fatalf("graded %+v", r)
	}
	var acc assessment.Accommodation
	ts.call(t, "PUT", "/api/v1/quizzes/"+quiz.ID+"/accommodations/"+mustUserID(t, ts, f.learner1), f.trainer, map[string]any{"extra_time_s": 300, "extra_attempts": 1}, http.StatusOK, &acc)
	var b assessment.AttemptView
	ts.call(t, "POST", "/api/v1/quizzes/"+quiz.ID+"/attempts", f.learner1, nil, http.StatusCreated, &b)
	if got := b.Deadline.Sub(b.StartedAt); got != 15*time.Minute {
		t.Errorf("deadline with extra time: %v after start (accommodation %+v)", got, acc)
	}
}

func mustUserID(t *testing.T, ts *testServer, token string) string {
	t.Helper()
	var u accounts.User
	ts.call(t, "GET", "/api/v1/me", token, nil, http.StatusOK, &u)
	return u.ID
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func urlQuery(s string) string { return url.QueryEscape(s) }

// essayQuizAndAnotherTrainer adds to the fixture a second class of the course with its own
// trainer (signed in: otherTrainer) and an essay quiz of one question, q.
func (f *assessmentFixture) essayQuizAndAnotherTrainer(t *testing.T) (otherTrainer string, q assessment.Question, quiz assessment.Quiz) {
	t.Helper()
	ts := f.ts
	ctx := context.Background()
	admin, err := ts.svc.Accounts.Authenticate(ctx, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	var me accounts.User
	ts.call(t, "GET", "/api/v1/me", f.lecturer, nil, http.StatusOK, &me)
	other := createUser(t, ts, f.admin, "giangday2", me.UnitID, accounts.RoleTrainer)
	now := time.Now().UTC()
	if _, err := ts.svc.Courses.CreateClass(ctx, admin, f.course.ID, courses.ClassInput{Name: "Lớp 2", StartsAt: now.Add(-time.Hour), EndsAt: now.AddDate(0, 1, 0), TrainerIDs: []string{other.ID}}); err != nil {
		t.Fatal(err)
	}
	otherTrainer = ts.login(t, "giangday2", "password-123")
	ts.call(t, "POST", "/api/v1/questions", f.lecturer, map[string]any{"bank": "B", "type": "essay", "text": "Trình bày…", "points": 5}, http.StatusCreated, &q)
	ts.call(t, "POST", "/api/v1/quizzes", f.lecturer, map[string]any{"course_id": f.course.ID, "title": "Tự luận", "time_limit_s": 600, "max_attempts": 1, "pass_percent": 50,
		"items": []any{map[string]any{"question_id": q.ID}}}, http.StatusCreated, &quiz)
	return otherTrainer, q, quiz
}

// TestTrainersSeeOnlyTheirOwnLearners: a trainer of another class of the same course
// cannot read, grade or accommodate our learner's quiz, and sees none of our learners in
// the results; the class's own trainer can.
func TestTrainersSeeOnlyTheirOwnLearners(t *testing.T) {
	f := newAssessmentFixture(t)
	ts := f.ts
	otherTrainer, q, quiz := f.essayQuizAndAnotherTrainer(t)
	var a assessment.AttemptView
	ts.call(t, "POST", "/api/v1/quizzes/"+quiz.ID+"/attempts", f.learner1, nil, http.StatusCreated, &a)
	ts.call(t, "PUT", "/api/v1/attempts/"+a.ID+"/answers", f.learner1, map[string]any{"answers": map[string]any{q.ID: "Bài làm"}}, http.StatusOK, nil)
	ts.call(t, "POST", "/api/v1/attempts/"+a.ID+"/submit", f.learner1, nil, http.StatusOK, nil)
	learnerID := mustUserID(t, ts, f.learner1)

	ts.call(t, "GET", "/api/v1/attempts/"+a.ID, f.trainer, nil, http.StatusOK, nil)
	ts.callErr(t, "GET", "/api/v1/attempts/"+a.ID, otherTrainer, nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "GET", "/api/v1/quizzes/"+quiz.ID+"/grades/"+learnerID, otherTrainer, nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "PUT", "/api/v1/attempts/"+a.ID+"/grades/"+q.ID, otherTrainer, map[string]any{"score": 5, "comment": "Tốt"}, http.StatusNotFound, "not_found")
	var theirs, ours assessment.QuizResults
	ts.call(t, "GET", "/api/v1/quizzes/"+quiz.ID+"/results", otherTrainer, nil, http.StatusOK, &theirs)
	ts.call(t, "GET", "/api/v1/quizzes/"+quiz.ID+"/results", f.trainer, nil, http.StatusOK, &ours)
	if len(theirs.Learners) != 0 || len(theirs.Attempts) != 0 || len(ours.Learners) != 1 {
		t.Fatalf("the other trainer sees %d learners, ours %d", len(theirs.Learners), len(ours.Learners))
	}
	var pending list[assessment.PendingEssay]
	ts.call(t, "GET", "/api/v1/quizzes/"+quiz.ID+"/essays", otherTrainer, nil, http.StatusOK, &pending)
	if pending.Total != 0 {
		t.Fatalf("the other trainer sees %d essays to grade", pending.Total)
	}
	ts.call(t, "GET", "/api/v1/quizzes/"+quiz.ID+"/essays", f.trainer, nil, http.StatusOK, &pending)
	if pending.Total != 1 {
		t.Fatalf("our trainer sees %d essays to grade", pending.Total)
	}
	ts.call(t, "PUT", "/api/v1/attempts/"+a.ID+"/grades/"+q.ID, f.trainer, map[string]any{"score": 5, "comment": "Tốt"}, http.StatusOK, nil)
}
