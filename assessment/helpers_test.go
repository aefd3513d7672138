package assessment

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"hoctap/accounts"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/dbtest"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
	"hoctap/internal/keylock"
)

// fakeEnrolments is the small stand-in for courses that the Enrolments interface allows.
type fakeEnrolments struct {
	mu       sync.Mutex
	enrolled map[string]bool // user|course
	trainers map[string]bool // user|course
}

func (f *fakeEnrolments) IsEnrolledInCourse(_ context.Context, userID, courseID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.enrolled[userID+"|"+courseID], nil
}

func (f *fakeEnrolments) IsTrainerOfCourse(_ context.Context, userID, courseID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.trainers[userID+"|"+courseID], nil
}

// LearnersTaughtBy: the fake has one class per course, so a trainer of the course teaches
// every learner enrolled in it.
func (f *fakeEnrolments) LearnersTaughtBy(_ context.Context, trainerID, courseID string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.trainers[trainerID+"|"+courseID] {
		return nil, nil
	}
	var out []string
	for k := range f.enrolled {
		if user, course, _ := strings.Cut(k, "|"); course == courseID {
			out = append(out, user)
		}
	}
	return out, nil
}

func (f *fakeEnrolments) enrol(userID, courseID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.enrolled[userID+"|"+courseID] = true
}

type fakeCompletion struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeCompletion) RecomputeCompletion(_ context.Context, userID, courseID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, userID+"|"+courseID)
	return nil
}

func (f *fakeCompletion) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

type env struct {
	svc        *Service
	clk        *clock.Fixed
	enrol      *fakeEnrolments
	completion *fakeCompletion
	ctx        context.Context
	course     string
	lecturer   accounts.Principal
	admin      accounts.Principal
	trainer    accounts.Principal
	locks      *keylock.Map // nil: conditions in filters
	db         *database.DB
}

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

func person(roles ...accounts.Role) accounts.Principal {
	return accounts.Principal{User: accounts.User{ID: ids.New(), Roles: roles, Active: true}}
}

// newEnv makes a Service as the server does: with per-attempt locks on the embedded
// database, conditions in filters on MongoDB.
func newEnv(t testing.TB) *env {
	t.Helper()
	db := dbtest.New(t)
	return newEnvOn(t, db, db.Embedded)
}

// bothWriteModes runs f with each way a Service makes conditional attempt writes (see
// updateAttemptIf): conditions in the filter, and read-check-write under a lock. Both
// must give the same exactly-once outcomes on the same database.
func bothWriteModes(t *testing.T, f func(t *testing.T, e *env)) {
	for _, locked := range []bool{false, true} {
		name := "filter"
		if locked {
			name = "lock"
		}
		t.Run(name, func(t *testing.T) { f(t, newEnvOn(t, dbtest.New(t), locked)) })
	}
}

func newEnvOn(t testing.TB, db *database.DB, locked bool) *env {
	t.Helper()
	e := &env{clk: clock.NewFixed(t0), enrol: &fakeEnrolments{enrolled: map[string]bool{}, trainers: map[string]bool{}},
		completion: &fakeCompletion{}, ctx: context.Background(), course: ids.New(),
		lecturer: person(accounts.RoleLecturer), admin: person(accounts.RoleAdmin), trainer: person(accounts.RoleTrainer)}
	e.db = db
	if locked {
		e.locks = keylock.New()
	}
	e.svc = New(Config{DB: db.Database, Clock: e.clk.Now, Enrolments: e.enrol, Completion: e.completion, AttemptLocks: e.locks})
	if err := e.svc.EnsureIndexes(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.enrol.trainers[e.trainer.User.ID+"|"+e.course] = true
	return e
}

func (e *env) learner() accounts.Principal {
	p := person(accounts.RoleLearner)
	e.enrol.enrol(p.User.ID, e.course)
	return p
}

func (e *env) question(t testing.TB, in QuestionInput) Question {
	t.Helper()
	if in.Bank == "" {
		in.Bank = "LLCT"
	}
	if in.Text == "" {
		in.Text = "Câu hỏi"
	}
	q, err := e.svc.CreateQuestion(e.ctx, e.lecturer, in)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func (e *env) singleQ(t testing.TB, text string, tags ...string) Question {
	return e.question(t, QuestionInput{Type: TypeSingle, Text: text, Tags: tags, Choices: []ChoiceInput{
		{ID: "a", Text: "Đúng", Correct: true}, {ID: "b", Text: "Sai 1"}, {ID: "c", Text: "Sai 2"}}})
}

func (e *env) quiz(t testing.TB, in QuizInput) Quiz {
	t.Helper()
	if in.CourseID == "" {
		in.CourseID = e.course
	}
	if in.Title == "" {
		in.Title = "Kiểm tra cuối khóa"
	}
	q, err := e.svc.CreateQuiz(e.ctx, e.lecturer, in)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var _ = errs.ErrNotFound
