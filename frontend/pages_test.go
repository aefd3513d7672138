package frontend

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hoctap/accounts"
	"hoctap/assessment"
	"hoctap/courses"
)

// staffToken creates a user with roles (unit_admin of adminUnits) in the world's unit and
// returns their session token and principal.
func (w *learnWorld) staffToken(t *testing.T, username string, roles []accounts.Role, adminUnits ...string) (string, accounts.Principal) {
	t.Helper()
	ctx := context.Background()
	units, err := w.acc.AllUnits(ctx)
	if err != nil || len(units) == 0 {
		t.Fatalf("units: %v", err)
	}
	if _, err := w.acc.CreateUser(ctx, w.adminP, accounts.NewUser{Username: username, Password: "staff-password-1",
		FullName: "Cán bộ " + username, UnitID: units[0].ID, Roles: roles, AdminUnitIDs: adminUnits}); err != nil {
		t.Fatal(err)
	}
	res, err := w.acc.Login(ctx, username, "staff-password-1", "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.acc.Authenticate(ctx, res.Token)
	if err != nil {
		t.Fatal(err)
	}
	return res.Token, p
}

func (w *learnWorld) unitID(t *testing.T) string {
	t.Helper()
	units, err := w.acc.AllUnits(context.Background())
	if err != nil || len(units) == 0 {
		t.Fatalf("units: %v", err)
	}
	return units[0].ID
}

func TestPlanPages(t *testing.T) {
	w := newLearnWorld(t)
	unit := w.unitID(t)
	officer, _ := w.staffToken(t, "can.bo.tc", []accounts.Role{accounts.RoleUnitAdmin}, unit)

	// The list starts empty, with the form for the current year.
	status, body := w.do(t, officer, http.MethodGet, "/reports/plans?unit_id="+unit, nil)
	if status != http.StatusOK || !strings.Contains(visible(body), "Đơn vị này chưa có kế hoạch đào tạo nào.") {
		t.Fatalf("empty plan list: %d\n%s", status, visible(body))
	}
	// A learner is refused.
	if status, _ := w.get(t, "/reports/plans"); status != http.StatusForbidden {
		t.Errorf("a learner at /reports/plans: %d, want 403", status)
	}
	if status, _ := w.do(t, w.learner, http.MethodPost, "/reports/plans", url.Values{"unit_id": {unit}, "year": {"2026"}, "title": {"X"}, "course_id": {w.courseID}, "class_id": {""}, "planned": {"4"}}); status != http.StatusForbidden {
		t.Errorf("a learner creating a plan: %d, want 403", status)
	}

	// Bad input: a planned number that is not a number, and no line at all.
	status, body = w.do(t, officer, http.MethodPost, "/reports/plans", url.Values{"unit_id": {unit}, "year": {"2026"}, "title": {"Kế hoạch 2026"},
		"course_id": {w.courseID, ""}, "class_id": {"", ""}, "planned": {"bốn", ""}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="planned-0-error"`) || !strings.Contains(body, `value="Kế hoạch 2026"`) {
		t.Errorf("a bad planned number: %d\n%s", status, visible(body))
	}
	status, body = w.do(t, officer, http.MethodPost, "/reports/plans", url.Values{"unit_id": {unit}, "year": {"2026"}, "title": {"Kế hoạch 2026"},
		"course_id": {""}, "class_id": {""}, "planned": {""}})
	if status != http.StatusUnprocessableEntity {
		t.Errorf("a plan without lines: %d\n%s", status, visible(body))
	}
	if _, body := w.do(t, officer, http.MethodGet, "/reports/plans?unit_id="+unit, nil); !strings.Contains(visible(body), "chưa có kế hoạch") {
		t.Errorf("refused plans were stored:\n%s", visible(body))
	}

	// A good plan goes to its report, which shows the plan's figures in words.
	status, loc := w.do(t, officer, http.MethodPost, "/reports/plans", url.Values{"unit_id": {unit}, "year": {"2026"}, "title": {"Kế hoạch 2026"},
		"course_id": {w.courseID, "", ""}, "class_id": {"", "", ""}, "planned": {"4", "", ""}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/reports/plans/") {
		t.Fatalf("creating a plan: %d %s", status, loc)
	}
	planPath := strings.SplitN(loc, "?", 2)[0]
	status, body = w.do(t, officer, http.MethodGet, loc, nil)
	text := visible(body)
	if status != http.StatusOK {
		t.Fatalf("plan page: %d\n%s", status, text)
	}
	for _, want := range []string{"Đã lập kế hoạch đào tạo.", "Đạt 0% so với kế hoạch (0/4 học viên)", "Chuyển đổi số cơ bản", "Đã ghi danh 1 học viên (25% kế hoạch)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the plan page lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(body, `href="/api/v1/reports/plans/`+strings.TrimPrefix(planPath, "/reports/plans/")+`.xlsx"`) {
		t.Errorf("the plan page has no spreadsheet link")
	}
	// A second plan for the same unit and year is a conflict.
	if status, body := w.do(t, officer, http.MethodPost, "/reports/plans", url.Values{"unit_id": {unit}, "year": {"2026"}, "title": {"Trùng"},
		"course_id": {w.courseID}, "class_id": {""}, "planned": {"2"}}); status != http.StatusConflict || !strings.Contains(visible(body), "đã có kế hoạch cho năm đó") {
		t.Errorf("a second plan for 2026: %d\n%s", status, visible(body))
	}

	// Editing: a bad number changes nothing; a good one is stored.
	if status, body := w.do(t, officer, http.MethodPost, planPath, url.Values{"title": {"Đổi tên"}, "course_id": {w.courseID}, "class_id": {""}, "planned": {"-3"}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="planned-0-error"`) {
		t.Errorf("editing with a bad number: %d", status)
	}
	if status, _ := w.do(t, w.learner, http.MethodPost, planPath, url.Values{"title": {"Của học viên"}, "course_id": {w.courseID}, "class_id": {""}, "planned": {"1"}}); status != http.StatusForbidden {
		t.Errorf("a learner editing a plan: %d, want 403", status)
	}
	if status, loc := w.do(t, officer, http.MethodPost, planPath, url.Values{"title": {"Kế hoạch năm 2026"}, "course_id": {w.courseID}, "class_id": {""}, "planned": {"2"}}); status != http.StatusSeeOther || loc != planPath+"?ok=saved" {
		t.Fatalf("editing a plan: %d %s", status, loc)
	}
	_, body = w.do(t, officer, http.MethodGet, planPath, nil)
	if text := visible(body); !strings.Contains(text, "Kế hoạch năm 2026") || !strings.Contains(text, "(0/2 học viên)") || strings.Contains(text, "Đổi tên") {
		t.Errorf("the edit was not stored as sent:\n%s", text)
	}
	_, body = w.do(t, officer, http.MethodGet, "/reports/plans?unit_id="+unit+"&year=2026", nil)
	if !strings.Contains(visible(body), "Kế hoạch năm 2026") {
		t.Errorf("the list lacks the plan:\n%s", visible(body))
	}
}

func TestCertificateRevocationPages(t *testing.T) {
	w := newLearnWorld(t)
	ctx := context.Background()
	unit := w.unitID(t)
	officer, _ := w.staffToken(t, "can.bo.tc", []accounts.Role{accounts.RoleUnitAdmin}, unit)
	trainer, _ := w.staffToken(t, "giang.vien", []accounts.Role{accounts.RoleTrainer})

	// A one-lesson course the learner completes by opening its text lesson.
	course, err := w.crs.CreateCourse(ctx, w.adminP, courses.CourseInput{Code: "NV-01", Title: "Nghiệp vụ văn thư", Category: courses.CategoryDigitalSkills})
	if err != nil {
		t.Fatal(err)
	}
	mod, err := w.crs.AddModule(ctx, w.adminP, course.ID, courses.ModuleInput{Title: "Chương 1"})
	if err != nil {
		t.Fatal(err)
	}
	lesson, err := w.crs.AddLesson(ctx, w.adminP, course.ID, mod.ID, courses.LessonInput{Title: "Bài đọc", Kind: courses.KindText, Body: "Nội dung."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.crs.PublishCourse(ctx, w.adminP, course.ID); err != nil {
		t.Fatal(err)
	}
	class, err := w.crs.CreateClass(ctx, w.adminP, course.ID, courses.ClassInput{Name: "Lớp VT1", StartsAt: time.Now().Add(-time.Hour), EndsAt: time.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	learners, err := w.acc.ListUsers(ctx, w.adminP, accounts.UserFilter{Q: "hoc.vien"})
	if err != nil || len(learners.Items) == 0 {
		t.Fatalf("learner: %v", err)
	}
	if _, err := w.crs.EnrolUsers(ctx, w.adminP, class.ID, []string{learners.Items[0].ID}); err != nil {
		t.Fatal(err)
	}
	if status, _ := w.get(t, "/learn/classes/"+class.ID+"/lessons/"+lesson.ID); status != http.StatusOK {
		t.Fatalf("opening the lesson: %d", status)
	}
	var body string
	for i := 0; i < 100; i++ { // progress is flushed in batches
		if _, loc := w.do(t, w.admin, http.MethodPost, "/teach/classes/"+class.ID+"/certificates", url.Values{}); strings.HasSuffix(loc, "issued=1") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	status, body := w.do(t, officer, http.MethodGet, "/reports/certificates?unit_id="+unit, nil)
	if status != http.StatusOK || !strings.Contains(visible(body), "Lê Thị Hoa") || !strings.Contains(visible(body), "Nghiệp vụ văn thư") {
		t.Fatalf("the certificate list: %d\n%s", status, visible(body))
	}
	m := regexp.MustCompile(`action="(/reports/certificates/[0-9a-f]+/revoke)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no revoke form:\n%s", body)
	}
	// Refused roles: a learner and a trainer.
	if status, _ := w.get(t, "/reports/certificates"); status != http.StatusForbidden {
		t.Errorf("a learner's certificate list: %d, want 403", status)
	}
	for _, tok := range []string{w.learner, trainer} {
		if status, _ := w.do(t, tok, http.MethodPost, m[1], url.Values{"reason": {"Cấp nhầm"}, "unit_id": {unit}}); status != http.StatusForbidden {
			t.Errorf("revoking as a non-officer: %d, want 403", status)
		}
	}
	// No reason: refused, still valid.
	status, body = w.do(t, officer, http.MethodPost, m[1], url.Values{"reason": {"  "}, "unit_id": {unit}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(visible(body), "Cần nhập lý do thu hồi") {
		t.Errorf("revoking without a reason: %d\n%s", status, visible(body))
	}
	if _, body := w.get(t, "/certificates"); strings.Contains(visible(body), "đã bị thu hồi") {
		t.Errorf("a refused revocation revoked the certificate")
	}
	// With a reason: revoked, shown so on the list and to the learner.
	status, loc := w.do(t, officer, http.MethodPost, m[1], url.Values{"reason": {"Cấp nhầm người"}, "unit_id": {unit}})
	if status != http.StatusSeeOther || !strings.Contains(loc, "ok=revoked") {
		t.Fatalf("revoking: %d %s", status, loc)
	}
	_, body = w.do(t, officer, http.MethodGet, loc, nil)
	if text := visible(body); !strings.Contains(text, "Đã thu hồi giấy chứng nhận.") || !strings.Contains(text, "Cấp nhầm người") {
		t.Errorf("the list after revoking:\n%s", text)
	}
	if _, body := w.get(t, "/certificates"); !strings.Contains(visible(body), "Giấy chứng nhận này đã bị thu hồi.") {
		t.Errorf("the learner does not see the revocation:\n%s", visible(body))
	}
	// Revoking again is a conflict.
	if status, _ := w.do(t, officer, http.MethodPost, m[1], url.Values{"reason": {"Lần nữa"}, "unit_id": {unit}}); status != http.StatusConflict {
		t.Errorf("revoking twice: %d, want 409", status)
	}
}

func TestBankSharingAndQuestionForms(t *testing.T) {
	w := newLearnWorld(t)
	ctx := context.Background()
	lecturer, _ := w.staffToken(t, "gv.chia.se", []accounts.Role{accounts.RoleLecturer})
	other, _ := w.staffToken(t, "gv.khac", []accounts.Role{accounts.RoleLecturer})
	pts := 1.0
	if _, err := w.asm.CreateQuestion(ctx, w.adminP, assessment.QuestionInput{Bank: "Kỹ năng số", Type: assessment.TypeSingle, Text: "Câu 1?", Points: &pts,
		Choices: []assessment.ChoiceInput{{ID: "a", Text: "Đúng", Correct: true}, {ID: "b", Text: "Sai"}}}); err != nil {
		t.Fatal(err)
	}
	sees := func(token string) bool {
		_, body := w.do(t, token, http.MethodGet, "/teach/banks", nil)
		return strings.Contains(visible(body), "Kỹ năng số")
	}
	if sees(lecturer) {
		t.Fatal("the lecturer sees the bank before it is shared")
	}
	// The admin's bank page has the sharing form; a lecturer's has not and is refused.
	if _, body := w.do(t, w.admin, http.MethodGet, "/teach/bank?name=Kỹ+năng+số", nil); !strings.Contains(body, `action="/teach/bank/share"`) {
		t.Errorf("the admin's bank page lacks the sharing form")
	}
	if status, _ := w.do(t, lecturer, http.MethodPost, "/teach/bank/share", url.Values{"bank": {"Kỹ năng số"}, "usernames": {"gv.chia.se"}}); status != http.StatusForbidden {
		t.Errorf("a lecturer sharing a bank: %d, want 403", status)
	}
	// An unknown username is refused and shares with nobody.
	status, body := w.do(t, w.admin, http.MethodPost, "/teach/bank/share", url.Values{"bank": {"Kỹ năng số"}, "usernames": {"gv.chia.se\nkhong.co.ai"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="share-error"`) {
		t.Errorf("sharing with an unknown username: %d\n%s", status, visible(body))
	}
	if sees(lecturer) {
		t.Error("a refused sharing shared the bank")
	}
	if status, loc := w.do(t, w.admin, http.MethodPost, "/teach/bank/share", url.Values{"bank": {"Kỹ năng số"}, "usernames": {"gv.chia.se"}}); status != http.StatusSeeOther {
		t.Fatalf("sharing: %d %s", status, loc)
	}
	if !sees(lecturer) || sees(other) {
		t.Errorf("after sharing, the named lecturer should see the bank and the other not")
	}
	if _, body := w.do(t, w.admin, http.MethodGet, "/teach/bank?name=Kỹ+năng+số", nil); !strings.Contains(visible(body), "Đang chia sẻ với 1 giảng viên.") {
		t.Errorf("the bank page does not show the sharing:\n%s", visible(body))
	}

	// Matching and ordering questions from the form.
	status, body = w.do(t, w.admin, http.MethodPost, "/teach/bank/questions", url.Values{"bank": {"Kỹ năng số"}, "type": {"matching"}, "text": {"Ghép cơ quan với chức năng"}, "choices": {"Quốc hội = Lập pháp\nkhông có dấu bằng"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(visible(body), "Mỗi dòng phải có dạng «vế trái = vế phải».") {
		t.Errorf("a matching line without '=': %d\n%s", status, visible(body))
	}
	if status, body := w.do(t, w.learner, http.MethodPost, "/teach/bank/questions", url.Values{"bank": {"Kỹ năng số"}, "type": {"ordering"}, "text": {"X"}, "choices": {"A\nB"}}); status != http.StatusForbidden {
		t.Errorf("a learner adding a question: %d\n%s", status, visible(body))
	}
	if page, err := w.asm.ListQuestions(ctx, w.adminP, assessment.QuestionFilter{Bank: "Kỹ năng số"}); err != nil || page.Total != 1 {
		t.Fatalf("refused questions were stored: %v %d", err, page.Total)
	}
	for _, q := range []url.Values{
		{"bank": {"Kỹ năng số"}, "type": {"matching"}, "text": {"Ghép cơ quan với chức năng"}, "choices": {"Quốc hội = Lập pháp\nChính phủ = Hành pháp\nTòa án = Tư pháp\n= Giám sát tối cao"}},
		{"bank": {"Kỹ năng số"}, "type": {"ordering"}, "text": {"Sắp xếp các cấp hành chính từ cao xuống thấp"}, "choices": {"Trung ương\nTỉnh\nXã"}},
	} {
		if status, loc := w.do(t, w.admin, http.MethodPost, "/teach/bank/questions", q); status != http.StatusSeeOther {
			t.Fatalf("creating a %s question: %d %s", q.Get("type"), status, loc)
		}
	}
	page, err := w.asm.ListQuestions(ctx, w.adminP, assessment.QuestionFilter{Bank: "Kỹ năng số"})
	if err != nil || page.Total != 3 {
		t.Fatalf("questions stored: %v %d", err, page.Total)
	}
	for _, q := range page.Items {
		switch q.Type {
		case assessment.TypeMatching:
			if len(q.Pairs) != 4 || q.Pairs[0].Left != "Quốc hội" || q.Pairs[0].Right != "Lập pháp" || q.Pairs[3].Left != "" {
				t.Errorf("matching pairs stored: %+v", q.Pairs)
			}
			_, body := w.do(t, w.admin, http.MethodGet, "/teach/questions/"+q.ID, nil)
			if !strings.Contains(body, "Quốc hội = Lập pháp\nChính phủ = Hành pháp\nTòa án = Tư pháp\n= Giám sát tối cao") {
				t.Errorf("the edit form does not show the pairs:\n%s", body)
			}
			if status, _ := w.do(t, w.admin, http.MethodPost, "/teach/questions/"+q.ID, url.Values{"type": {"matching"}, "text": {q.Text}, "choices": {"Quốc hội = Lập pháp\nChính phủ = Hành pháp"}}); status != http.StatusSeeOther {
				t.Errorf("editing the pairs: %d", status)
			}
			if q2, err := w.asm.GetQuestion(ctx, w.adminP, q.ID); err != nil || len(q2.Pairs) != 2 {
				t.Errorf("the edited pairs were not stored: %v %+v", err, q2.Pairs)
			}
		case assessment.TypeOrdering:
			if len(q.Choices) != 3 || q.Choices[0].Text != "Trung ương" || q.Choices[2].Text != "Xã" {
				t.Errorf("ordering items stored: %+v", q.Choices)
			}
		}
	}
}

func TestAccommodationForm(t *testing.T) {
	w := newLearnWorld(t)
	ctx := context.Background()
	pts := 1.0
	q, err := w.asm.CreateQuestion(ctx, w.adminP, assessment.QuestionInput{Bank: "Kỹ năng số", Type: assessment.TypeSingle, Text: "Câu 1?", Points: &pts,
		Choices: []assessment.ChoiceInput{{ID: "a", Text: "Đúng", Correct: true}, {ID: "b", Text: "Sai"}}})
	if err != nil {
		t.Fatal(err)
	}
	quiz, err := w.asm.CreateQuiz(ctx, w.adminP, assessment.QuizInput{CourseID: w.courseID, Title: "Kiểm tra một lần", MaxAttempts: 1,
		Items: []assessment.Item{{QuestionID: q.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	start := func() (int, string) {
		return w.do(t, w.learner, http.MethodPost, "/learn/quizzes/"+quiz.ID+"/start", url.Values{})
	}
	status, loc := start()
	if status != http.StatusSeeOther {
		t.Fatalf("first attempt: %d %s", status, loc)
	}
	if status, _ := w.do(t, w.learner, http.MethodPost, loc, url.Values{"q_" + q.ID: {"a"}, "action": {"submit"}}); status != http.StatusSeeOther {
		t.Fatalf("submitting: %d", status)
	}
	if status, _ := start(); status != http.StatusConflict {
		t.Fatalf("a second attempt before any accommodation: %d, want 409", status)
	}
	path := "/teach/quizzes/" + quiz.ID + "/accommodations"
	if _, body := w.do(t, w.admin, http.MethodGet, "/teach/quizzes/"+quiz.ID, nil); !strings.Contains(body, `action="`+path+`"`) {
		t.Errorf("the results page lacks the accommodation form")
	}
	// A learner is refused; bad numbers and an unknown username are refused, changing nothing.
	if status, _ := w.do(t, w.learner, http.MethodPost, path, url.Values{"username": {"hoc.vien"}, "extra_attempts": {"5"}}); status != http.StatusForbidden {
		t.Errorf("a learner setting an accommodation: %d, want 403", status)
	}
	status, body := w.do(t, w.admin, http.MethodPost, path, url.Values{"username": {"hoc.vien"}, "extra_time_min": {"mười"}, "extra_attempts": {"1"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="a-time-error"`) {
		t.Errorf("a bad extra time: %d\n%s", status, visible(body))
	}
	status, body = w.do(t, w.admin, http.MethodPost, path, url.Values{"username": {"khong.co.ai"}, "extra_attempts": {"1"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(visible(body), "Không có người dùng với tên đăng nhập này.") {
		t.Errorf("an unknown learner: %d\n%s", status, visible(body))
	}
	if status, _ := start(); status != http.StatusConflict {
		t.Fatalf("refused accommodations gave an attempt: %d", status)
	}
	// The trainer's (here the admin's) accommodation gives one more attempt.
	if status, loc := w.do(t, w.admin, http.MethodPost, path, url.Values{"username": {"hoc.vien"}, "extra_time_min": {"10"}, "extra_attempts": {"1"}}); status != http.StatusSeeOther || !strings.HasSuffix(loc, "?ok=accommodation") {
		t.Fatalf("setting an accommodation: %d %s", status, loc)
	}
	if status, loc := start(); status != http.StatusSeeOther {
		t.Errorf("the extra attempt: %d %s", status, loc)
	}
}

func TestArchiveRenameAndRevisionPages(t *testing.T) {
	w := newLearnWorld(t)
	ctx := context.Background()
	coursePath := "/teach/courses/" + w.courseID
	other, _ := w.staffToken(t, "gv.khac", []accounts.Role{accounts.RoleLecturer})

	// Rename a module: refused for a learner and another lecturer, an empty title is
	// refused on the module's own form, a good one is stored.
	course, err := w.crs.GetCourse(ctx, w.adminP, w.courseID)
	if err != nil || len(course.Modules) == 0 {
		t.Fatalf("course: %v", err)
	}
	modPath := coursePath + "/modules/" + course.Modules[0].ID
	if status, _ := w.do(t, w.learner, http.MethodPost, modPath, url.Values{"title": {"Của học viên"}}); status != http.StatusForbidden {
		t.Errorf("a learner renaming a module: %d, want 403", status)
	}
	if status, _ := w.do(t, other, http.MethodPost, modPath, url.Values{"title": {"Của người khác"}}); status != http.StatusForbidden {
		t.Errorf("another lecturer renaming a module: %d, want 403", status)
	}
	status, body := w.do(t, w.admin, http.MethodPost, modPath, url.Values{"title": {"  "}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="rename-`+course.Modules[0].ID+`-error"`) {
		t.Errorf("an empty module title: %d\n%s", status, visible(body))
	}
	if status, loc := w.do(t, w.admin, http.MethodPost, modPath, url.Values{"title": {"Chương 1: Khái quát"}}); status != http.StatusSeeOther {
		t.Fatalf("renaming: %d %s", status, loc)
	}
	if course, _ := w.crs.GetCourse(ctx, w.adminP, w.courseID); course.Modules[0].Title != "Chương 1: Khái quát" {
		t.Errorf("the module is now %q", course.Modules[0].Title)
	}

	// Publish revision 2; the class, on revision 1, may move to it.
	if _, err := w.crs.PublishCourse(ctx, w.adminP, w.courseID); err != nil {
		t.Fatal(err)
	}
	classPath := "/teach/classes/" + w.classID
	_, body = w.do(t, w.admin, http.MethodGet, classPath, nil)
	if !strings.Contains(body, `action="`+classPath+`/revision"`) || !strings.Contains(body, `<option value="2">phiên bản 2</option>`) {
		t.Fatalf("the class page offers no move to revision 2:\n%s", visible(body))
	}
	if status, _ := w.do(t, w.learner, http.MethodPost, classPath+"/revision", url.Values{"revision": {"2"}}); status != http.StatusForbidden {
		t.Errorf("a learner moving the class: %d, want 403", status)
	}
	for _, bad := range []string{"9", "hai"} {
		if status, body := w.do(t, w.admin, http.MethodPost, classPath+"/revision", url.Values{"revision": {bad}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, "field-error") {
			t.Errorf("moving to revision %q: %d\n%s", bad, status, visible(body))
		}
	}
	if class, _ := w.crs.GetClass(ctx, w.adminP, w.classID); class.Revision != 1 {
		t.Fatalf("a refused move moved the class to %d", class.Revision)
	}
	if status, loc := w.do(t, w.admin, http.MethodPost, classPath+"/revision", url.Values{"revision": {"2"}}); status != http.StatusSeeOther {
		t.Fatalf("moving the class: %d %s", status, loc)
	}
	if class, _ := w.crs.GetClass(ctx, w.adminP, w.classID); class.Revision != 2 {
		t.Errorf("the class runs revision %d, want 2", class.Revision)
	}
	if _, body := w.do(t, w.admin, http.MethodGet, classPath+"?ok=revision", nil); !strings.Contains(visible(body), "Lớp đã chuyển sang phiên bản 2.") {
		t.Errorf("no notice after moving:\n%s", visible(body))
	}

	// Archive: refused for others, then the course is archived.
	if status, _ := w.do(t, w.learner, http.MethodPost, coursePath+"/archive", url.Values{}); status != http.StatusForbidden {
		t.Errorf("a learner archiving: %d, want 403", status)
	}
	if status, _ := w.do(t, other, http.MethodPost, coursePath+"/archive", url.Values{}); status != http.StatusForbidden {
		t.Errorf("another lecturer archiving: %d, want 403", status)
	}
	if c, _ := w.crs.GetCourse(ctx, w.adminP, w.courseID); c.Status != courses.StatusPublished {
		t.Fatalf("a refused archive changed the course to %s", c.Status)
	}
	if _, body := w.do(t, w.admin, http.MethodGet, coursePath, nil); !strings.Contains(body, `action="`+coursePath+`/archive"`) {
		t.Errorf("the builder of a published course lacks the archive button")
	}
	if status, loc := w.do(t, w.admin, http.MethodPost, coursePath+"/archive", url.Values{}); status != http.StatusSeeOther || !strings.HasSuffix(loc, "?ok=archived") {
		t.Fatalf("archiving: %d %s", status, loc)
	}
	if c, _ := w.crs.GetCourse(ctx, w.adminP, w.courseID); c.Status != courses.StatusArchived {
		t.Errorf("the course is %s, want archived", c.Status)
	}
	if _, body := w.do(t, w.admin, http.MethodGet, coursePath+"?ok=archived", nil); !strings.Contains(visible(body), "Đã lưu trữ khóa học.") {
		t.Errorf("no notice after archiving")
	}
}

func TestUnitEditPage(t *testing.T) {
	w := newLearnWorld(t)
	ctx := context.Background()
	mk := func(name, code, parent string) accounts.Unit {
		u, err := w.acc.CreateUnit(ctx, w.adminP, accounts.NewUnit{Name: name, Code: code, ParentID: parent})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	a, b := mk("Huyện A", "HA", ""), mk("Huyện B", "HB", "")
	x := mk("Xã X", "HA-X", a.ID)
	officer, _ := w.staffToken(t, "can.bo.a", []accounts.Role{accounts.RoleUnitAdmin}, a.ID)
	unit := func(id string) accounts.Unit {
		t.Helper()
		all, err := w.acc.AllUnits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range all {
			if u.ID == id {
				return u
			}
		}
		t.Fatalf("no unit %s", id)
		return accounts.Unit{}
	}
	path := "/admin/units/" + x.ID

	// The tree page opens the edit form of a unit.
	status, body := w.do(t, officer, http.MethodGet, "/admin/units?edit="+x.ID, nil)
	if status != http.StatusOK || !strings.Contains(body, `action="`+path+`"`) || !strings.Contains(body, `value="HA-X"`) {
		t.Fatalf("the edit form: %d\n%s", status, visible(body))
	}
	// Refused: a learner; the unit admin moving it under a unit they do not manage.
	if status, _ := w.do(t, w.learner, http.MethodPost, path, url.Values{"name": {"Xã Y"}, "code": {"HA-X"}, "parent_id": {a.ID}}); status != http.StatusForbidden {
		t.Errorf("a learner editing a unit: %d, want 403", status)
	}
	if status, _ := w.do(t, officer, http.MethodPost, path, url.Values{"name": {"Xã X"}, "code": {"HA-X"}, "parent_id": {b.ID}}); status != http.StatusForbidden {
		t.Errorf("a unit admin moving a unit out of their units: %d, want 403", status)
	}
	// Bad input: an empty name, a taken code, a move under itself.
	status, body = w.do(t, w.admin, http.MethodPost, path, url.Values{"name": {" "}, "code": {"HA-X"}, "parent_id": {a.ID}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-name-error"`) {
		t.Errorf("an empty name: %d\n%s", status, visible(body))
	}
	if status, body := w.do(t, w.admin, http.MethodPost, path, url.Values{"name": {"Xã X"}, "code": {"HB"}, "parent_id": {a.ID}}); status != http.StatusConflict || !strings.Contains(visible(body), "Không lưu được") {
		t.Errorf("a taken code: %d\n%s", status, visible(body))
	}
	if status, _ := w.do(t, w.admin, http.MethodPost, "/admin/units/"+a.ID, url.Values{"name": {"Huyện A"}, "code": {"HA"}, "parent_id": {x.ID}}); status != http.StatusConflict {
		t.Errorf("moving a unit under its own sub-unit: %d, want 409", status)
	}
	if u := unit(x.ID); u.Name != "Xã X" || u.Code != "HA-X" || u.ParentID != a.ID {
		t.Fatalf("refused edits changed the unit: %+v", u)
	}
	if u := unit(a.ID); u.ParentID != "" {
		t.Fatalf("a refused move moved Huyện A under %s", u.ParentID)
	}
	// Allowed: the unit admin renames it; the admin moves it to Huyện B.
	if status, loc := w.do(t, officer, http.MethodPost, path, url.Values{"name": {"Xã Xuân"}, "code": {"HA-XUAN"}, "parent_id": {a.ID}}); status != http.StatusSeeOther || loc != "/admin/units?ok=unit_saved" {
		t.Fatalf("renaming: %d %s", status, loc)
	}
	if u := unit(x.ID); u.Name != "Xã Xuân" || u.Code != "HA-XUAN" {
		t.Errorf("the rename was not stored: %+v", u)
	}
	if status, _ := w.do(t, w.admin, http.MethodPost, path, url.Values{"name": {"Xã Xuân"}, "code": {"HA-XUAN"}, "parent_id": {b.ID}}); status != http.StatusSeeOther {
		t.Fatalf("moving: %d", status)
	}
	if u := unit(x.ID); u.ParentID != b.ID {
		t.Errorf("the unit is under %s, want Huyện B", u.ParentID)
	}
	if _, body := w.do(t, w.admin, http.MethodGet, "/admin/units?ok=unit_saved", nil); !strings.Contains(visible(body), "Đã lưu đơn vị.") {
		t.Errorf("no notice after saving")
	}
}

// TestUnitEditKeepsParent: a unit admin renames the top unit they manage (a root, which
// only admins could choose) without moving it.
func TestUnitEditKeepsParent(t *testing.T) {
	w := newLearnWorld(t)
	ctx := context.Background()
	a, err := w.acc.CreateUnit(ctx, w.adminP, accounts.NewUnit{Name: "Huyện A", Code: "HA"})
	if err != nil {
		t.Fatal(err)
	}
	officer, _ := w.staffToken(t, "can.bo.a", []accounts.Role{accounts.RoleUnitAdmin}, a.ID)
	_, body := w.do(t, officer, http.MethodGet, "/admin/units?edit="+a.ID, nil)
	if !strings.Contains(body, `<option value="" selected>(giữ nguyên đơn vị cấp trên)</option>`) {
		t.Fatalf("the form does not offer to keep the parent:\n%s", body)
	}
	if status, loc := w.do(t, officer, http.MethodPost, "/admin/units/"+a.ID, url.Values{"name": {"Huyện An"}, "code": {"HA"}, "parent_id": {""}, "current_parent": {""}}); status != http.StatusSeeOther {
		t.Fatalf("renaming the top unit: %d %s", status, loc)
	}
}
