package frontend

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/assessment"
	"hoctap/assessment/importer"
	"hoctap/internal/errs"
)

// Authoring is what the question-bank and quiz-management pages need of the assessment
// service (*assessment.Service has it).
type Authoring interface {
	ListBanks(ctx context.Context, actor accounts.Principal) ([]assessment.Bank, error)
	ListQuestions(ctx context.Context, actor accounts.Principal, f assessment.QuestionFilter) (accounts.Page[assessment.Question], error)
	GetQuestion(ctx context.Context, actor accounts.Principal, id string) (assessment.Question, error)
	CreateQuestion(ctx context.Context, actor accounts.Principal, in assessment.QuestionInput) (assessment.Question, error)
	UpdateQuestion(ctx context.Context, actor accounts.Principal, id string, in assessment.QuestionInput) (assessment.Question, error)
	ImportQuestions(ctx context.Context, actor accounts.Principal, req assessment.ImportRequest) (assessment.ImportResult, error)
	ExportBank(ctx context.Context, actor accounts.Principal, bank string, format importer.Format, category string) ([]byte, error)
	ListQuizzes(ctx context.Context, actor accounts.Principal, courseID string) ([]assessment.Quiz, error)
	CreateQuiz(ctx context.Context, actor accounts.Principal, in assessment.QuizInput) (assessment.Quiz, error)
	GetQuiz(ctx context.Context, actor accounts.Principal, id string) (assessment.Quiz, error)
	QuizResults(ctx context.Context, actor accounts.Principal, quizID string) (assessment.QuizResults, error)
	PendingEssays(ctx context.Context, actor accounts.Principal, quizID string) ([]assessment.PendingEssay, error)
	GradeEssay(ctx context.Context, actor accounts.Principal, attemptID, questionID string, score float64, comment string) (assessment.Result, error)
	UpdateQuiz(ctx context.Context, actor accounts.Principal, id string, in assessment.QuizInput) (assessment.Quiz, error)
	ShareBank(ctx context.Context, actor accounts.Principal, name string, lecturerIDs []string) (assessment.Bank, error)
	SetAccommodation(ctx context.Context, actor accounts.Principal, quizID, userID string, extraTimeS, extraAttempts int) (assessment.Accommodation, error)
	Accommodations(ctx context.Context, actor accounts.Principal, quizID string) ([]assessment.Accommodation, error)
}

// maxQuestionFile bounds an imported question file (the server's body limit is larger).
const maxQuestionFile = 8 << 20

func (f *Frontend) mountBanks(r fiber.Router, signedIn func(fiber.Handler) []fiber.Handler) {
	r.Get("/teach/banks", signedIn(f.banksPage)...)
	r.Post("/teach/banks/import", signedIn(f.importQuestions)...)
	r.Get("/teach/bank", signedIn(f.bankPage)...)
	r.Get("/teach/bank/export", signedIn(f.exportBank)...)
	r.Post("/teach/bank/questions", signedIn(f.createQuestion)...)
	r.Get("/teach/questions/:id", signedIn(f.questionPage)...)
	r.Post("/teach/questions/:id", signedIn(f.updateQuestion)...)
	r.Post("/teach/courses/:id/quizzes", signedIn(f.createQuiz)...)
	r.Get("/teach/quizzes/:id", signedIn(f.quizResultsPage)...)
	r.Post("/teach/quizzes/:id/grade", signedIn(f.gradeEssay)...)
	r.Post("/teach/quizzes/:id/settings", signedIn(f.updateQuizSettings)...)
	r.Post("/teach/bank/share", signedIn(f.shareBank)...)
	r.Post("/teach/quizzes/:id/accommodations", signedIn(f.setAccommodation)...)
}

// Formats are the question file formats, for pickers.
var formats = []importer.Format{importer.GIFT, importer.Aiken, importer.MoodleXML}

type banksData struct {
	Banks   []assessment.Bank
	Formats []importer.Format
	Result  *assessment.ImportResult
	Bank    string
}

func (f *Frontend) banksPage(c *fiber.Ctx) error {
	return f.renderBanks(c, f.newView(c, "banks"), nil)
}

func (f *Frontend) renderBanks(c *fiber.Ctx, v *view, res *assessment.ImportResult) error {
	p, _ := f.d.Principal(c)
	banks, err := f.d.Authoring.ListBanks(c.UserContext(), p)
	if err != nil {
		return err
	}
	v.Data = banksData{Banks: banks, Formats: formats, Result: res, Bank: v.Val("bank")}
	return f.render(c, "banks", v)
}

// importQuestions reads a GIFT, Aiken or Moodle XML file into a bank and shows each
// rejected question's line and reason.
func (f *Frontend) importQuestions(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	v := f.newView(c, "banks")
	v.Form = formValues(c, "bank", "format", "keep_valid")
	req := assessment.ImportRequest{Bank: strings.TrimSpace(c.FormValue("bank")), Format: importer.Format(c.FormValue("format")), KeepValid: c.FormValue("keep_valid") != ""}
	var fields errs.Fields
	fields.Check(req.Bank == "", "bank", "is required")
	fields.Check(!req.Format.Valid(), "format", "is required")
	fh, err := c.FormFile("file")
	fields.Check(err != nil, "file", "is required")
	if err == nil {
		fields.Check(fh.Size > maxQuestionFile, "file", "is too long")
	}
	if err := fields.Err(); err != nil {
		status, _ := v.formFailed(err, "error.conflict.text")
		c.Status(status)
		return f.renderBanks(c, v, nil)
	}
	file, err := fh.Open()
	if err != nil {
		return fmt.Errorf("opening the uploaded question file: %w", err)
	}
	defer file.Close()
	if req.Data, err = io.ReadAll(io.LimitReader(file, maxQuestionFile)); err != nil {
		return fmt.Errorf("reading the uploaded question file: %w", err)
	}
	res, err := f.d.Authoring.ImportQuestions(c.UserContext(), p, req)
	if err != nil {
		status, ok := v.formFailed(err, "error.conflict.text")
		if !ok {
			return err
		}
		c.Status(status)
		return f.renderBanks(c, v, nil)
	}
	if len(res.Errors) == 0 {
		v.Flash, v.Notice = v.T("banks.imported", res.Imported, res.Duplicates), "ok"
	} else {
		v.Flash, v.Notice = v.T("banks.import_errors", len(res.Errors), res.Imported), "error"
		c.Status(http.StatusUnprocessableEntity)
	}
	return f.renderBanks(c, v, &res)
}

type bankData struct {
	Bank      string
	Questions []assessment.Question
	Total     int
	Formats   []importer.Format
	Types     []assessment.Type
	// CanShare is true for admins, who choose the lecturers a bank is shared with;
	// SharedWith is their usernames.
	CanShare   bool
	SharedWith []string
}

// BankURL is the page of a bank.
func (v *view) BankURL(name string) string { return "/teach/bank?name=" + url.QueryEscape(name) }

// ExportURL is the download of a bank in a format.
func (v *view) ExportURL(name string, format importer.Format) string {
	return "/teach/bank/export?name=" + url.QueryEscape(name) + "&format=" + url.QueryEscape(string(format))
}

// TypeName is the translated name of a question type.
func (v *view) TypeName(t assessment.Type) string { return v.T("qtype." + string(t)) }

// FormatName is the display name of a question file format.
func (v *view) FormatName(f importer.Format) string { return v.T("format." + string(f)) }

var authoredTypes = []assessment.Type{assessment.TypeSingle, assessment.TypeMultiple, assessment.TypeTrueFalse,
	assessment.TypeShortAnswer, assessment.TypeNumerical, assessment.TypeMatching, assessment.TypeOrdering, assessment.TypeEssay}

func (f *Frontend) bankPage(c *fiber.Ctx) error {
	return f.renderBank(c, f.newView(c, "banks"), c.Query("name"))
}

func (f *Frontend) renderBank(c *fiber.Ctx, v *view, name string) error {
	p, _ := f.d.Principal(c)
	page, err := f.d.Authoring.ListQuestions(c.UserContext(), p, assessment.QuestionFilter{Bank: name, Limit: 500})
	// A new bank exists once its first question is stored: when that first question was
	// refused, show the form with its error on an empty bank rather than "not found".
	if err != nil && !(v.Form != nil && errsIs(err, "not_found")) {
		return err
	}
	if c.Query("ok") == "saved" && v.Flash == "" {
		v.Flash, v.Notice = v.T("flash.saved"), "ok"
	}
	d := bankData{Bank: name, Questions: page.Items, Total: page.Total, Formats: []importer.Format{importer.GIFT, importer.MoodleXML}, Types: authoredTypes}
	if p.Has(accounts.RoleAdmin) {
		d.CanShare = true
		if d.SharedWith, err = f.bankSharing(c, p, name); err != nil {
			return err
		}
	}
	v.Data = d
	return f.render(c, "bank", v)
}

// exportBank downloads a bank as GIFT or Moodle XML.
func (f *Frontend) exportBank(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	format := importer.Format(c.Query("format"))
	data, err := f.d.Authoring.ExportBank(c.UserContext(), p, c.Query("name"), format, c.Query("category"))
	if err != nil {
		return err
	}
	ext, ct := ".gift.txt", "text/plain; charset=utf-8"
	if format == importer.MoodleXML {
		ext, ct = ".xml", "application/xml; charset=utf-8"
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="bank`+ext+`"; filename*=UTF-8''`+url.PathEscape(c.Query("name")+ext))
	return c.Send(data)
}

// questionInput builds a question from the form. Choices are one per line; a line that
// starts with "*" is a correct one (for true/false, "*true" or "*false"); short answers
// are accepted answers one per line; numerical takes the value and tolerance.
func questionInput(c *fiber.Ctx, bank string) (assessment.QuestionInput, error) {
	in := assessment.QuestionInput{
		Bank: bank, Category: strings.TrimSpace(c.FormValue("category")), Type: assessment.Type(c.FormValue("type")),
		Text: strings.TrimSpace(c.FormValue("text")), Feedback: strings.TrimSpace(c.FormValue("feedback")),
	}
	var fields errs.Fields
	if s := strings.TrimSpace(c.FormValue("points")); s != "" {
		n, ok := parseDecimal(s)
		fields.Check(!ok || n < 0, "points", "is not a whole number")
		in.Points = &n
	}
	lines := nonEmptyLines(c.FormValue("choices"))
	switch in.Type {
	case assessment.TypeSingle, assessment.TypeMultiple:
		for i, l := range lines {
			correct := strings.HasPrefix(l, "*")
			in.Choices = append(in.Choices, assessment.ChoiceInput{ID: strconv.Itoa(i + 1), Text: strings.TrimSpace(strings.TrimPrefix(l, "*")), Correct: correct})
		}
	case assessment.TypeTrueFalse:
		ans := "true"
		for _, l := range lines {
			if strings.HasPrefix(l, "*") {
				ans = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(l, "*")))
			}
		}
		fields.Check(ans != "true" && ans != "false", "choices", "is required")
		in.Answers = []assessment.AcceptedAnswer{{Text: ans, Fraction: 1}}
	case assessment.TypeShortAnswer:
		for _, l := range lines {
			in.Answers = append(in.Answers, assessment.AcceptedAnswer{Text: strings.TrimPrefix(l, "*"), Fraction: 1})
		}
	case assessment.TypeOrdering:
		// The lines in the correct order; attempts show them shuffled.
		for i, l := range lines {
			in.Choices = append(in.Choices, assessment.ChoiceInput{ID: strconv.Itoa(i + 1), Text: l})
		}
	case assessment.TypeMatching:
		// "left = right" per line; "= right" alone is a distractor.
		for i, l := range lines {
			left, right, ok := strings.Cut(l, "=")
			left, right = strings.TrimSpace(left), strings.TrimSpace(right)
			if !ok || right == "" {
				fields.Add("choices", fmt.Sprintf("needs left = right on each line (line %d)", i+1))
				break
			}
			in.Pairs = append(in.Pairs, assessment.Pair{ID: strconv.Itoa(i + 1), Left: left, Right: right})
		}
	case assessment.TypeNumerical:
		val, ok := parseDecimal(strings.TrimSpace(c.FormValue("value")))
		fields.Check(!ok, "value", "is not a whole number")
		tol, _ := parseDecimal(strings.TrimSpace(c.FormValue("tolerance")))
		in.Numeric = []assessment.NumericAnswer{{Value: val, Tolerance: tol, Fraction: 1}}
	}
	return in, fields.Err()
}

func nonEmptyLines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

var questionFields = []string{"type", "category", "text", "choices", "points", "feedback", "value", "tolerance"}

func (f *Frontend) createQuestion(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	bank := strings.TrimSpace(c.FormValue("bank"))
	in, err := questionInput(c, bank)
	if err == nil {
		if _, err = f.d.Authoring.CreateQuestion(c.UserContext(), p, in); err == nil {
			return c.Redirect("/teach/bank?name="+url.QueryEscape(bank)+"&ok=saved", http.StatusSeeOther)
		}
	}
	v := f.newView(c, "banks")
	status, ok := v.formFailed(err, "error.conflict.text")
	if !ok {
		return err
	}
	v.Form = formValues(c, questionFields...)
	c.Status(status)
	return f.renderBank(c, v, bank)
}

type questionData struct {
	Question assessment.Question
	Choices  string // the choices as the form writes them
	Value    string
	Tol      string
}

// questionPage edits a bank question; attempts keep the version they were given.
func (f *Frontend) questionPage(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	q, err := f.d.Authoring.GetQuestion(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	v := f.newView(c, "banks")
	v.Data = questionFormData(q)
	return f.render(c, "question", v)
}

func questionFormData(q assessment.Question) questionData {
	d := questionData{Question: q}
	var lines []string
	switch q.Type {
	case assessment.TypeTrueFalse:
		for _, a := range q.Answers {
			if a.Fraction > 0 {
				lines = append(lines, "*"+a.Text)
			}
		}
	case assessment.TypeShortAnswer:
		for _, a := range q.Answers {
			lines = append(lines, a.Text)
		}
	case assessment.TypeOrdering:
		for _, ch := range q.Choices {
			lines = append(lines, ch.Text)
		}
	case assessment.TypeMatching:
		for _, p := range q.Pairs {
			if p.Left == "" {
				lines = append(lines, "= "+p.Right)
			} else {
				lines = append(lines, p.Left+" = "+p.Right)
			}
		}
	case assessment.TypeNumerical:
		if len(q.Numeric) > 0 {
			d.Value = strconv.FormatFloat(q.Numeric[0].Value, 'f', -1, 64)
			d.Tol = strconv.FormatFloat(q.Numeric[0].Tolerance, 'f', -1, 64)
		}
	default:
		for _, ch := range q.Choices {
			prefix := ""
			if ch.Fraction > 0 {
				prefix = "*"
			}
			lines = append(lines, prefix+ch.Text)
		}
	}
	d.Choices = strings.Join(lines, "\n")
	return d
}

func (f *Frontend) updateQuestion(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	ctx := c.UserContext()
	q, err := f.d.Authoring.GetQuestion(ctx, p, c.Params("id"))
	if err != nil {
		return err
	}
	in, err := questionInput(c, q.Bank)
	if err == nil {
		in.Version, in.Tags, in.Title, in.Format = q.Version, q.Tags, q.Title, q.Format
		if _, err = f.d.Authoring.UpdateQuestion(ctx, p, q.ID, in); err == nil {
			return c.Redirect("/teach/bank?name="+url.QueryEscape(q.Bank)+"&ok=saved", http.StatusSeeOther)
		}
	}
	v := f.newView(c, "banks")
	status, ok := v.formFailed(err, "banks.edited_meanwhile")
	if !ok {
		return err
	}
	d := questionFormData(q)
	d.Choices, d.Value, d.Tol = c.FormValue("choices"), c.FormValue("value"), c.FormValue("tolerance")
	q.Text, q.Feedback = c.FormValue("text"), c.FormValue("feedback")
	d.Question = q
	v.Data = d
	c.Status(status)
	return f.render(c, "question", v)
}

// createQuiz adds a quiz to a course from the course builder: questions drawn at random
// from a bank for each attempt.
func (f *Frontend) createQuiz(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	var fields errs.Fields
	count := formInt(c, "count", &fields)
	in := quizSettings(c, &fields)
	in.CourseID = c.Params("id")
	in.Items = []assessment.Item{{Random: &assessment.RandomDraw{Bank: strings.TrimSpace(c.FormValue("bank")), Count: count}}}
	err := fields.Err()
	if err == nil {
		var q assessment.Quiz
		if q, err = f.d.Authoring.CreateQuiz(c.UserContext(), p, in); err == nil {
			return c.Redirect("/teach/quizzes/"+q.ID+"?ok=quiz_created", http.StatusSeeOther)
		}
	}
	v := f.newView(c, "courses")
	status, ok := v.formFailed(err, "error.conflict.text")
	if !ok {
		return err
	}
	v.Form = formValues(c, "title", "description", "time_limit_min", "max_attempts", "pass_percent", "bank", "count", "opens_at", "closes_at", "grading")
	c.Status(status)
	return f.renderBuilder(c, v, p)
}

// quizSettings reads a quiz's settings from its form (everything but the course and the
// questions).
func quizSettings(c *fiber.Ctx, fields *errs.Fields) assessment.QuizInput {
	in := assessment.QuizInput{
		Title: c.FormValue("title"), Description: c.FormValue("description"),
		TimeLimitS: formInt(c, "time_limit_min", fields) * 60, MaxAttempts: formInt(c, "max_attempts", fields),
		Shuffle: c.FormValue("shuffle") != "", Required: c.FormValue("required") != "",
		Grading: assessment.GradingMethod(c.FormValue("grading")),
	}
	if s := strings.TrimSpace(c.FormValue("pass_percent")); s != "" {
		n, ok := parseDecimal(s)
		fields.Check(!ok || n < 0 || n > 100, "pass_percent", "is not a whole number")
		in.PassPercent = &n
	}
	for _, w := range []struct {
		field string
		dst   **time.Time
	}{{"opens_at", &in.OpensAt}, {"closes_at", &in.ClosesAt}} {
		if s := strings.TrimSpace(c.FormValue(w.field)); s != "" {
			t, err := time.ParseInLocation("2006-01-02T15:04", s, vietnam)
			fields.Check(err != nil, w.field, "is not a date")
			t = t.UTC()
			*w.dst = &t
		}
	}
	return in
}

// updateQuizSettings changes a quiz's settings, keeping its questions; attempts already
// started keep their questions and deadline.
func (f *Frontend) updateQuizSettings(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	ctx := c.UserContext()
	q, err := f.d.Authoring.GetQuiz(ctx, p, c.Params("id"))
	if err != nil {
		return err
	}
	var fields errs.Fields
	in := quizSettings(c, &fields)
	in.CourseID, in.Items, in.Review = q.CourseID, q.Items, &q.Review
	err = fields.Err()
	if err == nil {
		if _, err = f.d.Authoring.UpdateQuiz(ctx, p, q.ID, in); err == nil {
			return c.Redirect("/teach/quizzes/"+q.ID+"?ok=saved", http.StatusSeeOther)
		}
	}
	v := f.newView(c, "courses")
	status, ok := v.formFailed(err, "error.conflict.text")
	if !ok {
		return err
	}
	c.Status(status)
	return f.renderQuizResults(c, v, p)
}

// learnerGrade is one row of a quiz's results, with the learner's name.
type learnerGrade struct {
	assessment.Grade
	Name string
}

type quizResultsData struct {
	Quiz     assessment.Quiz
	Results  assessment.QuizResults
	Learners []learnerGrade
	Pending  []pendingEssay
	MaxCount int
	// Accommodations are the learners given extra time or attempts, by name.
	Accommodations []accommodationRow
}

type pendingEssay struct {
	assessment.PendingEssay
	Name string
}

// quizResultsPage shows trainers and lecturers a quiz's results: every learner's grade in
// Vietnamese name order, the score distribution, and the essays waiting to be graded.
func (f *Frontend) quizResultsPage(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	if err := requireStaff(p); err != nil {
		return err
	}
	v := f.newView(c, "courses")
	if c.Query("ok") == "quiz_created" {
		v.Flash, v.Notice = v.T("flash.quiz_created"), "ok"
	} else if c.Query("ok") == "graded" {
		v.Flash, v.Notice = v.T("flash.graded"), "ok"
	} else if c.Query("ok") == "saved" {
		v.Flash, v.Notice = v.T("flash.saved"), "ok"
	} else if c.Query("ok") == "accommodation" {
		v.Flash, v.Notice = v.T("flash.accommodation_saved"), "ok"
	} else if c.Query("ok") == "accommodation_removed" {
		v.Flash, v.Notice = v.T("flash.accommodation_removed"), "ok"
	}
	return f.renderQuizResults(c, v, p)
}

func (f *Frontend) renderQuizResults(c *fiber.Ctx, v *view, p accounts.Principal) error {
	ctx := c.UserContext()
	q, err := f.d.Authoring.GetQuiz(ctx, p, c.Params("id"))
	if err != nil {
		return err
	}
	res, err := f.d.Authoring.QuizResults(ctx, p, q.ID)
	if err != nil {
		return err
	}
	pending, err := f.d.Authoring.PendingEssays(ctx, p, q.ID)
	if err != nil {
		return err
	}
	ids := []string{}
	for _, g := range res.Learners {
		ids = append(ids, g.UserID)
	}
	for _, e := range pending {
		ids = append(ids, e.UserID)
	}
	names := map[string]string{}
	if len(ids) > 0 {
		users, err := f.d.Accounts.FindUsersByIDs(ctx, ids)
		if err != nil {
			return err
		}
		for _, u := range users {
			names[u.ID] = u.FullName
		}
	}
	d := quizResultsData{Quiz: q, Results: res}
	if d.Accommodations, err = f.quizAccommodations(ctx, p, q.ID); err != nil {
		return err
	}
	v.editAccommodation(d.Accommodations, c.Query("edit_acc"))
	for _, g := range res.Learners {
		d.Learners = append(d.Learners, learnerGrade{Grade: g, Name: names[g.UserID]})
	}
	SortByName(d.Learners, func(g learnerGrade) string { return g.Name })
	for _, e := range pending {
		d.Pending = append(d.Pending, pendingEssay{PendingEssay: e, Name: names[e.UserID]})
	}
	for _, b := range res.Histogram {
		d.MaxCount = max(d.MaxCount, b.Count)
	}
	v.Data = d
	return f.render(c, "quiz_results", v)
}

func (f *Frontend) gradeEssay(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	score, ok := parseDecimal(strings.TrimSpace(c.FormValue("score")))
	var err error
	if !ok {
		err = errs.Field("score", "is not a whole number")
	} else {
		_, err = f.d.Authoring.GradeEssay(c.UserContext(), p, c.FormValue("attempt_id"), c.FormValue("question_id"), score, strings.TrimSpace(c.FormValue("comment")))
	}
	if err == nil {
		return c.Redirect("/teach/quizzes/"+c.Params("id")+"?ok=graded", http.StatusSeeOther)
	}
	v := f.newView(c, "courses")
	status, handled := v.formFailed(err, "error.conflict.text")
	if !handled {
		return err
	}
	c.Status(status)
	return f.renderQuizResults(c, v, p)
}

// quizzesForBuilder lists a course's quizzes in the course builder.
func (f *Frontend) quizzesForBuilder(c *fiber.Ctx, p accounts.Principal, courseID string) ([]assessment.Quiz, []assessment.Bank, error) {
	if f.d.Authoring == nil {
		return nil, nil, nil
	}
	qs, err := f.d.Authoring.ListQuizzes(c.UserContext(), p, courseID)
	if err != nil && !errsIs(err, "forbidden") && !errsIs(err, "not_found") {
		return nil, nil, err
	}
	banks, err := f.d.Authoring.ListBanks(c.UserContext(), p)
	if errsIs(err, "forbidden") {
		return qs, nil, nil
	}
	return qs, banks, err
}

// Height is a histogram bar's height in tenths of the tallest bar, for a CSS class.
func (d quizResultsData) Height(count int) int {
	if d.MaxCount == 0 {
		return 0
	}
	return (count*10 + d.MaxCount - 1) / d.MaxCount
}

// TimeLimitMin is the quiz's time limit in whole minutes, for its settings form.
func (d quizResultsData) TimeLimitMin() int { return d.Quiz.TimeLimitS / 60 }

// LocalInput formats a time (time.Time or *time.Time) as a datetime-local value in
// Vietnam's time, or "".
func (v *view) LocalInput(t any) string {
	tt := toTime(t)
	if tt.IsZero() {
		return ""
	}
	return tt.In(vietnam).Format("2006-01-02T15:04")
}
