package frontend

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/courses"
	"hoctap/internal/dbtest"
	"hoctap/internal/errs"
)

// learnWorld is the real accounts and courses services on an embedded database, with the
// frontend mounted on a Fiber app whose authentication reads the session cookie the way
// the server's middleware does.
type learnWorld struct {
	app      *fiber.App
	acc      *accounts.Service
	crs      *courses.Service
	learner  string // session token
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
	admin, _ := login("admin", "admin-password-1")
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

	f := New(Deps{
		Accounts: acc, Courses: crs,
		Authenticate: func(c *fiber.Ctx) error {
			if tok := c.Cookies("hoctap_session"); tok != "" {
				p, err := acc.Authenticate(c.UserContext(), tok)
				if err != nil {
					return err
				}
				c.Locals("p", p)
			}
			return c.Next()
		},
		Principal: func(c *fiber.Ctx) (accounts.Principal, bool) {
			p, ok := c.Locals("p").(accounts.Principal)
			return p, ok
		},
		SessionToken: func(c *fiber.Ctx) string { return c.Cookies("hoctap_session") },
		SetSession:   func(*fiber.Ctx, string, time.Time) {},
		ClearSession: func(*fiber.Ctx) {},
	})
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		status := map[string]int{"not_found": 404, "forbidden": 403, "unauthenticated": 401, "invalid": 422}[errs.Code(err)]
		if status == 0 {
			t.Errorf("internal error: %v", err)
			status = 500
		}
		return f.RenderError(c, status, errs.Code(err), err.Error())
	}})
	f.Mount(app)
	return &learnWorld{app: app, acc: acc, crs: crs, learner: token, classID: class.ID, lessons: lessons, courseID: course.ID}
}

// get fetches a page as the learner and returns the status and body.
func (w *learnWorld) get(t *testing.T, path string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Cookie", "hoctap_session="+w.learner)
	req.Header.Set("Accept", "text/html")
	resp, err := w.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
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
