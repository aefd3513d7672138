package courses

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"hoctap/accounts"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

func TestClassRoles(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("CLS")
	in := ClassInput{Name: "Lớp 1", StartsAt: t0, EndsAt: t0.AddDate(0, 1, 0), Capacity: 10}
	for _, p := range []accounts.Principal{e.lecturer, e.learner} {
		_, err := e.svc.CreateClass(e.ctx, p, c.ID, in)
		wantErr(t, err, errs.ErrForbidden)
	}
	cl, err := e.svc.CreateClass(e.ctx, e.trainer, c.ID, in)
	wantErr(t, err, nil)
	if !slices.Equal(cl.TrainerIDs, []string{e.trainer.User.ID}) || cl.Revision != 1 {
		t.Fatalf("class %+v", cl)
	}
	byUA, err := e.svc.CreateClass(e.ctx, e.unitAdmin, c.ID, ClassInput{Name: "Lớp 2", StartsAt: t0, EndsAt: t0.AddDate(0, 1, 0), TrainerIDs: []string{e.trainer2.User.ID}})
	wantErr(t, err, nil)
	_, err = e.svc.CreateClass(e.ctx, e.admin, c.ID, in)
	wantErr(t, err, nil)
	// Bad input.
	for _, bad := range []ClassInput{
		{Name: "", StartsAt: t0, EndsAt: t0.AddDate(0, 1, 0)},
		{Name: "x", StartsAt: t0, EndsAt: t0},
		{Name: "x", EndsAt: t0},
		{Name: "x", StartsAt: t0, EndsAt: t0.AddDate(0, 1, 0), Capacity: -1},
		{Name: "x", StartsAt: t0, EndsAt: t0.AddDate(0, 1, 0), TrainerIDs: []string{e.learner.User.ID}},
		{Name: "x", StartsAt: t0, EndsAt: t0.AddDate(0, 1, 0), TrainerIDs: []string{ids.New()}},
	} {
		_, err := e.svc.CreateClass(e.ctx, e.admin, c.ID, bad)
		wantErr(t, err, errs.ErrInvalid)
	}
	_, err = e.svc.CreateClass(e.ctx, e.admin, ids.New(), in)
	wantErr(t, err, errs.ErrNotFound)

	// Enrolment: trainer of the class, unit_admin (own units), admin.
	_, err = e.svc.EnrolUsers(e.ctx, e.trainer2, cl.ID, []string{e.learner.User.ID})
	wantErr(t, err, errs.ErrForbidden) // not this class's trainer
	_, err = e.svc.EnrolUsers(e.ctx, e.lecturer, cl.ID, []string{e.learner.User.ID})
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.svc.EnrolUsers(e.ctx, e.learner, cl.ID, []string{e.learner.User.ID})
	wantErr(t, err, errs.ErrNotFound) // a learner does not see a class they are not in
	_, err = e.svc.EnrolUsers(e.ctx, e.unitAdmin, cl.ID, []string{e.learner.User.ID, e.outsider.User.ID})
	wantErr(t, err, errs.ErrForbidden) // outsider is in dept2, outside dept1
	_, err = e.svc.EnrolUnit(e.ctx, e.unitAdmin, cl.ID, "dept2", false)
	wantErr(t, err, errs.ErrForbidden)
	r, err := e.svc.EnrolUsers(e.ctx, e.unitAdmin, cl.ID, []string{e.learner.User.ID, e.learner2.User.ID})
	wantErr(t, err, nil)
	if r.Enrolled != 2 || r.Already != 0 {
		t.Fatalf("unit admin enrol %+v", r)
	}
	r, err = e.svc.EnrolUsers(e.ctx, e.trainer, cl.ID, []string{e.learner.User.ID, e.outsider.User.ID})
	wantErr(t, err, nil)
	if r.Enrolled != 1 || r.Already != 1 {
		t.Fatalf("trainer enrol %+v", r)
	}
	_, err = e.svc.EnrolUsers(e.ctx, e.admin, byUA.ID, []string{e.outsider.User.ID})
	wantErr(t, err, nil)
	_, err = e.svc.EnrolUsers(e.ctx, e.trainer, cl.ID, []string{ids.New()})
	wantErr(t, err, errs.ErrInvalid)
	_, err = e.svc.EnrolUsers(e.ctx, e.trainer, cl.ID, nil)
	wantErr(t, err, errs.ErrInvalid)
	_, err = e.svc.EnrolUnit(e.ctx, e.trainer, cl.ID, "nowhere", true)
	wantErr(t, err, errs.ErrInvalid)

	// Reading a class.
	for _, p := range []accounts.Principal{e.admin, e.trainer, e.unitAdmin, e.learner, e.outsider} {
		_, err := e.svc.GetClass(e.ctx, p, cl.ID)
		wantErr(t, err, nil)
	}
	_, err = e.svc.GetClass(e.ctx, e.trainer2, cl.ID)
	wantErr(t, err, errs.ErrForbidden)
	loner := e.person("Người Ngoài", "dept2", accounts.RoleLearner)
	_, err = e.svc.GetClass(e.ctx, loner, cl.ID)
	wantErr(t, err, errs.ErrNotFound)

	// Listing a class's learners.
	list, err := e.svc.ListClassEnrolments(e.ctx, e.trainer, cl.ID, EnrolmentFilter{})
	wantErr(t, err, nil)
	if list.Total != 3 {
		t.Fatalf("trainer sees %d", list.Total)
	}
	list, err = e.svc.ListClassEnrolments(e.ctx, e.unitAdmin, cl.ID, EnrolmentFilter{})
	wantErr(t, err, nil)
	if list.Total != 2 { // learner (dept1) and learner2 (commune1), not the outsider (dept2)
		t.Fatalf("unit admin sees %d", list.Total)
	}
	_, err = e.svc.ListClassEnrolments(e.ctx, e.learner, cl.ID, EnrolmentFilter{})
	wantErr(t, err, errs.ErrForbidden) // in the class, but not staff
	_, err = e.svc.ListClassEnrolments(e.ctx, loner, cl.ID, EnrolmentFilter{})
	wantErr(t, err, errs.ErrNotFound)
	_, err = e.svc.ListClassEnrolments(e.ctx, e.trainer2, cl.ID, EnrolmentFilter{})
	wantErr(t, err, errs.ErrForbidden)

	// Listing classes.
	mine, err := e.svc.ListClasses(e.ctx, e.outsider, ClassFilter{})
	wantErr(t, err, nil)
	if mine.Total != 2 {
		t.Fatalf("outsider's classes: %d", mine.Total)
	}
	tr2, err := e.svc.ListClasses(e.ctx, e.trainer2, ClassFilter{})
	wantErr(t, err, nil)
	if tr2.Total != 1 || tr2.Items[0].ID != byUA.ID {
		t.Fatalf("trainer2's classes %+v", tr2)
	}
	all, err := e.svc.ListClasses(e.ctx, e.unitAdmin, ClassFilter{CourseID: c.ID})
	wantErr(t, err, nil)
	if all.Total != 3 {
		t.Fatalf("unit admin's classes %d", all.Total)
	}

	// Moving a class to a revision: admins, its trainers, its creator.
	_, err = e.svc.MoveClassToRevision(e.ctx, e.unitAdmin, cl.ID, 1)
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.svc.MoveClassToRevision(e.ctx, e.trainer2, cl.ID, 1)
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.svc.MoveClassToRevision(e.ctx, e.learner, cl.ID, 1)
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.svc.MoveClassToRevision(e.ctx, e.trainer, cl.ID, 7)
	wantErr(t, err, errs.ErrInvalid)
	_, err = e.svc.MoveClassToRevision(e.ctx, e.trainer, cl.ID, 1)
	wantErr(t, err, nil)
	_, err = e.svc.MoveClassToRevision(e.ctx, e.unitAdmin, byUA.ID, 1)
	wantErr(t, err, nil)
}

func (e *env) unitOf(unit string, n int) []accounts.Principal {
	out := make([]accounts.Principal, n)
	for i := range out {
		out[i] = e.person(fmt.Sprintf("Học Viên %04d", i), unit, accounts.RoleLearner)
	}
	return out
}

func (e *env) countEnrolments(classID string) int {
	e.t.Helper()
	n, err := e.svc.enrolments.CountDocuments(e.ctx, bson.M{"class_id": classID})
	e.must(err)
	return int(n)
}

func TestEnrolUnitWithSubunits(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("UNIT")
	cl := e.class(c, 0)
	e.unitOf("dept1", 30)
	e.unitOf("commune1", 20)
	e.unitOf("dept2", 10)
	inactive := e.person("Đã Nghỉ", "commune1", accounts.RoleLearner)
	inactive.User.Active = false
	e.dir.addUser(inactive.User)

	only, err := e.svc.EnrolUnit(e.ctx, e.trainer, cl.ID, "dept1", false)
	wantErr(t, err, nil)
	// dept1 holds 30 new learners, the unit admin and e.learner.
	if only.Enrolled != 32 || only.Already != 0 {
		t.Fatalf("dept1 alone: %+v", only)
	}
	r, err := e.svc.EnrolUnit(e.ctx, e.unitAdmin, cl.ID, "dept1", true)
	wantErr(t, err, nil)
	if r.Enrolled != 21 || r.Already != 32 || len(r.Refused) != 1 || r.Refused[0] != (Refusal{inactive.User.ID, "inactive"}) {
		t.Fatalf("dept1 with sub-units: %+v", r)
	}
	if n := e.countEnrolments(cl.ID); n != 53 {
		t.Fatalf("%d enrolments", n)
	}
	got, err := e.svc.GetClass(e.ctx, e.trainer, cl.ID)
	wantErr(t, err, nil)
	if got.Enrolled != 53 {
		t.Fatalf("class counts %d", got.Enrolled)
	}
	// The listing carries names, units and a summary, sorted by name.
	page, err := e.svc.ListClassEnrolments(e.ctx, e.trainer, cl.ID, EnrolmentFilter{Limit: 10, Offset: 5})
	wantErr(t, err, nil)
	if page.Total != 53 || len(page.Items) != 10 || page.Items[0].FullName == "" || page.Items[0].Progress.TotalLessons != 3 {
		t.Fatalf("page %+v", page)
	}
	if !slices.IsSortedFunc(page.Items, func(a, b Enrolment) int { return compareStrings(a.FullName, b.FullName) }) {
		t.Fatal("not sorted by name")
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestConcurrentEnrolmentOfTheSameUnit(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("CONC")
	// Thousands of learners, so that the two requests overlap.
	e.unitOf("dept1", 1500)
	e.unitOf("commune1", 500)
	members := len(e.dir.users) - countIn(e, "prov") - countIn(e, "dept2")
	for _, capacity := range []int{0, 5000, 1000} {
		t.Run(fmt.Sprintf("capacity %d", capacity), func(t *testing.T) {
			cl := e.class(c, capacity)
			var (
				wg      sync.WaitGroup
				results [2]EnrolResult
				errs    [2]error
			)
			for i, p := range []accounts.Principal{e.trainer, e.unitAdmin} {
				wg.Go(func() { results[i], errs[i] = e.svc.EnrolUnit(e.ctx, p, cl.ID, "dept1", true) })
			}
			wg.Wait()
			wantErr(t, errs[0], nil)
			wantErr(t, errs[1], nil)
			want := members
			if capacity > 0 {
				want = min(members, capacity)
			}
			n := e.countEnrolments(cl.ID)
			if n != want {
				t.Fatalf("%d enrolments, want %d", n, want)
			}
			if results[0].Enrolled+results[1].Enrolled != n {
				t.Fatalf("enrolled %d + %d, want %d", results[0].Enrolled, results[1].Enrolled, n)
			}
			for _, r := range results {
				if r.Enrolled+r.Already+len(r.Refused) != members {
					t.Fatalf("result %+v, want enrolled+already+refused = %d", r, members)
				}
			}
			got, err := e.svc.GetClass(e.ctx, e.trainer, cl.ID)
			wantErr(t, err, nil)
			if got.Enrolled != n {
				t.Fatalf("class counter %d, want %d", got.Enrolled, n)
			}
			// Each learner exactly once.
			page, err := e.svc.ListClassEnrolments(e.ctx, e.admin, cl.ID, EnrolmentFilter{Limit: 500})
			wantErr(t, err, nil)
			seen := map[string]bool{}
			for _, en := range page.Items {
				if seen[en.UserID] {
					t.Fatalf("%s enrolled twice", en.UserID)
				}
				seen[en.UserID] = true
			}
		})
	}
}

func countIn(e *env, unit string) int {
	n := 0
	for _, u := range e.dir.users {
		if u.UnitID == unit {
			n++
		}
	}
	return n
}

func TestCapacity(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("CAP")
	cl := e.class(c, 25)
	people := e.unitOf("dept2", 40)
	var first []string
	for _, p := range people[:10] {
		first = append(first, p.User.ID)
	}
	r, err := e.svc.EnrolUsers(e.ctx, e.trainer, cl.ID, first)
	wantErr(t, err, nil)
	if r.Enrolled != 10 {
		t.Fatalf("%+v", r)
	}
	r, err = e.svc.EnrolUnit(e.ctx, e.trainer, cl.ID, "dept2", false)
	wantErr(t, err, nil)
	// dept2 holds the 40 and e.outsider: 10 already in, 15 seats left, 16 refused.
	if r.Enrolled != 15 || r.Already != 10 || len(r.Refused) != 16 || r.Refused[0].Reason != "capacity" {
		t.Fatalf("%+v", r)
	}
	if n := e.countEnrolments(cl.ID); n != 25 {
		t.Fatalf("%d enrolments in a class of 25", n)
	}
	// Two officers racing for the last seats never overbook.
	cl2 := e.class(c, 7)
	var wg sync.WaitGroup
	var total [2]int
	for i, unit := range []string{"dept1", "dept2"} {
		wg.Go(func() {
			r, err := e.svc.EnrolUnit(e.ctx, e.admin, cl2.ID, unit, true)
			if err != nil {
				t.Error(err)
			}
			total[i] = r.Enrolled
		})
	}
	wg.Wait()
	if n := e.countEnrolments(cl2.ID); n != 7 || total[0]+total[1] != 7 {
		t.Fatalf("%d enrolments (%v) in a class of 7", n, total)
	}
}

func TestClassRole(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("ROLE")
	cl := e.class(c, 0)
	e.enrol(cl, e.learner)
	for _, tt := range []struct {
		classID, userID, want string
	}{
		{cl.ID, e.trainer.User.ID, "trainer"},
		{cl.ID, e.learner.User.ID, "learner"},
		{cl.ID, e.outsider.User.ID, ""},
		{ids.New(), e.learner.User.ID, ""},
	} {
		got, err := e.svc.ClassRole(e.ctx, tt.classID, tt.userID)
		if err != nil || got != tt.want {
			t.Errorf("ClassRole(%s, %s) = %q, %v; want %q", tt.classID, tt.userID, got, err, tt.want)
		}
	}
}

// TestSeatCounterLeftHighByACrashIsRepaired simulates a process killed between reserving
// seats and inserting the enrolments: the class looks full. Once the reservation is older
// than seatRepairAge, the next enrolment recounts and gets in; before that it is refused,
// since the seats might belong to an enrolment still in progress.
func TestSeatCounterLeftHighByACrashIsRepaired(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("SEAT")
	cl := e.class(c, 2)
	e.enrol(cl, e.learner)
	if _, err := e.svc.reserveSeats(e.ctx, cl.ID, 1); err != nil { // the crashed enrolment
		t.Fatal(err)
	}
	r, err := e.svc.EnrolUsers(e.ctx, e.trainer, cl.ID, []string{e.learner2.User.ID})
	wantErr(t, err, nil)
	if r.Enrolled != 0 || len(r.Refused) != 1 {
		t.Fatalf("a seat that may be in use was given away: %+v", r)
	}
	e.clk.Advance(seatRepairAge + time.Second)
	r, err = e.svc.EnrolUsers(e.ctx, e.trainer, cl.ID, []string{e.learner2.User.ID})
	wantErr(t, err, nil)
	if r.Enrolled != 1 {
		t.Fatalf("after the repair age: %+v", r)
	}
	if n := e.countEnrolments(cl.ID); n != 2 {
		t.Fatalf("%d enrolments in a class of 2", n)
	}
	got, err := e.svc.findClass(e.ctx, cl.ID)
	wantErr(t, err, nil)
	if got.Enrolled != 2 {
		t.Fatalf("the seat counter says %d, want 2", got.Enrolled)
	}
}

// TestSeatCounterOfAnOpenClassIsRepaired: a class without a limit never looks full, so the
// counter a crash left too high is recounted by the next enrolment once the reservation is
// old enough, not when seats run out; before that the seats may be in use and stay.
func TestSeatCounterOfAnOpenClassIsRepaired(t *testing.T) {
	e := newEnv(t)
	cl := e.class(e.publishedCourse("OPEN"), 0)
	e.enrol(cl, e.learner)
	if _, err := e.svc.reserveSeats(e.ctx, cl.ID, 5); err != nil { // the crashed enrolment
		t.Fatal(err)
	}
	counter := func() int {
		got, err := e.svc.findClass(e.ctx, cl.ID)
		wantErr(t, err, nil)
		return got.Enrolled
	}
	e.enrol(cl, e.learner)
	if n := counter(); n != 6 {
		t.Fatalf("seats that may be in use were recounted: the counter says %d, want 6", n)
	}
	e.clk.Advance(seatRepairAge + time.Second)
	r, err := e.svc.EnrolUsers(e.ctx, e.trainer, cl.ID, []string{e.learner2.User.ID})
	wantErr(t, err, nil)
	if r.Enrolled != 1 {
		t.Fatalf("after the repair age: %+v", r)
	}
	if n := counter(); n != 2 || e.countEnrolments(cl.ID) != 2 {
		t.Fatalf("the seat counter says %d, %d enrolments", n, e.countEnrolments(cl.ID))
	}
}
