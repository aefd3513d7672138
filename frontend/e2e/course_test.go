package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// twoPagePDF is a minimal valid PDF with two pages, for the upload and the page tracking.
const twoPagePDF = "%PDF-1.4\n" +
	"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n" +
	"2 0 obj<</Type/Pages/Kids[3 0 R 4 0 R]/Count 2>>endobj\n" +
	"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n" +
	"4 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n" +
	"trailer<</Root 1 0 R>>\n%%EOF\n"

// giftBank is a small question file in GIFT, as a lecturer exports it from Moodle.
const giftBank = "$CATEGORY: Kỹ năng số/Chương 1\n\n" +
	"::DVC1:: Cổng Dịch vụ công quốc gia có địa chỉ nào? {=dichvucong.gov.vn ~vnexpress.net ~google.com}\n\n" +
	"::DVC2:: Chữ ký số có giá trị pháp lý như chữ ký tay. {T}\n"

// TestCourseFlow follows one course from the lecturer's builder to a learner's completed
// lessons, a quiz with autosave through a dropped connection, and the personnel officer's
// target: the whole job of each role, in the browser, against the real server.
func TestCourseFlow(t *testing.T) {
	unit := createUnit(t, "Phường Bến Nghé", "P-BEN-NGHE", "")
	createUser(t, "gv.thanh", "giangvien-pass-1", "Phạm Văn Thành", unit, "lecturer", "trainer")
	createUser(t, "hv.mai", "hocvien-pass-1", "Trần Thị Mai", unit)

	lecturer := newTab(t, "desktop")
	learner := newTab(t, "phone")
	dir := t.TempDir()
	var classURL, coursePath string

	t.Run("lecturer builds and publishes a course", func(t *testing.T) {
		tb := lecturer
		tb.t = t
		tb.signIn("gv.thanh", "giangvien-pass-1")
		if loc := tb.location(); !strings.HasSuffix(loc, "/teach/courses") {
			t.Fatalf("a lecturer's home is %s", loc)
		}
		tb.checkPage("courses")
		tb.createCourse("CDS-E2E", "Kỹ năng số cho cán bộ cấp xã")
		coursePath = strings.TrimPrefix(tb.location(), baseURL)
		tb.addModule("Chương 1: Dịch vụ công trực tuyến")

		tb.fill("#lesson-title", "Giới thiệu")
		tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#kind").value = "text"`))
		tb.fill("#body", "Dịch vụ công trực tuyến giúp người dân nộp hồ sơ không cần đến cơ quan.\n\nBài này giới thiệu Cổng Dịch vụ công quốc gia.")
		tb.submit("form[action$='/lessons'] button")

		// Upload the PDF straight to MinIO with the progress bar, then add the lesson.
		pdf := filepath.Join(dir, "huong-dan.pdf")
		if err := os.WriteFile(pdf, []byte(twoPagePDF), 0o644); err != nil {
			t.Fatal(err)
		}
		tb.uploadLesson("Hướng dẫn nộp hồ sơ", "pdf", pdf, map[string]string{"#pages": "2"})
		outline := tb.text("#outline")
		if !strings.Contains(outline, "Giới thiệu") || !strings.Contains(outline, "Hướng dẫn nộp hồ sơ") {
			t.Fatalf("the outline lacks the lessons:\n%s", outline)
		}

		// Reorder: move the PDF lesson up, then back down.
		tb.submit("#outline ol.lessons li:nth-child(2) button[aria-label^='Chuyển lên']")
		if first := tb.text("#outline ol.lessons li:first-child .grow"); !strings.HasPrefix(first, "Hướng dẫn nộp hồ sơ") {
			t.Errorf("after moving up the first lesson is %q", first)
		}
		tb.submit("#outline ol.lessons li:first-child button[aria-label^='Chuyển xuống']")

		tb.publish()
		tb.checkPage("course-builder")

		// Open a class and enrol the learner by username.
		classURL = tb.openClass("Lớp Bến Nghé K1")
		tb.enrolUsernames("hv.mai", "khong.ton.tai")
		if n := tb.text(".notice"); !strings.Contains(n, "Đã ghi danh 1 người") {
			t.Errorf("after enrolling: %q", n)
		}
		if !strings.Contains(tb.text("main"), "khong.ton.tai") {
			t.Error("an unknown username is not reported")
		}
		if rows := tb.text("table tbody"); !strings.Contains(rows, "Trần Thị Mai") {
			t.Errorf("the progress table lacks the learner: %q", rows)
		}
		tb.checkPage("trainer-class")
	})
	if t.Failed() {
		return
	}

	t.Run("learner studies on a phone", func(t *testing.T) {
		tb := learner
		tb.t = t
		tb.signIn("hv.mai", "hocvien-pass-1")
		if h := tb.text("h1"); h != "Học tập của tôi" {
			t.Fatalf("learner home %q", h)
		}
		card := tb.text(".class-card")
		for _, want := range []string{"Kỹ năng số cho cán bộ cấp xã", "Lớp Bến Nghé K1", "05/01/2026 – 31/12/2027", "Đã hoàn thành 0/2 bài", "Học tiếp: Giới thiệu"} {
			if !strings.Contains(card, want) {
				t.Errorf("the dashboard card lacks %q:\n%s", want, card)
			}
		}
		// The dashboard is light: under 100 KB over the wire, media excluded.
		bytes := eval[int](tb, `(() => {
			const nav = performance.getEntriesByType("navigation")[0];
			return nav.transferSize + performance.getEntriesByType("resource").reduce((n, r) => n + r.transferSize, 0);
		})()`)
		if bytes <= 0 || bytes > 100_000 {
			t.Errorf("the learner dashboard weighs %d bytes over the wire", bytes)
		}
		tb.checkPage("learn")

		tb.submit(".class-card a.button")
		if s := tb.text("#lesson-status"); s != "✓ Đã hoàn thành bài này" {
			t.Errorf("a text lesson is not completed on opening: %q", s)
		}
		tb.checkPage("lesson-text")

		tb.submit("a[rel=next]") // the next lesson: the PDF, page 1
		if p := tb.text(".pager span"); p != "Trang 1 / 2" {
			t.Errorf("the PDF pager shows %q", p)
		}
		tb.checkPage("lesson-pdf")
		tb.submit(".pager a[rel=next]")
		if s := tb.text("#lesson-status"); s != "✓ Đã hoàn thành bài này" {
			t.Errorf("seeing every page did not complete the PDF lesson: %q", s)
		}
		tb.submit(".crumbs a")
		if n := eval[int](tb, `document.querySelectorAll("ol.lessons li.done").length`); n != 2 {
			t.Errorf("%d lessons ticked, want 2", n)
		}
		if !strings.Contains(tb.text("main"), "Bạn đã hoàn thành khóa học này.") {
			t.Errorf("the class page does not say the course is completed:\n%s", tb.text("main"))
		}
		tb.checkPage("class")
	})
	if t.Failed() {
		return
	}

	var quizURL string
	t.Run("lecturer imports questions and sets a quiz", func(t *testing.T) {
		tb := lecturer
		tb.t = t
		gift := filepath.Join(dir, "ngan-hang.gift")
		if err := os.WriteFile(gift, []byte(giftBank), 0o644); err != nil {
			t.Fatal(err)
		}
		tb.importQuestions("Kỹ năng số", gift, 2)
		tb.checkPage("banks")
		tb.open(coursePath)
		quizURL = tb.createQuiz("Kiểm tra chương 1", 2, 10)
		tb.checkPage("quiz-results")
	})
	if t.Failed() {
		return
	}

	t.Run("learner takes the quiz through a dropped connection", func(t *testing.T) {
		tb := learner
		tb.t = t
		tb.open("/learn")
		tb.submit("main a[href^='/learn/classes/']")
		tb.submit("a[href^='/learn/quizzes/']")
		tb.checkPage("quiz")
		tb.submit("form[action$='/start'] button")
		if timer := tb.text("#quiz-timer"); !strings.HasPrefix(timer, "10:") && !strings.HasPrefix(timer, "9:") {
			t.Errorf("the countdown shows %q", timer)
		}
		// Answer: autosave shows the saved state.
		tb.do(chromedp.Click(chromedp.CSS(`input[type=radio][value]`)))
		tb.waitFor(`document.querySelector("#quiz-save").textContent.startsWith("Đã lưu lúc")`)
		tb.checkPage("attempt")

		// The connection drops: the page warns and keeps the answer.
		offline := func(off bool) {
			_, err := chromedp.Call(tb.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
				MatchedNetworkConditions: []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := chromedp.Call(tb.ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		offline(true)
		tb.do(chromedp.Evaluate[chromedp.Void](`(() => {
			const radios = [...document.querySelectorAll("fieldset[data-qid]")].map(f => f.querySelectorAll("input[type=radio]"));
			const last = radios[radios.length - 1];
			last[last.length - 1].click();
		})()`))
		tb.waitFor(`document.querySelector("#quiz-save").classList.contains("offline")`)
		if w := tb.text("#quiz-save"); !strings.HasPrefix(w, "Mất kết nối!") {
			t.Errorf("the offline warning is %q", w)
		}
		if kept := eval[string](tb, `localStorage.getItem("hoctap.attempt." + document.querySelector("#quiz-bar").dataset.attempt) || ""`); kept == "" {
			t.Error("the answers are not kept in localStorage while offline")
		}
		tb.screenshot("attempt-offline")
		offline(false)
		tb.do(chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new Event("online"))`))
		tb.waitFor(`document.querySelector("#quiz-save").textContent.startsWith("Đã lưu lúc")`)

		// Submit and review.
		tb.submit("#quiz-submit")
		if !strings.Contains(tb.text("main"), "Kết quả") {
			t.Errorf("no result after submitting:\n%s", tb.text("main"))
		}
		tb.checkPage("attempt-review")
	})
	if t.Failed() {
		return
	}

	t.Run("completion issued the certificate and the learner finds hers", func(t *testing.T) {
		tb := lecturer
		tb.t = t
		tb.open(strings.TrimPrefix(classURL, baseURL))
		tb.submit("form[action$='/certificates'] button")
		// Completing the class issued it already: the trainer's catch-up finds nothing to do.
		if n := tb.text(".notice"); n != "Đã cấp 0 giấy chứng nhận." {
			t.Errorf("after issuing: %q", n)
		}
		lb := learner
		lb.t = t
		lb.open("/certificates")
		if c := lb.text("main"); !strings.Contains(c, "Kỹ năng số cho cán bộ cấp xã") || !strings.Contains(c, "Tải bản PDF") {
			t.Errorf("the learner's certificates:\n%s", c)
		}
		lb.checkPage("certificates")

		// Anyone holding the paper checks its number on the public page.
		number := regexp.MustCompile(`Số (\S+)`).FindStringSubmatch(lb.text("main"))
		if number == nil {
			t.Fatalf("no certificate number shown:\n%s", lb.text("main"))
		}
		anon := newTab(t, "phone")
		anon.open("/verify/" + number[1])
		if v := anon.text("main"); !strings.Contains(v, "Giấy chứng nhận hợp lệ.") || !strings.Contains(v, "Trần Thị Mai") {
			t.Errorf("the verification page:\n%s", v)
		}
		anon.checkPage("verify")
	})

	t.Run("staff pages work on a 360 px phone", func(t *testing.T) {
		tb := newTab(t, "phone")
		tb.signIn("gv.thanh", "giangvien-pass-1")
		for _, page := range []struct{ name, path string }{
			{"courses", "/teach/courses"},
			{"classes", "/teach/classes"},
			{"trainer-class", strings.TrimPrefix(classURL, baseURL)},
			{"banks", "/teach/banks"},
			{"quiz-results", strings.TrimPrefix(quizURL, baseURL)},
		} {
			tb.open(page.path)
			tb.checkPage(page.name)
		}
		tb.open(coursePath)
		tb.checkPage("course-builder")
	})

	t.Run("personnel officer sets a target and reads the dashboard", func(t *testing.T) {
		tb := newTab(t, "desktop")
		tb.signIn("admin", adminPassword)
		tb.open("/reports")
		selectOption(t, tb, "#t-unit", "Phường Bến Nghé")
		selectOption(t, tb, "#t-course", "Kỹ năng số cho cán bộ cấp xã")
		tb.fill("#t-title", "100% cán bộ phường hoàn thành kỹ năng số")
		tb.fill("#t-percent", "100")
		tb.fill("#t-due", "2027-06-30")
		tb.submit("form[action='/reports/targets'] button")
		if n := tb.text(".notice"); n != "Đã đặt chỉ tiêu." {
			t.Fatalf("after setting a target: %q\n%s", n, tb.text("main"))
		}
		if fig := tb.text(".progress-row strong"); fig != "1/2 cán bộ = 50%" {
			t.Errorf("target figures %q, want 1/2 cán bộ = 50%% (the learner done, the lecturer not)", fig)
		}
		tb.checkPage("target")
		tb.open("/reports")
		selectOption(t, tb, "#unit_id", "Phường Bến Nghé")
		tb.submit("form[action='/reports'] button")
		if !strings.Contains(tb.text("main"), "100% cán bộ phường hoàn thành kỹ năng số") {
			t.Errorf("the dashboard lacks the target:\n%s", tb.text("main"))
		}
		tb.checkPage("dashboard")
	})

	t.Run("personnel officer reads the dashboard on a 360 px phone", func(t *testing.T) {
		tb := newTab(t, "phone")
		tb.signIn("admin", adminPassword)
		tb.open("/reports")
		tb.checkPage("reports")
		selectOption(t, tb, "#unit_id", "Phường Bến Nghé")
		tb.submit("form[action='/reports'] button")
		if m := tb.text("main"); !strings.Contains(m, "100% cán bộ phường hoàn thành kỹ năng số") || !strings.Contains(m, "50%") {
			t.Errorf("the dashboard on a phone lacks the target or its 50%%:\n%s", m)
		}
		tb.checkPage("dashboard")
	})
}
