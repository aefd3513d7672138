package frontend

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/assessment"
)

// Assessment is what the quiz pages need of the assessment service (*assessment.Service).
type Assessment interface {
	ListQuizzes(ctx context.Context, actor accounts.Principal, courseID string) ([]assessment.Quiz, error)
	GetQuiz(ctx context.Context, actor accounts.Principal, id string) (assessment.Quiz, error)
	MyAttempts(ctx context.Context, actor accounts.Principal, quizID string) ([]assessment.AttemptSummary, error)
	StartAttempt(ctx context.Context, actor accounts.Principal, quizID string) (assessment.AttemptView, error)
	GetAttempt(ctx context.Context, actor accounts.Principal, attemptID string) (assessment.AttemptView, error)
	SaveAnswers(ctx context.Context, actor accounts.Principal, attemptID string, answers map[string]assessment.Answer) (assessment.SaveResult, error)
	SubmitAttempt(ctx context.Context, actor accounts.Principal, attemptID string) (assessment.Summary, error)
}

func (f *Frontend) mountQuiz(r fiber.Router, signedIn func(fiber.Handler) []fiber.Handler) {
	r.Get("/learn/quizzes/:id", signedIn(f.quizPage)...)
	r.Post("/learn/quizzes/:id/start", signedIn(f.startAttempt)...)
	r.Get("/learn/attempts/:id", signedIn(f.attemptPage)...)
	r.Post("/learn/attempts/:id", signedIn(f.saveAttempt)...)
}

type quizData struct {
	Quiz     assessment.Quiz
	Attempts []assessment.AttemptSummary
	Open     *assessment.AttemptSummary // an attempt in progress
	CanStart bool
}

func (f *Frontend) quizPage(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	ctx := c.UserContext()
	q, err := f.d.Assessment.GetQuiz(ctx, p, c.Params("id"))
	if err != nil {
		return err
	}
	attempts, err := f.d.Assessment.MyAttempts(ctx, p, q.ID)
	if err != nil {
		return err
	}
	d := quizData{Quiz: q, Attempts: attempts}
	for i := range attempts {
		if attempts[i].Status == assessment.StatusOpen {
			d.Open = &attempts[i]
		}
	}
	now := f.d.Now()
	d.CanStart = d.Open == nil && (q.MaxAttempts == 0 || len(attempts) < q.MaxAttempts) &&
		(q.OpensAt == nil || !now.Before(*q.OpensAt)) && (q.ClosesAt == nil || now.Before(*q.ClosesAt))
	v := f.newView(c, "learn")
	v.Data = d
	return f.render(c, "quiz", v)
}

// startAttempt starts (or resumes) an attempt and opens it.
func (f *Frontend) startAttempt(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	a, err := f.d.Assessment.StartAttempt(c.UserContext(), p, c.Params("id"))
	if err != nil {
		if errsIs(err, "conflict") {
			v := f.newView(c, "learn")
			v.Flash, v.Notice = v.T("quiz.cannot_start"), "error"
			c.Status(http.StatusConflict)
			return f.renderError(c, v, "conflict")
		}
		return err
	}
	return c.Redirect("/learn/attempts/"+a.ID, http.StatusSeeOther)
}

type attemptData struct {
	Attempt  assessment.AttemptView
	Quiz     assessment.Quiz
	Open     bool
	Deadline string // RFC 3339 UTC, for the countdown
	Server   string // the server's time when the page was made
	Remain   int    // seconds left when the page was made
	Saved    bool
}

// Picked reports whether choice id is part of the saved answer to question qid.
func (d attemptData) Picked(qid, id string) bool {
	a, ok := d.Attempt.Answers[qid]
	if !ok {
		return false
	}
	return a.Text == id || slices.Contains(a.List, id) || (a.Bool != nil && strconv.FormatBool(*a.Bool) == id)
}

// Text is the saved text or number answer to question qid.
func (d attemptData) Text(qid string) string {
	a := d.Attempt.Answers[qid]
	if a.Number != nil {
		return strconv.FormatFloat(*a.Number, 'f', -1, 64)
	}
	return a.Text
}

// Matched is the option chosen for matching item of question qid.
func (d attemptData) Matched(qid, item string) string { return d.Attempt.Answers[qid].Pairs[item] }

// Rank is the 1-based place given to choice id of an ordering question, or 0.
func (d attemptData) Rank(qid, id string) int {
	return slices.Index(d.Attempt.Answers[qid].List, id) + 1
}

// Seq is 1..n, for rank pickers.
func (d attemptData) Seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// attemptPage shows an open attempt as a form (it works without JavaScript; quiz.js adds
// the countdown and autosave), or a submitted one as its review.
func (f *Frontend) attemptPage(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	ctx := c.UserContext()
	a, err := f.d.Assessment.GetAttempt(ctx, p, c.Params("id"))
	if err != nil {
		return err
	}
	q, err := f.d.Assessment.GetQuiz(ctx, p, a.QuizID)
	if err != nil {
		return err
	}
	v := f.newView(c, "learn")
	d := attemptData{Attempt: a, Quiz: q, Open: a.Status == assessment.StatusOpen, Server: a.ServerTime.UTC().Format(time.RFC3339), Saved: c.Query("saved") != ""}
	if d.Open {
		v.Scripts = []string{"js/quiz.js"}
		if a.Deadline != nil {
			d.Deadline = a.Deadline.UTC().Format(time.RFC3339)
			d.Remain = max(0, int(a.Deadline.Sub(a.ServerTime).Seconds()))
		}
	}
	if d.Saved {
		v.Flash, v.Notice = v.T("quiz.saved_now"), "ok"
	}
	v.Data = d
	return f.render(c, "attempt", v)
}

// saveAttempt saves the form's answers and, when asked, submits the attempt.
func (f *Frontend) saveAttempt(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	ctx, id := c.UserContext(), c.Params("id")
	a, err := f.d.Assessment.GetAttempt(ctx, p, id)
	if err != nil {
		return err
	}
	if a.Status == assessment.StatusOpen {
		answers := answersFromForm(c, a.Questions)
		if _, err := f.d.Assessment.SaveAnswers(ctx, p, id, answers); err != nil && !errsIs(err, "conflict") {
			return err // a conflict means the deadline passed: the server graded what it had
		}
	}
	if c.FormValue("action") != "submit" {
		return c.Redirect("/learn/attempts/"+id+"?saved=1", http.StatusSeeOther)
	}
	if _, err := f.d.Assessment.SubmitAttempt(ctx, p, id); err != nil && !errsIs(err, "conflict") {
		return err
	}
	return c.Redirect("/learn/attempts/"+id, http.StatusSeeOther)
}

// answersFromForm reads each question's field (q_<id>, and q_<id>_<item> for matching and
// ordering) into the answer shapes of the API. An empty field clears the answer.
func answersFromForm(c *fiber.Ctx, questions []assessment.QuestionView) map[string]assessment.Answer {
	args := c.Request().PostArgs()
	out := map[string]assessment.Answer{}
	for _, q := range questions {
		name := "q_" + q.ID
		switch q.Type {
		case assessment.TypeDescription:
			continue
		case assessment.TypeMultiple:
			var ids []string
			for _, v := range args.PeekMulti(name) {
				ids = append(ids, string(v))
			}
			out[q.ID] = assessment.Answer{List: ids, IsList: true}
			if len(ids) == 0 {
				out[q.ID] = assessment.Answer{List: []string{}, IsList: true}
			}
		case assessment.TypeOrdering:
			type ranked struct {
				id   string
				rank int
			}
			var rs []ranked
			for _, ch := range q.Choices {
				if n, err := strconv.Atoi(c.FormValue(name + "_" + ch.ID)); err == nil && n > 0 {
					rs = append(rs, ranked{ch.ID, n})
				}
			}
			if len(rs) == 0 {
				out[q.ID] = assessment.Answer{}
				continue
			}
			slices.SortStableFunc(rs, func(a, b ranked) int { return a.rank - b.rank })
			ids := make([]string, len(rs))
			for i, r := range rs {
				ids[i] = r.id
			}
			out[q.ID] = assessment.Answer{List: ids, IsList: true}
		case assessment.TypeMatching:
			pairs := map[string]string{}
			for _, it := range q.Items {
				if v := c.FormValue(name + "_" + it.ID); v != "" {
					pairs[it.ID] = v
				}
			}
			if len(pairs) == 0 {
				out[q.ID] = assessment.Answer{}
			} else {
				out[q.ID] = assessment.Answer{Pairs: pairs}
			}
		case assessment.TypeNumerical:
			s := strings.TrimSpace(c.FormValue(name))
			if n, ok := parseDecimal(s); ok {
				out[q.ID] = assessment.Answer{Number: &n}
			} else {
				out[q.ID] = assessment.Answer{} // not a number: cleared rather than guessed
			}
		default:
			out[q.ID] = assessment.Answer{Text: strings.TrimSpace(c.FormValue(name))}
		}
	}
	return out
}

// renderError shows the error page for code with the notice already on v.
func (f *Frontend) renderError(c *fiber.Ctx, v *view, code string) error {
	v.Data = errorData{Status: c.Response().StatusCode(), Code: code}
	return f.render(c, "error", v)
}

// quizzesOf lists a course's quizzes for its class page; none when assessment is not wired.
func (f *Frontend) quizzesOf(c *fiber.Ctx, p accounts.Principal, courseID string) ([]assessment.Quiz, error) {
	if f.d.Assessment == nil {
		return nil, nil
	}
	qs, err := f.d.Assessment.ListQuizzes(c.UserContext(), p, courseID)
	if errsIs(err, "forbidden") || errsIs(err, "not_found") {
		return nil, nil
	}
	return qs, err
}

// parseDecimal reads a number written the Vietnamese way (1.234,5) or the English way
// (1234.5).
func parseDecimal(s string) (float64, bool) {
	if strings.Contains(s, ",") {
		s = strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", ".")
	}
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil && s != ""
}
