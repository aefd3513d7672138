package reports

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"hoctap/accounts"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/dbtest"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
	"hoctap/internal/textfold"
)

// fakeLearning stands in for courses (which is being written alongside): courses, classes
// and enrolment records held in memory.
type fakeLearning struct {
	mu         sync.Mutex
	courses    map[string]CourseInfo
	classes    map[string]ClassInfo
	enrolments []EnrolmentRecord
}

func newFakeLearning() *fakeLearning {
	return &fakeLearning{courses: map[string]CourseInfo{}, classes: map[string]ClassInfo{}}
}

func (f *fakeLearning) FindCourse(_ context.Context, id string) (CourseInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.courses[id]
	if !ok {
		return CourseInfo{}, fmt.Errorf("course %s: %w", id, errs.ErrNotFound)
	}
	return c, nil
}

func (f *fakeLearning) FindClass(_ context.Context, id string) (ClassInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.classes[id]
	if !ok {
		return ClassInfo{}, fmt.Errorf("class %s: %w", id, errs.ErrNotFound)
	}
	return c, nil
}

func (f *fakeLearning) CourseEnrolments(_ context.Context, courseID string) ([]EnrolmentRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []EnrolmentRecord
	for _, e := range f.enrolments {
		if e.CourseID == courseID {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeLearning) ClassEnrolments(_ context.Context, classID string) ([]EnrolmentRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []EnrolmentRecord
	for _, e := range f.enrolments {
		if e.ClassID == classID {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeLearning) FindEnrolment(_ context.Context, classID, userID string) (EnrolmentRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.enrolments {
		if e.ClassID == classID && e.UserID == userID {
			return e, nil
		}
	}
	return EnrolmentRecord{}, fmt.Errorf("enrolment: %w", errs.ErrNotFound)
}

func (f *fakeLearning) UserEnrolments(_ context.Context, userID string) ([]EnrolmentRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []EnrolmentRecord
	for _, e := range f.enrolments {
		if e.UserID == userID {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeLearning) addCourse(code, title, category, label string) CourseInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := CourseInfo{ID: ids.New(), Code: code, Title: title, Category: category, CategoryLabel: label}
	f.courses[c.ID] = c
	return c
}

func (f *fakeLearning) addClass(courseID, name string, starts time.Time, trainers ...string) ClassInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := ClassInfo{ID: ids.New(), CourseID: courseID, Name: name, StartsAt: starts, EndsAt: starts.AddDate(0, 2, 0), TrainerIDs: trainers}
	f.classes[c.ID] = c
	return c
}

// enrol records u in class with a progress percent; 100 means completed at completedAt.
func (f *fakeLearning) enrol(class ClassInfo, u accounts.User, percent int, completedAt time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := EnrolmentRecord{
		ClassID: class.ID, CourseID: class.CourseID, ClassStarts: class.StartsAt, UserID: u.ID,
		FullName: u.FullName, Username: u.Username, UnitID: u.UnitID, Position: u.Position,
		EnrolledAt: class.StartsAt, Percent: percent,
	}
	if percent >= 100 {
		e.Completed = true
		at := completedAt
		e.CompletedAt = &at
	}
	f.enrolments = append(f.enrolments, e)
}

// fakeQuizzes stands in for assessment.
type fakeQuizzes struct {
	mu  sync.Mutex
	res map[string]CourseQuizResults
}

func (f *fakeQuizzes) CourseQuizResults(_ context.Context, courseID string) (CourseQuizResults, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.res[courseID], nil
}

// fakeLive stands in for courses/live.
type fakeLive struct {
	mu       sync.Mutex
	sessions map[string][]SessionAttendance // class id → sessions
	classes  map[string]string              // class id → course id
}

func (f *fakeLive) ClassAttendance(_ context.Context, classID string) ([]SessionAttendance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessions[classID], nil
}

func (f *fakeLive) CourseAttendanceMinutes(_ context.Context, courseID string) (map[string]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for class, ss := range f.sessions {
		if f.classes[class] != courseID {
			continue
		}
		for _, s := range ss {
			for _, l := range s.Learners {
				out[l.UserID] += l.Minutes
			}
		}
	}
	return out, nil
}

// world is a reports service over a real database and the real accounts service, with
// fakes for the domains being written alongside.
type world struct {
	t     testing.TB
	db    *database.DB
	acc   *accounts.Service
	learn *fakeLearning
	quiz  *fakeQuizzes
	live  *fakeLive
	clock *clock.Fixed
	svc   *Service
	admin accounts.Principal
	seq   int
}

var t0 = time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)

func newWorld(t testing.TB) *world {
	t.Helper()
	db := dbtest.New(t)
	w := &world{t: t, db: db, learn: newFakeLearning(), clock: clock.NewFixed(t0),
		quiz: &fakeQuizzes{res: map[string]CourseQuizResults{}},
		live: &fakeLive{sessions: map[string][]SessionAttendance{}, classes: map[string]string{}}}
	w.acc = accounts.NewService(db.Database, accounts.Config{Argon2: accounts.Argon2Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 16, SaltLen: 8}}, w.clock.Now)
	ctx := context.Background()
	if err := w.acc.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := New(Config{DB: db.Database, Clock: w.clock.Now, Directory: NewAccountsDirectory(w.acc, db.Database), Learning: w.learn,
		Quizzes: w.quiz, Live: w.live, PublicURL: "https://hoctap.example.gov.vn/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	w.svc = svc
	w.admin = accounts.Principal{User: accounts.User{ID: ids.New(), Username: "admin", FullName: "Quản trị", Roles: []accounts.Role{accounts.RoleAdmin}, Active: true}}
	return w
}

// unit inserts a unit under parent ("" for a root) straight into the accounts collection.
func (w *world) unit(name string, parent *accounts.Unit) accounts.Unit {
	w.t.Helper()
	w.seq++
	u := accounts.Unit{ID: ids.New(), Name: name, Code: fmt.Sprintf("U%05d", w.seq), Path: []string{},
		CreatedAt: t0, UpdatedAt: t0, NameFold: textfold.Fold(name)}
	if parent != nil {
		u.ParentID = parent.ID
		u.Path = append(slices.Clone(parent.Path), parent.ID)
	}
	if _, err := w.db.Database.Collection(accounts.UnitsCollection).InsertOne(context.Background(), u); err != nil {
		w.t.Fatal(err)
	}
	return u
}

// user inserts an active learner of unit with position.
func (w *world) user(name string, unit accounts.Unit, position string, roles ...accounts.Role) accounts.User {
	w.t.Helper()
	w.seq++
	if len(roles) == 0 {
		roles = []accounts.Role{accounts.RoleLearner}
	}
	u := accounts.User{ID: ids.New(), Username: fmt.Sprintf("u%06d", w.seq), FullName: name, UnitID: unit.ID,
		Position: position, Roles: roles, Active: true, CreatedAt: t0, UpdatedAt: t0,
		NameFold: textfold.Fold(name), PasswordHash: "x"}
	if _, err := w.db.Database.Collection(accounts.UsersCollection).InsertOne(context.Background(), u); err != nil {
		w.t.Fatal(err)
	}
	return u
}

func officer(u accounts.User) accounts.Principal { return accounts.Principal{User: u} }

// must returns v, or panics with err: tests use it where any error is a failure.
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("unexpected error: %v", err))
	}
	return v
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := errs.Code(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func errCode(err error) string { return errs.Code(err) }
