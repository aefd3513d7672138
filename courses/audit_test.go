package courses

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"hoctap/accounts"
	"hoctap/audit/trail"
	"hoctap/audit/trail/trailtest"
	"hoctap/internal/errs"
)

func TestEnrolmentEntry(t *testing.T) {
	users := []accounts.User{
		{ID: "1", Username: "an", UnitID: "dept1"}, {ID: "2", Username: "binh", UnitID: "commune1"},
		{ID: "3", Username: "cuong", UnitID: "dept2"}, {ID: "1", Username: "an", UnitID: "dept1"},
	}
	start := trail.Actor{ID: "t", Name: "trainer"}.Did(trail.EnrolmentUnit, "class:c", "Lớp").In("prov")
	e := enrolmentEntry(start, EnrolResult{Enrolled: 2, Already: 1}, []string{"2", "1"}, users)
	if e.Details["users"] != "an,binh" || e.Details["enrolled"] != "2" || e.Details["already"] != "1" || e.Details["refused"] != "0" {
		t.Errorf("details = %v", e.Details)
	}
	if !slices.Equal(e.UnitIDs, []string{"prov", "commune1", "dept1"}) {
		t.Errorf("units = %v", e.UnitIDs)
	}
	if len(start.Details) != 0 || len(start.UnitIDs) != 1 {
		t.Errorf("the starting entry changed: %+v", start)
	}
	var many []accounts.User
	var ids []string
	for i := range maxListedUsers + 3 {
		id := fmt.Sprint(i)
		many = append(many, accounts.User{ID: id, Username: "u" + id, UnitID: "x"})
		ids = append(ids, id)
	}
	e = enrolmentEntry(start, EnrolResult{Enrolled: len(ids)}, ids, many)
	if !strings.HasSuffix(e.Details["users"], "u49 (+3)") {
		t.Errorf("a long list ends %q", e.Details["users"][len(e.Details["users"])-20:])
	}
}

func TestCoursesActionsAreRecorded(t *testing.T) {
	e := newEnv(t)
	rec := &trailtest.Recorder{}
	e.svc.audit = rec
	c := e.publishedCourse("LLCT")
	cl := e.class(c, 0)
	e.enrol(cl, e.learner)
	if _, err := e.svc.EnrolUnit(e.ctx, e.unitAdmin, cl.ID, "dept1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.EnrolUnit(e.ctx, e.unitAdmin, cl.ID, "dept1", true); err != nil { // nobody new: no entry
		t.Fatal(err)
	}
	if _, err := e.svc.ArchiveCourse(e.ctx, e.lecturer, c.ID); err != nil {
		t.Fatal(err)
	}
	if got := rec.ByAction(trail.CoursePublish); len(got) != 1 || got[0].Object != "course:"+c.ID || got[0].Details["revision"] != "1" {
		t.Errorf("publish entries = %+v", got)
	}
	if got := rec.ByAction(trail.ClassCreate); len(got) != 1 || got[0].Object != "class:"+cl.ID || got[0].Actor != e.trainer.User.ID {
		t.Errorf("class entries = %+v", got)
	}
	byID := rec.ByAction(trail.EnrolmentCreate)
	if len(byID) != 1 || byID[0].Details["users"] != e.learner.User.Username || !slices.Equal(byID[0].UnitIDs, []string{"dept1"}) {
		t.Errorf("enrolment entries = %+v", byID)
	}
	byUnit := rec.ByAction(trail.EnrolmentUnit)
	if len(byUnit) != 1 || byUnit[0].Details["enrolled"] != "2" || byUnit[0].Details["already"] != "1" ||
		byUnit[0].Details["include_subunits"] != "true" || !slices.Contains(byUnit[0].UnitIDs, "commune1") {
		t.Errorf("unit enrolment entries = %+v", byUnit)
	}
	if got := rec.ByAction(trail.CourseArchive); len(got) != 1 {
		t.Errorf("archive entries = %+v", got)
	}

	// A refused enrolment records nothing; a failing audit log is reported while the
	// enrolment stays.
	n := len(rec.Entries())
	_, err := e.svc.EnrolUnit(e.ctx, e.unitAdmin, cl.ID, "dept2", false)
	wantErr(t, err, errs.ErrForbidden)
	if len(rec.Entries()) != n {
		t.Errorf("a refused enrolment was recorded")
	}
	rec.Fail(fmt.Errorf("down: %w", errs.ErrUnavailable))
	_, err = e.svc.EnrolUsers(e.ctx, e.admin, cl.ID, []string{e.outsider.User.ID})
	if !errors.Is(err, errs.ErrUnavailable) || !strings.Contains(err.Error(), "enrolment.create") {
		t.Fatalf("enrol with a failing audit log = %v", err)
	}
	res, err := e.svc.EnrolUsers(e.ctx, e.admin, cl.ID, []string{e.outsider.User.ID})
	if err != nil || res.Already != 1 {
		t.Errorf("the enrolment did not stay: %+v, %v", res, err)
	}
}
