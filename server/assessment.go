package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/assessment"
	"hoctap/assessment/importer"
	"hoctap/audit/trail"
	"hoctap/courses"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/keylock"
)

// buildAssessment makes the assessment service on top of courses (enrolments, trainers,
// course completion) and installs it as courses' quiz gate. Grades, accommodations and
// bank shares are recorded in aud.
func buildAssessment(ctx context.Context, db *database.DB, crs *courses.Service, now clock.Clock, log *slog.Logger, aud trail.Recorder) (*assessment.Service, error) {
	var locks *keylock.Map
	if db.Embedded { // this process is the database's only user (the data directory is locked)
		locks = keylock.New()
	}
	svc := assessment.New(assessment.Config{DB: db.Database, Clock: now, Enrolments: crs, Completion: crs, Logger: log, AttemptLocks: locks, Auditor: aud})
	if err := svc.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	crs.SetQuizGate(svc)
	return svc, nil
}

func (s *Server) routeAssessment(api fiber.Router) {
	api.Get("/question-banks", requireAuth, s.listBanks)
	api.Post("/question-banks/share", requireAuth, s.shareBank)
	api.Post("/questions", requireAuth, withBody(s, http.StatusCreated, s.assessment.CreateQuestion))
	api.Get("/questions", requireAuth, s.listQuestions)
	api.Post("/questions/import", requireAuth, s.importQuestions)
	api.Get("/questions/export", requireAuth, s.exportQuestions)
	api.Get("/questions/:id", requireAuth, s.getQuestion)
	api.Put("/questions/:id", requireAuth, byIDWithBody(s, http.StatusOK, s.assessment.UpdateQuestion))
	api.Delete("/questions/:id", requireAuth, noContentByID(s.assessment.ArchiveQuestion))
	api.Post("/quizzes", requireAuth, withBody(s, http.StatusCreated, s.assessment.CreateQuiz))
	api.Get("/quizzes", requireAuth, s.listQuizzes)
	api.Get("/quizzes/:id", requireAuth, byID(s.assessment.GetQuiz))
	api.Put("/quizzes/:id", requireAuth, byIDWithBody(s, http.StatusOK, s.assessment.UpdateQuiz))
	api.Post("/quizzes/:id/attempts", requireAuth, s.startAttempt)
	api.Get("/quizzes/:id/attempts/me", requireAuth, listByID(s.assessment.MyAttempts))
	api.Get("/quizzes/:id/results", requireAuth, byID(s.assessment.QuizResults))
	api.Get("/quizzes/:id/grades/:user_id", requireAuth, s.quizGrade)
	api.Get("/quizzes/:id/essays", requireAuth, listByID(s.assessment.PendingEssays))
	api.Get("/quizzes/:id/accommodations", requireAuth, listByID(s.assessment.Accommodations))
	api.Put("/quizzes/:id/accommodations/:user_id", requireAuth, s.setAccommodation)
	api.Get("/attempts/:id", requireAuth, byID(s.assessment.GetAttempt))
	api.Put("/attempts/:id/answers", requireAuth, s.saveAnswers)
	api.Post("/attempts/:id/submit", requireAuth, byID(s.assessment.SubmitAttempt))
	api.Put("/attempts/:id/grades/:question_id", requireAuth, s.gradeEssay)
}

func (s *Server) listBanks(c *fiber.Ctx) error {
	banks, err := s.assessment.ListBanks(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(newList(banks, len(banks)))
}

type shareBody struct {
	Bank    string   `json:"bank"`
	UserIDs []string `json:"user_ids"`
}

func (s *Server) shareBank(c *fiber.Ctx) error {
	var b shareBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	bank, err := s.assessment.ShareBank(c.UserContext(), principal(c), b.Bank, b.UserIDs)
	if err != nil {
		return err
	}
	return c.JSON(bank)
}

func (s *Server) getQuestion(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var q assessment.Question
	if v := c.Query("version"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 1 {
			return errs.Field("version", "must be a whole number of at least 1")
		}
		q, err = s.assessment.QuestionVersion(c.UserContext(), principal(c), id, n)
	} else {
		q, err = s.assessment.GetQuestion(c.UserContext(), principal(c), id)
	}
	if err != nil {
		return err
	}
	return c.JSON(q)
}

func (s *Server) listQuestions(c *fiber.Ctx) error {
	limit, offset, err := pageParams(c)
	if err != nil {
		return err
	}
	f := assessment.QuestionFilter{Bank: c.Query("bank"), Category: c.Query("category"), Type: assessment.Type(c.Query("type")), Limit: limit, Offset: offset}
	if t := c.Query("tags"); t != "" {
		f.Tags = strings.Split(t, ",")
	}
	page, err := s.assessment.ListQuestions(c.UserContext(), principal(c), f)
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}

// importQuestions takes the file as multipart field "file" with form fields format, bank,
// keep_valid and category (or the raw body with those as query parameters). Lines that do
// not parse come back in errors with their line numbers; unless keep_valid is true, a
// file with any error stores nothing.
func (s *Server) importQuestions(c *fiber.Ctx) error {
	field := func(name string) string {
		if v := c.FormValue(name); v != "" {
			return v
		}
		return c.Query(name)
	}
	var f errs.Fields
	format := importer.Format(field("format"))
	f.Check(!format.Valid(), "format", "must be gift, aiken or moodle_xml")
	f.Check(strings.TrimSpace(field("bank")) == "", "bank", "is required")
	keep := false
	if v := field("keep_valid"); v != "" {
		b, err := strconv.ParseBool(v)
		f.Check(err != nil, "keep_valid", "must be true or false")
		keep = b
	}
	if err := f.Err(); err != nil {
		return err
	}
	r, err := uploadedFile(c, "file", "application/octet-stream")
	if err != nil {
		return err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, importer.MaxFileSize+1))
	if err != nil {
		return fmt.Errorf("reading the uploaded file: %w", err)
	}
	res, err := s.assessment.ImportQuestions(c.UserContext(), principal(c), assessment.ImportRequest{
		Bank: field("bank"), Format: format, Data: data, KeepValid: keep, Category: field("category")})
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (s *Server) exportQuestions(c *fiber.Ctx) error {
	format := importer.Format(c.Query("format"))
	out, err := s.assessment.ExportBank(c.UserContext(), principal(c), c.Query("bank"), format, c.Query("category"))
	if err != nil {
		return err
	}
	name, ctype := "questions.gift.txt", "text/plain; charset=utf-8"
	if format == importer.MoodleXML {
		name, ctype = "questions.xml", "application/xml; charset=utf-8"
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderContentDisposition, "attachment; filename=\""+name+"\"; filename*=UTF-8''"+url.PathEscape(c.Query("bank")+"-"+name))
	return c.Send(out)
}

func (s *Server) listQuizzes(c *fiber.Ctx) error {
	course := c.Query("course_id")
	if course == "" {
		return errs.Field("course_id", "is required")
	}
	qs, err := s.assessment.ListQuizzes(c.UserContext(), principal(c), course)
	if err != nil {
		return err
	}
	return c.JSON(newList(qs, len(qs)))
}

func (s *Server) startAttempt(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a, err := s.assessment.StartAttempt(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if a.Resumed {
		status = http.StatusOK
	}
	return c.Status(status).JSON(a)
}

func (s *Server) quizGrade(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	user, err := idParam(c, "user_id")
	if err != nil {
		return err
	}
	if user == "me" {
		user = principal(c).User.ID
	}
	g, err := s.assessment.QuizGrade(c.UserContext(), principal(c), id, user)
	if err != nil {
		return err
	}
	return c.JSON(g)
}

type accommodationBody struct {
	ExtraTimeS    int `json:"extra_time_s"`
	ExtraAttempts int `json:"extra_attempts"`
}

func (s *Server) setAccommodation(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	user, err := idParam(c, "user_id")
	if err != nil {
		return err
	}
	var b accommodationBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	a, err := s.assessment.SetAccommodation(c.UserContext(), principal(c), id, user, b.ExtraTimeS, b.ExtraAttempts)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

type answersBody struct {
	Answers map[string]assessment.Answer `json:"answers"`
}

func (s *Server) saveAnswers(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b answersBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	if b.Answers == nil {
		return errs.Field("answers", "is required: an object from question id to answer")
	}
	r, err := s.assessment.SaveAnswers(c.UserContext(), principal(c), id, b.Answers)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

type essayGradeBody struct {
	Score   *float64 `json:"score"`
	Comment string   `json:"comment"`
}

func (s *Server) gradeEssay(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	qid, err := idParam(c, "question_id")
	if err != nil {
		return err
	}
	var b essayGradeBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	if b.Score == nil {
		return errs.Field("score", "is required")
	}
	r, err := s.assessment.GradeEssay(c.UserContext(), principal(c), id, qid, *b.Score, b.Comment)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// sweepInterval is how often the server closes attempts past their deadline.
const sweepInterval = 5 * time.Second
