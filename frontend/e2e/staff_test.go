package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The steps of the staff's jobs, shared by the flows that do them: each fills a form the
// way a person would and checks that the page answered as it should.

// createCourse creates a draft course from the lecturer's course list and leaves the tab
// on its builder.
func (tb *tab) createCourse(code, title string) {
	tb.t.Helper()
	tb.open("/teach/courses")
	tb.fill("#code", code)
	tb.fill("#title", title)
	tb.submit("form[method=post][action='/teach/courses'] button")
	if n := tb.text(".notice"); !strings.Contains(n, "Đã tạo khóa học") {
		tb.t.Fatalf("%s: after creating a course: %q", tb.viewport, n)
	}
}

// addModule adds a module to the course whose builder is open.
func (tb *tab) addModule(title string) {
	tb.t.Helper()
	tb.fill("#module-title", title)
	tb.submit("form[action$='/modules'] button")
}

// uploadLesson adds a lesson of kind (video, pdf, slides) whose file goes straight to
// storage with the progress bar; fields are set before the lesson is saved (e.g. #pages).
func (tb *tab) uploadLesson(title, kind, file string, fields map[string]string) {
	tb.t.Helper()
	tb.fill("#lesson-title", title)
	tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#kind").value = ` + jsString(kind)))
	tb.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}))
	tb.waitFor(`document.querySelector("#media_id").value !== "" || document.querySelector("#upload-status").textContent.includes("thất bại")`)
	if s := tb.text("#upload-status"); s != "Đã tải lên xong." {
		tb.t.Fatalf("%s: upload status %q", tb.viewport, s)
	}
	if v := eval[int](tb, `document.querySelector("#upload-progress").value`); v != 100 {
		tb.t.Errorf("%s: the progress bar shows %d%% after the upload", tb.viewport, v)
	}
	for sel, v := range fields {
		tb.fill(sel, v)
	}
	tb.submit("form[action$='/lessons'] button")
	if o := tb.text("#outline"); !strings.Contains(o, title) {
		tb.t.Fatalf("%s: the outline lacks the lesson %q:\n%s", tb.viewport, title, o)
	}
}

// publish publishes the course whose builder is open.
func (tb *tab) publish() {
	tb.t.Helper()
	tb.submit("form[action$='/publish'] button")
	if n := tb.text(".notice"); !strings.Contains(n, "Đã xuất bản") {
		tb.t.Fatalf("%s: after publishing: %q", tb.viewport, n)
	}
}

// importQuestions imports a GIFT file into a bank from the banks page.
func (tb *tab) importQuestions(bank, file string, want int) {
	tb.t.Helper()
	tb.open("/teach/banks")
	tb.fill("#bank", bank)
	tb.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}))
	tb.submit("form[action='/teach/banks/import'] button")
	if n, w := tb.text(".notice"), "Đã nhập "+strconv.Itoa(want)+" câu hỏi"; !strings.Contains(n, w) {
		tb.t.Fatalf("%s: after importing: %q, want %q", tb.viewport, n, w)
	}
}

// createQuiz sets a quiz drawing count questions from the course's first bank, from the
// course builder that is open, and returns the quiz page's path.
func (tb *tab) createQuiz(title string, count, minutes int) string {
	tb.t.Helper()
	tb.fill("#quiz-title", title)
	tb.fill("#quiz-count", strconv.Itoa(count))
	tb.fill("#quiz-time", strconv.Itoa(minutes))
	tb.submit("form[action$='/quizzes'] button")
	loc := strings.TrimPrefix(tb.location(), baseURL)
	if !strings.HasPrefix(loc, "/teach/quizzes/") {
		tb.t.Fatalf("%s: after creating a quiz the page is %s: %s", tb.viewport, loc, tb.text("main"))
	}
	return loc
}

// openClass opens a class of the published course whose builder is open, and returns
// the class page's path.
func (tb *tab) openClass(name string) string {
	tb.t.Helper()
	tb.fill("#class-name", name)
	tb.fill("#starts_on", "2026-01-05")
	tb.fill("#ends_on", "2027-12-31")
	tb.submit("form[action$='/classes'] button")
	loc := strings.TrimPrefix(tb.location(), baseURL)
	if !strings.HasPrefix(loc, "/teach/classes/") {
		tb.t.Fatalf("%s: after opening a class the page is %s", tb.viewport, loc)
	}
	return loc
}

// enrolUsernames enrols people by username on the class page that is open.
func (tb *tab) enrolUsernames(usernames ...string) {
	tb.t.Helper()
	tb.fill("#usernames", strings.Join(usernames, "\n"))
	tb.submit("form[action$='/enrol']:has(textarea) button")
}

// enrolUnit enrols everyone of a unit and its sub-units on the class page that is open.
func (tb *tab) enrolUnit(unit string) {
	tb.t.Helper()
	selectOption(tb.t, tb, "#unit_id", unit)
	if !eval[bool](tb, `document.querySelector("#subunits").checked`) {
		tb.do(chromedp.Click(chromedp.CSS("#subunits")))
	}
	tb.submit("form[action$='/enrol']:has(#unit_id) button")
}

// TestStaffFlowsOnEveryViewport does the lecturer's job (a course with an uploaded video
// lecture and a quiz, published, a learner given extra time) and the trainer's (a class of
// it opened, a whole unit with its sub-unit enrolled) on a desk computer and on a 360 px
// phone: every page must be usable at both widths, without sideways scrolling.
func TestStaffFlowsOnEveryViewport(t *testing.T) {
	video, err := filepath.Abs("testdata/bai-giang.webm")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gift, broken := filepath.Join(dir, "ngan-hang.gift"), filepath.Join(dir, "hong.gift")
	if err := os.WriteFile(gift, []byte(giftBank), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte("::C1:: Câu tốt {=Đúng ~Sai}\n\n::C2:: Câu hỏng {=A ~%abc%B}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eachViewport(t, func(t *testing.T, lecturer *tab, vp string) {
		code := strings.ToUpper(vp)
		staff := createUnit(t, "Trường Chính trị "+vp, "TCT-"+code, "")
		unit := createUnit(t, "Xã Tân Phú "+vp, "XA-TAN-PHU-"+code, "")
		hamlet := createUnit(t, "Ấp Một "+vp, "AP-MOT-"+code, unit)
		createUser(t, "gv.tp."+vp, "giangvien-pass-1", "Võ Thị Lan", staff, "lecturer")
		createUser(t, "hl.tp."+vp, "huanluyen-pass-1", "Đinh Công Minh", staff, "trainer")
		createUser(t, "hv.tp1."+vp, "hocvien-pass-1", "Bùi Văn An", unit)
		createUser(t, "hv.tp2."+vp, "hocvien-pass-1", "Hồ Thị Bích", hamlet)
		title := "Chuyển đổi số cấp xã (" + vp + ")"
		var coursePath string

		t.Run("lecturer builds and publishes a course with a video and a quiz", func(t *testing.T) {
			tb := lecturer
			tb.t = t
			tb.signIn("gv.tp."+vp, "giangvien-pass-1")
			tb.createCourse("CDS-"+code, title)
			coursePath = strings.TrimPrefix(tb.location(), baseURL)
			tb.checkPage("course-builder-draft")
			tb.addModule("Chương 1: Chính quyền số")
			tb.uploadLesson("Bài giảng video", "video", video, nil)
			if d := tb.text("#outline"); !strings.Contains(d, "0:04") {
				t.Errorf("the outline lacks the video's length 0:04:\n%s", d)
			}
			// A broken file is refused whole, each error on its line in Vietnamese.
			tb.open("/teach/banks")
			tb.fill("#bank", "Chuyển đổi số "+vp)
			tb.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{broken}))
			tb.submit("form[action='/teach/banks/import'] button")
			if row := tb.text("table tbody tr"); row != "3\tTrọng số “abc” không phải là tỉ lệ phần trăm từ -100 đến 100." {
				t.Errorf("the import error row reads %q", row)
			}
			tb.checkPage("banks-errors")
			tb.importQuestions("Chuyển đổi số "+vp, gift, 2)
			tb.checkPage("banks")
			tb.open(coursePath)
			quizPath := tb.createQuiz("Kiểm tra chuyển đổi số", 2, 15)
			tb.checkPage("quiz-results")

			// A learner who needs it gets extra time; the page lists it.
			tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#accommodations").open = true`))
			tb.fill("#a-username", "hv.tp1."+vp)
			tb.fill("#a-time", "10")
			tb.submit("form[action$='/accommodations']:has(#a-username) button")
			if n := tb.text(".notice"); n != "Đã lưu điều chỉnh cho học viên." {
				t.Errorf("after the accommodation: %q", n)
			}
			tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#accommodations").open = true`))
			if row := tb.text("table.accommodations tbody tr"); !strings.Contains(row, "Bùi Văn An") || !strings.Contains(row, "10") {
				t.Errorf("the accommodations list: %q", row)
			}
			// Its buttons are at hand on the screen, not past a sideways scroll.
			if !eval[bool](tb, `(() => { const r = document.querySelector("table.accommodations button").getBoundingClientRect(); return r.left >= 0 && r.right <= document.documentElement.clientWidth; })()`) {
				t.Errorf("the accommodation's remove button is off the screen")
			}
			tb.checkPage("quiz-accommodations")
			// Change it: the link fills the form with the row's figures.
			tb.submit("table.accommodations a[href*='edit_acc=']")
			if v := eval[string](tb, `document.querySelector("#a-username").value + " " + document.querySelector("#a-time").value`); v != "hv.tp1."+vp+" 10" {
				t.Errorf("the change form holds %q", v)
			}
			tb.fill("#a-time", "20")
			tb.submit("form[action$='/accommodations']:has(#a-username) button")
			tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#accommodations").open = true`))
			if row := tb.text("table.accommodations tbody tr"); !strings.Contains(row, "20") {
				t.Errorf("after the change the list shows %q", row)
			}

			tb.open(coursePath)
			tb.publish()
			tb.checkPage("course-builder")
			if q := tb.text("#quizzes-h + ul"); !strings.Contains(q, "Kiểm tra chuyển đổi số") {
				t.Errorf("the builder does not list the quiz: %q (%s)", q, quizPath)
			}
		})
		if t.Failed() {
			return
		}

		t.Run("trainer opens a class and enrols a unit", func(t *testing.T) {
			tb := newTab(t, vp)
			tb.signIn("hl.tp."+vp, "huanluyen-pass-1")
			tb.open("/teach/courses")
			tb.checkPage("courses-trainer")
			tb.open(coursePath)
			classPath := tb.openClass("Lớp Tân Phú K1")
			tb.checkPage("trainer-class-empty")
			tb.enrolUnit("Xã Tân Phú " + vp)
			if n := tb.text(".notice"); !strings.Contains(n, "Đã ghi danh 2 người") {
				t.Errorf("after enrolling the unit: %q", n)
			}
			rows := tb.text("table tbody")
			for _, want := range []string{"Bùi Văn An", "Hồ Thị Bích"} {
				if !strings.Contains(rows, want) {
					t.Errorf("the progress table lacks %s:\n%s", want, rows)
				}
			}
			tb.checkPage("trainer-class")
			tb.open("/teach/classes")
			if !strings.Contains(tb.text("main"), "Lớp Tân Phú K1") {
				t.Errorf("the trainer's classes lack the new class (%s):\n%s", classPath, tb.text("main"))
			}
			tb.checkPage("classes")
		})
	})
}
