package frontend

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"hoctap/assessment"
)

// TestAccommodationsListed: the quiz page lists the accommodations set (name, username,
// extra minutes, extra attempts), its change link fills the form with a row's figures,
// and removing one (both back to zero) takes it off the list.
func TestAccommodationsListed(t *testing.T) {
	w := newLearnWorld(t)
	ctx := context.Background()
	pts := 1.0
	q, err := w.asm.CreateQuestion(ctx, w.adminP, assessment.QuestionInput{Bank: "Kỹ năng số", Type: assessment.TypeSingle, Text: "Câu 1?", Points: &pts,
		Choices: []assessment.ChoiceInput{{ID: "a", Text: "Đúng", Correct: true}, {ID: "b", Text: "Sai"}}})
	if err != nil {
		t.Fatal(err)
	}
	quiz, err := w.asm.CreateQuiz(ctx, w.adminP, assessment.QuizInput{CourseID: w.courseID, Title: "Kiểm tra", MaxAttempts: 1, TimeLimitS: 600,
		Items: []assessment.Item{{QuestionID: q.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	page := "/teach/quizzes/" + quiz.ID
	path := page + "/accommodations"
	_, body := w.do(t, w.admin, http.MethodGet, page, nil)
	if !strings.Contains(visible(body), "Chưa có học viên nào được điều chỉnh.") || strings.Contains(body, `<table class="accommodations`) {
		t.Errorf("before any accommodation the page shows:\n%s", visible(body))
	}

	if status, loc := w.do(t, w.admin, http.MethodPost, path, url.Values{"username": {"hoc.vien"}, "extra_time_min": {"15"}, "extra_attempts": {"2"}}); status != http.StatusSeeOther || !strings.HasSuffix(loc, "?ok=accommodation") {
		t.Fatalf("setting an accommodation: %d %s", status, loc)
	}
	status, body := w.do(t, w.admin, http.MethodGet, page+"?ok=accommodation", nil)
	if status != http.StatusOK {
		t.Fatalf("the quiz page: %d", status)
	}
	table := between(body, `<table class="accommodations stack">`, `</table>`)
	for _, want := range []string{"Lê Thị Hoa", "(hoc.vien)", ">15</td>", ">2</td>", `href="?edit_acc=hoc.vien#accommodations"`, `aria-label="Xóa điều chỉnh của Lê Thị Hoa"`} {
		if !strings.Contains(table, want) {
			t.Errorf("the accommodations table lacks %q:\n%s", want, table)
		}
	}
	if !strings.Contains(body, "Điều chỉnh cho học viên (1)") {
		t.Errorf("the section title does not count the accommodations:\n%s", visible(body))
	}
	// Through the API seconds need not be whole minutes: shown with a decimal.
	if _, err := w.asm.SetAccommodation(ctx, w.adminP, quiz.ID, w.learnerID(t), 90, 2); err != nil {
		t.Fatal(err)
	}
	_, body = w.do(t, w.admin, http.MethodGet, page, nil)
	if table := between(body, `<table class="accommodations stack">`, `</table>`); !strings.Contains(table, ">1,5</td>") {
		t.Errorf("90 s is not shown as 1,5 minutes:\n%s", table)
	}

	// The change link opens the form filled with the row's figures.
	_, body = w.do(t, w.admin, http.MethodGet, page+"?edit_acc=hoc.vien", nil)
	form := between(body, `<details class="card" id="accommodations" open>`, `</details>`)
	for _, want := range []string{`name="username" required maxlength="64" spellcheck="false" autocapitalize="none" value="hoc.vien"`, `name="extra_time_min" type="number" min="0" inputmode="numeric" value="2"`, `name="extra_attempts" type="number" min="0" inputmode="numeric" value="2"`} {
		if !strings.Contains(form, want) {
			t.Errorf("the change form lacks %q:\n%s", want, form)
		}
	}
	// An unknown username in the link fills nothing.
	if _, body = w.do(t, w.admin, http.MethodGet, page+"?edit_acc=khong.co.ai", nil); strings.Contains(body, `id="accommodations" open`) {
		t.Error("an unknown edit_acc opens the form")
	}

	// A learner does not see the page at all.
	if status, _ := w.do(t, w.learner, http.MethodGet, page, nil); status != http.StatusForbidden {
		t.Errorf("a learner on the quiz page: %d, want 403", status)
	}

	// Removing: the row's form posts zeros.
	if status, loc := w.do(t, w.admin, http.MethodPost, path, url.Values{"username": {"hoc.vien"}, "extra_time_min": {"0"}, "extra_attempts": {"0"}}); status != http.StatusSeeOther || !strings.HasSuffix(loc, "?ok=accommodation_removed") {
		t.Fatalf("removing an accommodation: %d %s", status, loc)
	}
	_, body = w.do(t, w.admin, http.MethodGet, page+"?ok=accommodation_removed", nil)
	if v := visible(body); !strings.Contains(v, "Đã xóa điều chỉnh cho học viên.") || !strings.Contains(v, "Chưa có học viên nào được điều chỉnh.") {
		t.Errorf("after removing:\n%s", v)
	}
	if list, err := w.asm.Accommodations(ctx, w.adminP, quiz.ID); err != nil || len(list) != 0 {
		t.Errorf("after removing the service lists %+v (%v)", list, err)
	}
}

// between returns the part of s from the first from to the next to, or "".
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], to)
	if j < 0 {
		return ""
	}
	return s[i : i+j+len(to)]
}

func (w *learnWorld) learnerID(t *testing.T) string {
	t.Helper()
	p, err := w.acc.Authenticate(context.Background(), w.learner)
	if err != nil {
		t.Fatal(err)
	}
	return p.User.ID
}
