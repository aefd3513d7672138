package courses

import (
	"context"
	"errors"
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
)

// memDirectory is an in-memory Directory: the unit tree and users a test needs.
type memDirectory struct {
	mu    sync.Mutex
	units map[string]accounts.Unit
	users map[string]accounts.User
}

func newMemDirectory() *memDirectory {
	return &memDirectory{units: map[string]accounts.Unit{}, users: map[string]accounts.User{}}
}

func (d *memDirectory) addUnit(id, parent string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := accounts.Unit{ID: id, Name: "Unit " + id, Code: id, ParentID: parent}
	if parent != "" {
		u.Path = append(slices.Clone(d.units[parent].Path), parent)
	}
	d.units[id] = u
}

func (d *memDirectory) addUser(u accounts.User) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users[u.ID] = u
}

func (d *memDirectory) SubtreeUnitIDs(_ context.Context, unitID string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.units[unitID]; !ok {
		return nil, fmt.Errorf("unit %s: %w", unitID, errs.ErrNotFound)
	}
	out := []string{unitID}
	for id, u := range d.units {
		if slices.Contains(u.Path, unitID) {
			out = append(out, id)
		}
	}
	return out, nil
}

func (d *memDirectory) ListUsersInUnits(_ context.Context, unitIDs []string) ([]accounts.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []accounts.User
	for _, u := range d.users {
		if slices.Contains(unitIDs, u.UnitID) {
			out = append(out, u)
		}
	}
	return out, nil
}

func (d *memDirectory) FindUsersByIDs(_ context.Context, userIDs []string) ([]accounts.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []accounts.User
	for _, id := range userIDs {
		if u, ok := d.users[id]; ok {
			out = append(out, u)
		}
	}
	return out, nil
}

// gate is a QuizGate whose answers a test sets.
type gate struct {
	mu     sync.Mutex
	passed map[string]bool // courseID:userID
}

func (g *gate) RequiredQuizStatus(_ context.Context, courseID, userID string) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.passed[courseID+":"+userID], nil
}

func (g *gate) pass(courseID, userID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.passed[courseID+":"+userID] = true
}

type env struct {
	t   testing.TB
	ctx context.Context
	db  *database.DB
	svc *Service
	clk *clock.Fixed
	dir *memDirectory

	admin, lecturer, lecturer2, trainer, trainer2, unitAdmin, learner, learner2, outsider accounts.Principal
}

// newEnv starts a Service on a fresh database with units prov > dept1 > commune1 and
// prov > dept2, and one user of each role. The flusher runs only when a test calls Flush.
func newEnv(t testing.TB) *env {
	t.Helper()
	db := dbtest.New(t)
	e := &env{t: t, db: db, ctx: context.Background(), clk: clock.NewFixed(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)), dir: newMemDirectory()}
	for _, u := range [][2]string{{"prov", ""}, {"dept1", "prov"}, {"commune1", "dept1"}, {"dept2", "prov"}} {
		e.dir.addUnit(u[0], u[1])
	}
	e.svc = New(Config{DB: db.Database, Clock: e.clk.Now, Directory: e.dir, FlushInterval: time.Hour})
	t.Cleanup(func() { _ = e.svc.Close(context.Background()) })
	if err := e.svc.EnsureIndexes(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.admin = e.person("Quản Trị", "prov", accounts.RoleAdmin)
	e.lecturer = e.person("Giảng Viên Một", "prov", accounts.RoleLecturer)
	e.lecturer2 = e.person("Giảng Viên Hai", "prov", accounts.RoleLecturer)
	e.trainer = e.person("Huấn Luyện Một", "prov", accounts.RoleTrainer)
	e.trainer2 = e.person("Huấn Luyện Hai", "prov", accounts.RoleTrainer)
	e.unitAdmin = e.person("Cán Bộ Tổ Chức", "dept1", accounts.RoleUnitAdmin)
	e.learner = e.person("Nguyễn Văn An", "dept1", accounts.RoleLearner)
	e.learner2 = e.person("Trần Thị Bình", "commune1", accounts.RoleLearner)
	e.outsider = e.person("Lê Văn Cường", "dept2", accounts.RoleLearner)
	return e
}

func (e *env) person(name, unit string, roles ...accounts.Role) accounts.Principal {
	u := accounts.User{ID: ids.New(), Username: ids.New(), FullName: name, UnitID: unit, Roles: roles, Active: true}
	e.dir.addUser(u)
	return accounts.Principal{User: u}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// course is a published course with a video (600 s), a 4-page pdf and a text lesson.
type course struct {
	Course
	video, pdf, text Lesson
	mod1, mod2       Module
}

func (e *env) publishedCourse(code string) course {
	e.t.Helper()
	c, err := e.svc.CreateCourse(e.ctx, e.lecturer, CourseInput{Code: code, Title: "Lý luận chính trị " + code, Category: CategoryPoliticalTheory, Description: "Khoá học"})
	e.must(err)
	out := course{Course: c}
	out.mod1, err = e.svc.AddModule(e.ctx, e.lecturer, c.ID, ModuleInput{Title: "Chương 1"})
	e.must(err)
	out.mod2, err = e.svc.AddModule(e.ctx, e.lecturer, c.ID, ModuleInput{Title: "Chương 2"})
	e.must(err)
	out.video, err = e.svc.AddLesson(e.ctx, e.lecturer, c.ID, out.mod1.ID, LessonInput{Title: "Bài giảng", Kind: KindVideo, MediaID: "m1", DurationS: 600})
	e.must(err)
	out.pdf, err = e.svc.AddLesson(e.ctx, e.lecturer, c.ID, out.mod1.ID, LessonInput{Title: "Tài liệu", Kind: KindPDF, MediaID: "m2", Pages: 4})
	e.must(err)
	out.text, err = e.svc.AddLesson(e.ctx, e.lecturer, c.ID, out.mod2.ID, LessonInput{Title: "Đọc thêm", Kind: KindText, Body: "Nội dung"})
	e.must(err)
	out.Course, err = e.svc.PublishCourse(e.ctx, e.lecturer, c.ID)
	e.must(err)
	return out
}

func (e *env) class(c course, capacity int) Class {
	e.t.Helper()
	cl, err := e.svc.CreateClass(e.ctx, e.trainer, c.ID, ClassInput{
		Name: "Lớp " + c.Code, StartsAt: e.clk.Now(), EndsAt: e.clk.Now().Add(30 * 24 * time.Hour), Capacity: capacity,
	})
	e.must(err)
	return cl
}

func (e *env) enrol(cl Class, ps ...accounts.Principal) {
	e.t.Helper()
	var userIDs []string
	for _, p := range ps {
		userIDs = append(userIDs, p.User.ID)
	}
	_, err := e.svc.EnrolUsers(e.ctx, e.trainer, cl.ID, userIDs)
	e.must(err)
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if target == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}
