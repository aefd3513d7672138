package frontend

import (
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/assessment"
	"hoctap/courses"
	"hoctap/courses/live"
	"hoctap/internal/dbtest"
	"hoctap/internal/errs"
	"hoctap/reports"
)

// learnWorld is the real accounts and courses services on an embedded database, with the
// frontend mounted on a Fiber app whose authentication reads the session cookie the way
// the server's middleware does.
type learnWorld struct {
	app      *fiber.App
	acc      *accounts.Service
	crs      *courses.Service
	learner  string // session token
	admin    string // session token
	adminP   accounts.Principal
	asm      *assessment.Service
	classID  string
	lessons  []courses.Lesson
	courseID string
}

func newLearnWorld(t *testing.T) *learnWorld {
	t.Helper()
	ctx := context.Background()
	db := dbtest.New(t)
	acc := accounts.NewService(db.Database, accounts.Config{Argon2: accounts.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}, time.Now)
	if err := acc.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	crs := courses.New(courses.Config{DB: db.Database, Directory: acc, FlushInterval: 20 * time.Millisecond})
	if err := crs.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = crs.Close(context.Background()) })
	if _, _, err := acc.EnsureAdmin(ctx, "admin-password-1"); err != nil {
		t.Fatal(err)
	}
	login := func(user, pw string) (accounts.Principal, string) {
		res, err := acc.Login(ctx, user, pw, "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := acc.Authenticate(ctx, res.Token)
		if err != nil {
			t.Fatal(err)
		}
		return p, res.Token
	}
	admin, adminToken := login("admin", "admin-password-1")
	unit, err := acc.CreateUnit(ctx, admin, accounts.NewUnit{Name: "Xã Tân Lập", Code: "XTL"})
	if err != nil {
		t.Fatal(err)
	}
	learner, err := acc.CreateUser(ctx, admin, accounts.NewUser{Username: "hoc.vien", Password: "hocvien-pass", FullName: "Lê Thị Hoa", UnitID: unit.ID})
	if err != nil {
		t.Fatal(err)
	}
	course, err := crs.CreateCourse(ctx, admin, courses.CourseInput{Code: "CDS-01", Title: "Chuyển đổi số cơ bản", Category: courses.CategoryDigitalSkills})
	if err != nil {
		t.Fatal(err)
	}
	mod, err := crs.AddModule(ctx, admin, course.ID, courses.ModuleInput{Title: "Chương 1: Tổng quan"})
	if err != nil {
		t.Fatal(err)
	}
	var lessons []courses.Lesson
	for _, in := range []courses.LessonInput{
		{Title: "Giới thiệu", Kind: courses.KindText, Body: "Đoạn một <b>in đậm?</b>\n\nĐoạn hai."},
		{Title: "Tài liệu hướng dẫn", Kind: courses.KindPDF, MediaID: "media-pdf", Pages: 3},
		{Title: "Bài giảng video", Kind: courses.KindVideo, MediaID: "media-video", DurationS: 600},
	} {
		l, err := crs.AddLesson(ctx, admin, course.ID, mod.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		lessons = append(lessons, l)
	}
	if _, err := crs.PublishCourse(ctx, admin, course.ID); err != nil {
		t.Fatal(err)
	}
	class, err := crs.CreateClass(ctx, admin, course.ID, courses.ClassInput{
		Name: "Lớp K1", StartsAt: time.Now().Add(-24 * time.Hour), EndsAt: time.Now().Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crs.EnrolUsers(ctx, admin, class.ID, []string{learner.ID}); err != nil {
		t.Fatal(err)
	}
	_, token := login("hoc.vien", "hocvien-pass")
	asm := assessment.New(assessment.Config{DB: db.Database, Clock: time.Now, Enrolments: enrolmentsOf{crs, admin}})
	if err := asm.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	liveSvc := live.NewService(db.Database, time.Now, enrolmentsOf{crs, admin})
	if err := liveSvc.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	hub := live.NewHub(liveSvc, live.HubOptions{})
	t.Cleanup(func() { _ = hub.Close(context.Background()) })
	rep, err := reports.New(reports.Config{DB: db.Database, Directory: acc, Learning: learningOf{crs}, CacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	liveParts := struct {
		*live.Service
		*live.Hub
	}{liveSvc, hub}

	app := testApp(t, acc, Deps{Accounts: acc, Courses: crs, Teaching: crs, Assessment: asm, Authoring: asm, Live: liveParts, Reports: rep})
	return &learnWorld{app: app, acc: acc, crs: crs, asm: asm, adminP: admin, learner: token, admin: adminToken, classID: class.ID, lessons: lessons, courseID: course.ID}
}

// get fetches a page as the learner and returns the status and body.
func (w *learnWorld) get(t *testing.T, path string) (int, string) {
	t.Helper()
	return w.do(t, w.learner, http.MethodGet, path, nil)
}

// do sends a request with a session token and an optional form, returning the status and
// the body, or the Location of a redirect.
func (w *learnWorld) do(t *testing.T, token, method, path string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Cookie", "hoctap_session="+token)
	req.Header.Set("Accept", "text/html")
	resp, err := w.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, loc
	}
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

var tagRE = regexp.MustCompile(`<[^>]+>`)

// visible is a page's text without tags, with runs of white space made one space.
func visible(html string) string {
	return strings.Join(strings.Fields(tagRE.ReplaceAllString(html, " ")), " ")
}

func TestLearnerPages(t *testing.T) {
	w := newLearnWorld(t)

	status, body := w.get(t, "/learn")
	if status != http.StatusOK {
		t.Fatalf("/learn: %d\n%s", status, body)
	}
	text := visible(body)
	for _, want := range []string{"Học tập của tôi", "Chuyển đổi số cơ bản", "Lớp K1", "Đã hoàn thành 0/3 bài", "Học tiếp: Giới thiệu"} {
		if !strings.Contains(text, want) {
			t.Errorf("/learn lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(body, `<progress id="p-`+w.classID+`" max="100" value="0"`) {
		t.Errorf("/learn has no progress bar at 0")
	}

	// A text lesson counts as read when opened; its body is escaped, split in paragraphs.
	status, body = w.get(t, "/learn/classes/"+w.classID+"/lessons/"+w.lessons[0].ID)
	if status != http.StatusOK {
		t.Fatalf("text lesson: %d\n%s", status, body)
	}
	if !strings.Contains(body, "<p>Đoạn một &lt;b&gt;in đậm?&lt;/b&gt;</p>") || !strings.Contains(body, "<p>Đoạn hai.</p>") {
		t.Errorf("the text lesson body is not shown escaped in paragraphs:\n%s", body)
	}
	if !strings.Contains(visible(body), "✓ Đã hoàn thành bài này") {
		t.Errorf("opening a text lesson did not complete it:\n%s", visible(body))
	}

	// A PDF lesson records each page the server shows; all three complete it.
	for page := 1; page <= 3; page++ {
		status, body = w.get(t, "/learn/classes/"+w.classID+"/lessons/"+w.lessons[1].ID+"?page="+string(rune('0'+page)))
		if status != http.StatusOK {
			t.Fatalf("pdf page %d: %d", page, status)
		}
		if !strings.Contains(visible(body), "Trang "+string(rune('0'+page))+" / 3") {
			t.Errorf("pdf page %d not shown:\n%s", page, visible(body))
		}
	}
	if !strings.Contains(visible(body), "✓ Đã hoàn thành bài này") {
		t.Errorf("viewing every page did not complete the pdf lesson:\n%s", visible(body))
	}
	if !strings.Contains(visible(body), "Tệp bài giảng chưa sẵn sàng") {
		t.Errorf("with no media service the page should say the file is not ready")
	}
	// A page outside the document shows page 1 and records nothing odd.
	if status, _ := w.get(t, "/learn/classes/"+w.classID+"/lessons/"+w.lessons[1].ID+"?page=99"); status != http.StatusOK {
		t.Errorf("page=99: %d", status)
	}

	// The video lesson loads the heartbeat module.
	status, body = w.get(t, "/learn/classes/"+w.classID+"/lessons/"+w.lessons[2].ID)
	if status != http.StatusOK || !strings.Contains(body, `<script type="module" src="/static/js/player.js?v=`) {
		t.Errorf("video lesson: %d, player module missing", status)
	}

	// The outline ticks the two completed lessons and points to the video next.
	status, body = w.get(t, "/learn/classes/"+w.classID)
	if status != http.StatusOK {
		t.Fatalf("class page: %d", status)
	}
	text = visible(body)
	if n := strings.Count(body, `<li class="done">`); n != 2 {
		t.Errorf("%d lessons ticked, want 2:\n%s", n, text)
	}
	for _, want := range []string{"Chương 1: Tổng quan", "(2/3 bài đã xong)", "Học tiếp: Bài giảng video", "Bài giảng video Bài giảng video"} {
		if !strings.Contains(text, want) {
			t.Errorf("class page lacks %q:\n%s", want, text)
		}
	}

	// Another class's id, or a lesson not in the class, is not found.
	if status, _ := w.get(t, "/learn/classes/000000000000000000000000"); status != http.StatusNotFound {
		t.Errorf("unknown class: %d, want 404", status)
	}
	if status, _ := w.get(t, "/learn/classes/"+w.classID+"/lessons/nope"); status != http.StatusNotFound {
		t.Errorf("unknown lesson: %d, want 404", status)
	}
}

func TestTeachingPages(t *testing.T) {
	w := newLearnWorld(t)
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		return w.do(t, w.admin, http.MethodPost, path, form)
	}

	// Create a course; a taken code is refused on the form.
	status, loc := post("/teach/courses", url.Values{"code": {"LLCT-02"}, "title": {"Lý luận chính trị nâng cao"}, "category": {"ly_luan_chinh_tri"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/teach/courses/") {
		t.Fatalf("creating a course: %d %s", status, loc)
	}
	coursePath := strings.SplitN(loc, "?", 2)[0]
	if status, body := post("/teach/courses", url.Values{"code": {"LLCT-02"}, "title": {"Trùng"}, "category": {"ly_luan_chinh_tri"}}); status != http.StatusConflict || !strings.Contains(body, "Mã khóa học này đã được dùng.") {
		t.Errorf("duplicate course code: %d", status)
	}

	// Publishing an empty course is refused politely.
	if status, body := post(coursePath+"/publish", url.Values{}); status != http.StatusConflict && status != http.StatusUnprocessableEntity {
		t.Errorf("publishing an empty course: %d\n%s", status, visible(body))
	}

	// Two modules, a lesson in the second, then move the second module up.
	for _, title := range []string{"Chương A", "Chương B"} {
		if status, loc := post(coursePath+"/modules", url.Values{"title": {title}}); status != http.StatusSeeOther {
			t.Fatalf("adding module %s: %d %s", title, status, loc)
		}
	}
	_, body := w.do(t, w.admin, http.MethodGet, coursePath, nil)
	moduleIDs := regexp.MustCompile(`id="m-([0-9a-f]+)"`).FindAllStringSubmatch(body, -1)
	if len(moduleIDs) != 2 {
		t.Fatalf("%d modules shown, want 2", len(moduleIDs))
	}
	// A bad lesson (a video without its file) is refused with the field marked.
	if status, body := post(coursePath+"/lessons", url.Values{"module_id": {moduleIDs[1][1]}, "title": {"Video"}, "kind": {"video"}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="media_id-error"`) {
		t.Errorf("a video lesson without media: %d", status)
	}
	if status, loc := post(coursePath+"/lessons", url.Values{"module_id": {moduleIDs[1][1]}, "title": {"Bài đọc B1"}, "kind": {"text"}, "body": {"Nội dung."}}); status != http.StatusSeeOther {
		t.Fatalf("adding a lesson: %d %s", status, loc)
	}
	if status, loc := post(coursePath+"/move", url.Values{"module_id": {moduleIDs[1][1]}, "position": {"0"}}); status != http.StatusSeeOther {
		t.Fatalf("moving a module: %d %s", status, loc)
	}
	_, body = w.do(t, w.admin, http.MethodGet, coursePath, nil)
	if a, b := strings.Index(body, "Chương B"), strings.Index(body, "Chương A"); a < 0 || b < 0 || a > b {
		t.Errorf("after moving up, Chương B should come first")
	}
	// Edit the course's details and the lesson's text.
	if status, loc := post(coursePath+"/edit", url.Values{"code": {"LLCT-02"}, "title": {"Lý luận chính trị (nâng cao)"}, "category": {"ly_luan_chinh_tri"}, "description": {"Cho cán bộ cấp xã."}}); status != http.StatusSeeOther {
		t.Fatalf("editing the course: %d %s", status, loc)
	}
	_, body = w.do(t, w.admin, http.MethodGet, coursePath, nil)
	lessonID := regexp.MustCompile(`id="l-([0-9a-f]+)"`).FindStringSubmatch(body)
	if !strings.Contains(body, "<h1>Lý luận chính trị (nâng cao)</h1>") || lessonID == nil {
		t.Fatalf("the edited title or the lesson is missing:\n%s", visible(body))
	}
	if status, body := w.do(t, w.admin, http.MethodGet, coursePath+"/lessons/"+lessonID[1], nil); status != http.StatusOK || !strings.Contains(body, ">Nội dung.</textarea>") {
		t.Fatalf("lesson edit page: %d\n%s", status, visible(body))
	}
	if status, loc := post(coursePath+"/lessons/"+lessonID[1], url.Values{"title": {"Bài đọc B1 (sửa)"}, "body": {"Nội dung mới."}}); status != http.StatusSeeOther {
		t.Fatalf("saving the lesson: %d %s", status, loc)
	}
	if status, body := post(coursePath+"/lessons/"+lessonID[1], url.Values{"title": {""}, "body": {"x"}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="title-error"`) {
		t.Errorf("a lesson without a title: %d", status)
	}
	if status, loc := post(coursePath+"/publish", url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("publishing: %d %s", status, loc)
	}

	// Open a class and enrol by username list; an unknown name is reported.
	status, loc = post(coursePath+"/classes", url.Values{"name": {"Lớp LLCT K5"}, "starts_on": {"2026-01-05"}, "ends_on": {"2026-03-31"}, "capacity": {"30"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/teach/classes/") {
		t.Fatalf("opening a class: %d %s", status, loc)
	}
	classPath := strings.SplitN(loc, "?", 2)[0]
	status, body = post(classPath+"/enrol", url.Values{"usernames": {"hoc.vien\nkhong.co.ai"}})
	if status != http.StatusOK {
		t.Fatalf("enrolling: %d", status)
	}
	text := visible(body)
	for _, want := range []string{"Đã ghi danh 1 người", "khong.co.ai", "Lê Thị Hoa", "05/01/2026 – 31/03/2026", "0/1"} {
		if !strings.Contains(text, want) {
			t.Errorf("class page after enrolling lacks %q:\n%s", want, text)
		}
	}
	// Enrol by person: find by an unaccented name, tick, enrol (already in: counted).
	_, body = w.do(t, w.admin, http.MethodGet, classPath+"?q=le+thi+hoa", nil)
	m := regexp.MustCompile(`name="user_id" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(visible(body), "Lê Thị Hoa (hoc.vien") {
		t.Fatalf("finding a person to enrol:\n%s", visible(body))
	}
	if status, body := post(classPath+"/enrol", url.Values{"user_id": {m[1]}}); status != http.StatusOK || !strings.Contains(visible(body), "Đã ghi danh 0 người; 1 người đã có trong lớp.") {
		t.Errorf("enrolling a picked person: %d\n%s", status, visible(body))
	}
	// Bad dates are refused on the form.
	if status, body := post(coursePath+"/classes", url.Values{"name": {"X"}, "starts_on": {"05/01/2026"}, "ends_on": {""}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="starts_on-error"`) {
		t.Errorf("bad class dates: %d", status)
	}

	// The classes list shows it; a learner may not see teaching pages.
	if _, body := w.do(t, w.admin, http.MethodGet, "/teach/classes", nil); !strings.Contains(body, "Lớp LLCT K5") {
		t.Errorf("the classes list lacks the new class")
	}
	if status, _ := w.get(t, "/teach/courses"); status != http.StatusForbidden {
		t.Errorf("a learner at /teach/courses: %d, want 403", status)
	}
}

// enrolmentsOf answers assessment's questions about enrolment from the real courses
// service, looking through the classes of the course as an admin.
type enrolmentsOf struct {
	crs   *courses.Service
	admin accounts.Principal
}

func (e enrolmentsOf) IsEnrolledInCourse(ctx context.Context, userID, courseID string) (bool, error) {
	classes, err := e.crs.ListClasses(ctx, e.admin, courses.ClassFilter{CourseID: courseID, Limit: 500})
	if err != nil {
		return false, err
	}
	for _, cl := range classes.Items {
		page, err := e.crs.ListClassEnrolments(ctx, e.admin, cl.ID, courses.EnrolmentFilter{Limit: 500})
		if err != nil {
			return false, err
		}
		for _, en := range page.Items {
			if en.UserID == userID {
				return true, nil
			}
		}
	}
	return false, nil
}

func (e enrolmentsOf) IsTrainerOfCourse(context.Context, string, string) (bool, error) {
	return false, nil
}

func (e enrolmentsOf) LearnersTaughtBy(context.Context, string, string) ([]string, error) {
	return nil, nil
}

func TestQuizPages(t *testing.T) {
	w := newLearnWorld(t)
	ctx := context.Background()
	pts := 2.0
	single, err := w.asm.CreateQuestion(ctx, w.adminP, assessment.QuestionInput{Bank: "Kỹ năng số", Type: assessment.TypeSingle,
		Text: "Cổng dịch vụ công quốc gia là gì?", Points: &pts,
		Choices: []assessment.ChoiceInput{{ID: "a", Text: "dichvucong.gov.vn", Correct: true}, {ID: "b", Text: "Một mạng xã hội"}}})
	if err != nil {
		t.Fatal(err)
	}
	num, err := w.asm.CreateQuestion(ctx, w.adminP, assessment.QuestionInput{Bank: "Kỹ năng số", Type: assessment.TypeNumerical,
		Text: "Một nửa của 5 là bao nhiêu?", Numeric: []assessment.NumericAnswer{{Value: 2.5, Fraction: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	quiz, err := w.asm.CreateQuiz(ctx, w.adminP, assessment.QuizInput{CourseID: w.courseID, Title: "Kiểm tra chương 1", TimeLimitS: 900, MaxAttempts: 2,
		Items: []assessment.Item{{QuestionID: single.ID}, {QuestionID: num.ID}}})
	if err != nil {
		t.Fatal(err)
	}

	_, body := w.get(t, "/learn/classes/"+w.classID)
	if !strings.Contains(body, `href="/learn/quizzes/`+quiz.ID+`"`) {
		t.Fatalf("the class page does not list the quiz:\n%s", visible(body))
	}
	status, body := w.get(t, "/learn/quizzes/"+quiz.ID)
	if status != http.StatusOK || !strings.Contains(visible(body), "Bắt đầu làm bài") || !strings.Contains(visible(body), "15:00") {
		t.Fatalf("quiz page: %d\n%s", status, visible(body))
	}
	status, loc := w.do(t, w.learner, http.MethodPost, "/learn/quizzes/"+quiz.ID+"/start", url.Values{})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/learn/attempts/") {
		t.Fatalf("starting: %d %s", status, loc)
	}
	attemptPath := loc
	status, body = w.get(t, attemptPath)
	if status != http.StatusOK || !strings.Contains(body, `<script type="module" src="/static/js/quiz.js?v=`) || !strings.Contains(body, `data-deadline="`) {
		t.Fatalf("attempt page: %d\n%s", status, body)
	}
	if m := regexp.MustCompile(`id="quiz-timer"[^>]*>(1[45]:[0-5][0-9])<`).FindStringSubmatch(body); m == nil {
		t.Errorf("the countdown does not start near 15:00:\n%s", visible(body))
	}

	// Save without JavaScript: the answers come back checked and filled in.
	form := url.Values{"q_" + single.ID: {"a"}, "q_" + num.ID: {"2,5"}, "action": {"save"}}
	if status, loc := w.do(t, w.learner, http.MethodPost, attemptPath, form); status != http.StatusSeeOther || !strings.HasSuffix(loc, "?saved=1") {
		t.Fatalf("saving: %d %s", status, loc)
	}
	_, body = w.get(t, attemptPath+"?saved=1")
	if !strings.Contains(body, `value="a" checked`) || !strings.Contains(body, `value="2.5"`) || !strings.Contains(visible(body), "Đã lưu câu trả lời.") {
		t.Errorf("saved answers not shown:\n%s", body)
	}

	// Submit: the review shows the score.
	form.Set("action", "submit")
	if status, _ := w.do(t, w.learner, http.MethodPost, attemptPath, form); status != http.StatusSeeOther {
		t.Fatalf("submitting: %d", status)
	}
	_, body = w.get(t, attemptPath)
	if text := visible(body); !strings.Contains(text, "3,0 / 3,0 · 100%") || !strings.Contains(text, "Đạt") || !strings.Contains(text, "Được 2,0/2,0 điểm") {
		t.Errorf("review after submitting:\n%s", text)
	}
	// Submitting again changes nothing and still shows the review.
	if status, _ := w.do(t, w.learner, http.MethodPost, attemptPath, form); status != http.StatusSeeOther {
		t.Errorf("submitting twice: %d", status)
	}
	_, body = w.get(t, "/learn/quizzes/"+quiz.ID)
	if text := visible(body); !strings.Contains(text, "Đã làm 1/2 lần") || !strings.Contains(text, "100%") {
		t.Errorf("quiz page after one attempt:\n%s", text)
	}
}

// ClassRole answers live's membership question from the real courses service.
func (e enrolmentsOf) ClassRole(ctx context.Context, classID, userID string) (string, error) {
	class, err := e.crs.GetClass(ctx, e.admin, classID)
	if err != nil {
		return "", err
	}
	if slices.Contains(class.TrainerIDs, userID) {
		return "trainer", nil
	}
	page, err := e.crs.ListClassEnrolments(ctx, e.admin, classID, courses.EnrolmentFilter{Limit: 500})
	if err != nil {
		return "", err
	}
	for _, en := range page.Items {
		if en.UserID == userID {
			return "learner", nil
		}
	}
	return "", nil
}

func TestLivePages(t *testing.T) {
	w := newLearnWorld(t)
	status, loc := w.do(t, w.admin, http.MethodPost, "/teach/classes/"+w.classID+"/live",
		url.Values{"title": {"Giải đáp chương 1"}, "starts_at": {"2026-02-01T14:00"}, "stream_url": {"https://stream.example/k1"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/live/") {
		t.Fatalf("scheduling a session: %d %s", status, loc)
	}
	roomPath := loc
	if status, body := w.do(t, w.admin, http.MethodPost, "/teach/classes/"+w.classID+"/live", url.Values{"title": {"X"}, "starts_at": {"mai"}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="starts_at-error"`) {
		t.Errorf("a bad start time: %d", status)
	}

	status, body := w.get(t, roomPath)
	if status != http.StatusOK {
		t.Fatalf("learner in the room: %d\n%s", status, body)
	}
	text := visible(body)
	for _, want := range []string{"Giải đáp chương 1", "01/02/2026 14:00", "Mở luồng phát trực tiếp", "Trò chuyện", "Hỏi đáp", "Bình chọn"} {
		if !strings.Contains(text, want) {
			t.Errorf("the room lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(body, `src="/static/js/live.js?v=`) || strings.Contains(body, `id="poll-form"`) {
		t.Errorf("a learner's room should load live.js and have no poll form")
	}
	// The class page lists the session.
	if _, body := w.get(t, "/learn/classes/"+w.classID); !strings.Contains(body, `href="`+roomPath+`"`) {
		t.Errorf("the class page does not list the session")
	}
	// The trainer (here the admin) gets the controls; a learner may not see attendance.
	if _, body := w.do(t, w.admin, http.MethodGet, roomPath, nil); !strings.Contains(body, `id="poll-form"`) || !strings.Contains(body, `data-trainer="true"`) {
		t.Errorf("the trainer's room lacks the poll form")
	}
	if status, _ := w.get(t, roomPath+"/attendance"); status != http.StatusForbidden && status != http.StatusNotFound {
		t.Errorf("a learner reading attendance: %d", status)
	}
	if status, body := w.do(t, w.admin, http.MethodGet, roomPath+"/attendance", nil); status != http.StatusOK || !strings.Contains(visible(body), "Chưa có ai tham gia.") {
		t.Errorf("attendance: %d\n%s", status, visible(body))
	}
	// Ending the session: the room shows it ended and loads no script.
	if status, loc := w.do(t, w.admin, http.MethodPost, roomPath+"/end", url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("ending: %d %s", status, loc)
	}
	if _, body := w.get(t, roomPath); !strings.Contains(visible(body), "đã kết thúc") || strings.Contains(body, "live.js") {
		t.Errorf("an ended room:\n%s", visible(body))
	}
}

func TestFoldEvents(t *testing.T) {
	u := live.UserRef{ID: "u1", FullName: "Nguyễn Văn An"}
	events := []live.Event{
		{Seq: 1, Type: "chat.message", User: u, Text: "Chào cả lớp"},
		{Seq: 2, Type: "chat.message", User: u, Text: "tin nhắn sai"},
		{Seq: 3, Type: "chat.deleted", EventSeq: 2},
		{Seq: 4, Type: "question.asked", QuestionID: "q1", Text: "Hỏi một"},
		{Seq: 5, Type: "question.asked", QuestionID: "q2", Text: "Hỏi hai"},
		{Seq: 6, Type: "question.upvoted", QuestionID: "q2", Upvotes: 3},
		{Seq: 7, Type: "question.asked", QuestionID: "q3", Text: "Hỏi ba"},
		{Seq: 8, Type: "question.upvoted", QuestionID: "q3", Upvotes: 5},
		{Seq: 9, Type: "question.answered", QuestionID: "q3"},
		{Seq: 10, Type: "poll.opened", PollID: "p1", Question: "Đồng ý?", Choices: []string{"Có", "Không"}},
		{Seq: 11, Type: "poll.results", PollID: "p1", Counts: []int{2, 1}, Votes: 3},
		{Seq: 12, Type: "poll.opened", PollID: "p2", Question: "Lần hai?", Choices: []string{"A", "B"}},
		{Seq: 13, Type: "poll.closed", PollID: "p1", Counts: []int{3, 1}, Votes: 4},
		{Seq: 14, Type: "question.upvoted", QuestionID: "missing", Upvotes: 9},
	}
	st := foldEvents(events)
	if st.LastSeq != 14 || st.Ended {
		t.Errorf("LastSeq %d Ended %v", st.LastSeq, st.Ended)
	}
	if len(st.Messages) != 1 || st.Messages[0].Text != "Chào cả lớp" {
		t.Errorf("messages %+v", st.Messages)
	}
	var order []string
	for _, q := range st.Questions {
		order = append(order, q.ID)
	}
	if strings.Join(order, ",") != "q2,q1,q3" { // most upvoted first, answered last
		t.Errorf("question order %v", order)
	}
	if len(st.Polls) != 2 || st.Polls[0].ID != "p2" || !st.Polls[1].Closed || st.Polls[1].Votes != 4 || st.Polls[1].Share(0) != 75 {
		t.Errorf("polls %+v", st.Polls)
	}
	if st.Polls[0].Share(0) != 0 || st.Polls[0].Count(5) != 0 {
		t.Errorf("an empty poll's share and an out-of-range count must be 0")
	}
	if st := foldEvents([]live.Event{{Seq: 1, Type: "slowmode.set", Seconds: 30}, {Seq: 2, Type: "slowmode.set", Seconds: 10}}); st.SlowSeconds != 10 {
		t.Errorf("slow mode folded to %d, want the last one set (10)", st.SlowSeconds)
	}
	if st := foldEvents([]live.Event{{Seq: 1, Type: "slowmode.set", Seconds: 30}, {Seq: 2, Type: "slowmode.set"}}); st.SlowSeconds != 0 {
		t.Errorf("slow mode turned off folded to %d", st.SlowSeconds)
	}
	if !foldEvents([]live.Event{{Seq: 1, Type: "session.ended"}}).Ended {
		t.Error("session.ended not folded")
	}
}

// postMultipart sends a multipart form with one file as the admin.
func (w *learnWorld) postMultipart(t *testing.T, path string, fields map[string]string, file, content string) (int, string) {
	t.Helper()
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", file)
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(buf.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Cookie", "hoctap_session="+w.admin)
	resp, err := w.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestBankPages(t *testing.T) {
	w := newLearnWorld(t)
	bad := "// Chương 1\n::Q1:: Thủ đô của Việt Nam là {=Hà Nội ~Huế}\n\n::Q2:: Câu hỏi hỏng {=A ~B\n"
	status, body := w.postMultipart(t, "/teach/banks/import", map[string]string{"bank": "LLCT", "format": "gift"}, "cau-hoi.gift", bad)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("importing a broken file: %d\n%s", status, visible(body))
	}
	if !regexp.MustCompile(`<tr><td>\d+</td><td>[^<]+</td></tr>`).MatchString(body) {
		t.Errorf("no per-line errors shown:\n%s", visible(body))
	}
	good := "::Q1:: Thủ đô của Việt Nam là {=Hà Nội ~Huế ~Đà Nẵng}\n\n::Q2:: Hiến pháp hiện hành ban hành năm 2013 {T}\n"
	status, body = w.postMultipart(t, "/teach/banks/import", map[string]string{"bank": "LLCT", "format": "gift"}, "cau-hoi.gift", good)
	if status != http.StatusOK || !strings.Contains(visible(body), "Đã nhập 2 câu hỏi") {
		t.Fatalf("importing: %d\n%s", status, visible(body))
	}
	status, body = w.do(t, w.admin, http.MethodGet, "/teach/bank?name=LLCT", nil)
	if status != http.StatusOK || !strings.Contains(visible(body), "Thủ đô của Việt Nam là") || !strings.Contains(visible(body), "2 câu hỏi") {
		t.Fatalf("bank page: %d\n%s", status, visible(body))
	}
	// Export as GIFT: a download holding the questions.
	req := httptest.NewRequest(http.MethodGet, "/teach/bank/export?name=LLCT&format=gift", nil)
	req.Header.Set("Cookie", "hoctap_session="+w.admin)
	resp, err := w.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	export, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(export), "Hà Nội") || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("export: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Disposition"), export)
	}
	// Create a question through the form; a single choice without a correct one is refused.
	status, body = w.do(t, w.admin, http.MethodPost, "/teach/bank/questions", url.Values{"bank": {"LLCT"}, "type": {"single"}, "text": {"Câu không có đáp án đúng"}, "choices": {"A\nB"}})
	if status != http.StatusUnprocessableEntity {
		t.Errorf("a question without a correct choice: %d\n%s", status, visible(body))
	}
	// The same mistake as the first question of a bank that does not exist yet: the form
	// comes back with its error, not a "not found" page.
	status, body = w.do(t, w.admin, http.MethodPost, "/teach/bank/questions", url.Values{"bank": {"Ngân hàng mới"}, "type": {"single"}, "text": {"Câu không có đáp án đúng"}, "choices": {"A\nB"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `name="text"`) {
		t.Errorf("the first question of a new bank, refused: %d\n%s", status, visible(body))
	}
	status, loc := w.do(t, w.admin, http.MethodPost, "/teach/bank/questions", url.Values{"bank": {"LLCT"}, "type": {"single"}, "text": {"Cơ quan quyền lực nhà nước cao nhất?"}, "choices": {"*Quốc hội\nChính phủ"}, "points": {"2"}})
	if status != http.StatusSeeOther {
		t.Fatalf("creating a question: %d %s", status, loc)
	}
	_, body = w.do(t, w.admin, http.MethodGet, "/teach/bank?name=LLCT", nil)
	m := regexp.MustCompile(`href="/teach/questions/([0-9a-f]+)">Cơ quan quyền lực`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the new question is not listed:\n%s", visible(body))
	}
	// Edit it: the form shows the choices as written, and a change is saved.
	_, body = w.do(t, w.admin, http.MethodGet, "/teach/questions/"+m[1], nil)
	if !strings.Contains(body, "*Quốc hội\nChính phủ") {
		t.Errorf("the edit form does not show the choices:\n%s", body)
	}
	if status, loc := w.do(t, w.admin, http.MethodPost, "/teach/questions/"+m[1], url.Values{"type": {"single"}, "text": {"Cơ quan quyền lực nhà nước cao nhất là gì?"}, "choices": {"*Quốc hội\nChính phủ\nTòa án"}, "points": {"2"}}); status != http.StatusSeeOther {
		t.Fatalf("editing: %d %s", status, loc)
	}

	// A quiz drawing 2 questions from the bank, made from the course builder.
	status, loc = w.do(t, w.admin, http.MethodPost, "/teach/courses/"+w.courseID+"/quizzes", url.Values{"title": {"Kiểm tra LLCT"}, "bank": {"LLCT"}, "count": {"2"}, "time_limit_min": {"10"}, "pass_percent": {"50"}, "grading": {"highest"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/teach/quizzes/") {
		t.Fatalf("creating a quiz: %d %s", status, loc)
	}
	status, body = w.do(t, w.admin, http.MethodGet, strings.SplitN(loc, "?", 2)[0], nil)
	if status != http.StatusOK || !strings.Contains(visible(body), "Kiểm tra LLCT") || !strings.Contains(visible(body), "Chưa có ai làm bài.") {
		t.Errorf("quiz results: %d\n%s", status, visible(body))
	}
	if _, body := w.do(t, w.admin, http.MethodGet, "/teach/courses/"+w.courseID, nil); !strings.Contains(body, "Kiểm tra LLCT") {
		t.Errorf("the course builder does not list the quiz")
	}
	// Change the settings: the questions stay, the new limit shows.
	quizPath := strings.SplitN(loc, "?", 2)[0]
	if status, loc := w.do(t, w.admin, http.MethodPost, quizPath+"/settings", url.Values{"title": {"Kiểm tra LLCT (sửa)"}, "time_limit_min": {"20"}, "max_attempts": {"3"}, "pass_percent": {"60"}, "grading": {"last"}, "required": {"1"}}); status != http.StatusSeeOther {
		t.Fatalf("saving settings: %d %s", status, loc)
	}
	_, body = w.do(t, w.admin, http.MethodGet, quizPath, nil)
	if !strings.Contains(body, `value="Kiểm tra LLCT (sửa)"`) || !strings.Contains(body, `name="time_limit_min" type="number" min="0" inputmode="numeric" value="20"`) || !strings.Contains(body, `<option value="last" selected>`) {
		t.Errorf("the saved settings are not shown:\n%s", body)
	}
	if status, _ := w.do(t, w.admin, http.MethodPost, quizPath+"/settings", url.Values{"title": {"X"}, "pass_percent": {"150"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("a pass mark of 150%%: %d", status)
	}
}

// learningOf gives reports the courses service's view, read as an admin, as the server's
// adapter does.
type learningOf struct{ c *courses.Service }

var systemAdmin = accounts.Principal{User: accounts.User{ID: "system", Roles: []accounts.Role{accounts.RoleAdmin}, Active: true}}

func (l learningOf) FindCourse(ctx context.Context, id string) (reports.CourseInfo, error) {
	v, err := l.c.GetCourse(ctx, systemAdmin, id)
	return reports.CourseInfo{ID: v.ID, Code: v.Code, Title: v.Title, Category: string(v.Category)}, err
}

func (l learningOf) FindClass(ctx context.Context, id string) (reports.ClassInfo, error) {
	c, err := l.c.GetClass(ctx, systemAdmin, id)
	return reports.ClassInfo{ID: c.ID, CourseID: c.CourseID, Name: c.Name, StartsAt: c.StartsAt, EndsAt: c.EndsAt, TrainerIDs: c.TrainerIDs}, err
}

func record(e courses.Enrolment) reports.EnrolmentRecord {
	return reports.EnrolmentRecord{ClassID: e.ClassID, CourseID: e.CourseID, ClassStarts: e.StartsAt, UserID: e.UserID, FullName: e.FullName,
		Username: e.Username, UnitID: e.UnitID, Position: e.Position, EnrolledAt: e.EnrolledAt, Percent: e.Progress.Percent,
		Completed: e.Progress.Completed, CompletedAt: e.Progress.CompletedAt}
}

func (l learningOf) ClassEnrolments(ctx context.Context, classID string) ([]reports.EnrolmentRecord, error) {
	page, err := l.c.ListClassEnrolments(ctx, systemAdmin, classID, courses.EnrolmentFilter{Limit: 500})
	var out []reports.EnrolmentRecord
	for _, e := range page.Items {
		out = append(out, record(e))
	}
	return out, err
}

func (l learningOf) CourseEnrolments(ctx context.Context, courseID string) ([]reports.EnrolmentRecord, error) {
	classes, err := l.c.ListClasses(ctx, systemAdmin, courses.ClassFilter{CourseID: courseID, Limit: 500})
	if err != nil {
		return nil, err
	}
	var out []reports.EnrolmentRecord
	for _, c := range classes.Items {
		recs, err := l.ClassEnrolments(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

func (l learningOf) UserEnrolments(ctx context.Context, userID string) ([]reports.EnrolmentRecord, error) {
	learner := accounts.Principal{User: accounts.User{ID: userID, Roles: []accounts.Role{accounts.RoleLearner}, Active: true}}
	page, err := l.c.ListMyEnrolments(ctx, learner, courses.EnrolmentFilter{Limit: 500})
	var out []reports.EnrolmentRecord
	for _, e := range page.Items {
		out = append(out, record(e))
	}
	return out, err
}

func (l learningOf) FindEnrolment(ctx context.Context, classID, userID string) (reports.EnrolmentRecord, error) {
	recs, err := l.UserEnrolments(ctx, userID)
	for _, r := range recs {
		if r.ClassID == classID {
			return r, nil
		}
	}
	if err == nil {
		err = errs.ErrNotFound
	}
	return reports.EnrolmentRecord{}, err
}

func TestReportPages(t *testing.T) {
	w := newLearnWorld(t)
	status, body := w.do(t, w.admin, http.MethodGet, "/reports", nil)
	if status != http.StatusOK || !strings.Contains(visible(body), "Đơn vị chưa có chỉ tiêu nào.") {
		t.Fatalf("empty dashboard: %d\n%s", status, visible(body))
	}
	unitID := regexp.MustCompile(`<option value="([0-9a-f]+)" selected>Xã Tân Lập`).FindStringSubmatch(body)
	if unitID == nil {
		t.Fatalf("the unit picker lacks the unit:\n%s", body)
	}
	// A bad percent is refused on the form; a good target goes to its page.
	if status, body := w.do(t, w.admin, http.MethodPost, "/reports/targets", url.Values{"unit_id": {unitID[1]}, "title": {"X"}, "course_id": {w.courseID}, "metric": {"completed"}, "percent": {"nhiều"}, "due": {"2026-12-31"}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="t-percent-error"`) {
		t.Errorf("a bad percent: %d", status)
	}
	status, loc := w.do(t, w.admin, http.MethodPost, "/reports/targets", url.Values{"unit_id": {unitID[1]}, "title": {"100% cán bộ hoàn thành CĐS"}, "course_id": {w.courseID}, "metric": {"completed"}, "percent": {"100"}, "due": {"2026-12-31"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/reports/targets/") {
		t.Fatalf("creating a target: %d %s", status, loc)
	}
	status, body = w.do(t, w.admin, http.MethodGet, loc, nil)
	text := visible(body)
	if status != http.StatusOK {
		t.Fatalf("target page: %d\n%s", status, text)
	}
	for _, want := range []string{"100% cán bộ hoàn thành CĐS", "0/1 cán bộ = 0%", "Lê Thị Hoa", "Đã đặt chỉ tiêu.", "chỉ tiêu 100% trước 31/12/2026"} {
		if !strings.Contains(text, want) {
			t.Errorf("the target page lacks %q:\n%s", want, text)
		}
	}
	if _, body := w.do(t, w.admin, http.MethodGet, "/reports?unit_id="+unitID[1], nil); !strings.Contains(visible(body), "0/1 cán bộ = 0%") {
		t.Errorf("the dashboard lacks the target's figures:\n%s", visible(body))
	}
	// A learner has no dashboard but a certificates page.
	if status, _ := w.get(t, "/reports"); status != http.StatusForbidden {
		t.Errorf("a learner at /reports: %d", status)
	}
	if status, body := w.get(t, "/certificates"); status != http.StatusOK || !strings.Contains(visible(body), "Bạn chưa có giấy chứng nhận nào.") {
		t.Errorf("certificates: %d\n%s", status, visible(body))
	}
	// The public verification page: an unknown number says so, without signing in.
	req := httptest.NewRequest(http.MethodGet, "/verify/HT-2026-999999", nil)
	resp, err := w.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(visible(string(raw)), "Không có giấy chứng nhận số HT-2026-999999.") {
		t.Errorf("verifying an unknown number: %d\n%s", resp.StatusCode, visible(string(raw)))
	}
}

// TestExpiredSessionOnAForm: a form sent after the session ended goes to the sign-in page,
// which comes back to the page the form was on; a crafted Referer elsewhere is ignored.
func TestExpiredSessionOnAForm(t *testing.T) {
	w := newLearnWorld(t)
	for _, tc := range []struct{ referer, next string }{
		{"http://example.com/learn/attempts/abc?saved=1", "%2Flearn%2Fattempts%2Fabc%3Fsaved%3D1"},
		{"http://evil.example/learn", "%2F"},
		{"", "%2F"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/learn/attempts/abc", strings.NewReader("action=save"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", "hoctap_session=expired-or-revoked")
		req.Header.Set("Accept", "text/html")
		if tc.referer != "" {
			req.Header.Set("Referer", tc.referer)
		}
		resp, err := w.app.Test(req, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/login?expired=1&next="+tc.next {
			t.Errorf("referer %q: %d %q", tc.referer, resp.StatusCode, loc)
		}
	}
}

// testApp mounts a Frontend over deps on a Fiber app as the server does: the session
// cookie signs the caller in through acc, and errors render as pages, an
// internal error failing the test.
func testApp(t *testing.T, acc *accounts.Service, deps Deps) *fiber.App {
	t.Helper()
	deps.Authenticate = func(c *fiber.Ctx) error {
		if tok := c.Cookies("hoctap_session"); tok != "" {
			p, err := acc.Authenticate(c.UserContext(), tok)
			if err != nil {
				return err
			}
			c.Locals("p", p)
		}
		return c.Next()
	}
	deps.Principal = func(c *fiber.Ctx) (accounts.Principal, bool) {
		p, ok := c.Locals("p").(accounts.Principal)
		return p, ok
	}
	deps.SessionToken = func(c *fiber.Ctx) string { return c.Cookies("hoctap_session") }
	deps.SetSession = func(*fiber.Ctx, string, time.Time) {}
	deps.ClearSession = func(*fiber.Ctx) {}
	f := New(deps)
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		status := map[string]int{"not_found": 404, "forbidden": 403, "unauthenticated": 401, "invalid": 422}[errs.Code(err)]
		if status == 0 {
			t.Errorf("internal error: %v", err)
			status = 500
		}
		return f.RenderError(c, status, errs.Code(err), err.Error())
	}})
	f.Mount(app)
	return app
}
