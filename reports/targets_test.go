package reports

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"hoctap/accounts"
	"hoctap/internal/textfold"
)

func TestOnPace(t *testing.T) {
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	due := created.AddDate(0, 0, 100)
	day := func(n int) time.Time { return created.AddDate(0, 0, n) }
	tests := []struct {
		name        string
		staff, done int
		target      float64
		now         time.Time
		projected   float64
		pace        Pace
		onTrack     bool
	}{
		{"nobody counted", 0, 0, 100, day(10), 0, PaceNoStaff, true},
		{"met", 10, 10, 100, day(10), 100, PaceMet, true},
		{"met below 100", 10, 8, 80, day(10), 80, PaceMet, true},
		{"overdue", 10, 5, 100, day(100), 50, PaceOverdue, false},
		{"overdue later", 10, 5, 100, day(150), 50, PaceOverdue, false},
		{"met after due", 10, 10, 100, day(150), 100, PaceMet, true},
		{"on track halfway", 10, 5, 100, day(50), 100, PaceOnTrack, true},
		{"behind halfway", 10, 4, 100, day(50), 80, PaceBehind, false},
		{"on track for 80", 10, 4, 80, day(50), 80, PaceOnTrack, true},
		{"fast start capped", 100, 30, 100, day(10), 100, PaceOnTrack, true},
		{"fresh target counts one day", 100, 1, 100, created.Add(time.Hour), 100, PaceOnTrack, true},
		{"fresh target nothing done", 100, 0, 100, created.Add(time.Hour), 0, PaceBehind, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, pace, ok := OnPace(tt.staff, tt.done, tt.target, created, due, tt.now)
			if p != tt.projected || pace != tt.pace || ok != tt.onTrack {
				t.Fatalf("OnPace = %v %v %v, want %v %v %v", p, pace, ok, tt.projected, tt.pace, tt.onTrack)
			}
		})
	}
}

func TestFormatVN(t *testing.T) {
	for in, want := range map[int]string{0: "0", 12: "12", 999: "999", 1000: "1.000", 4686: "4.686", 1234567: "1.234.567", -3865: "-3.865"} {
		if got := FormatIntVN(in); got != want {
			t.Errorf("FormatIntVN(%d) = %q, want %q", in, got, want)
		}
	}
	if got := FormatPercentVN(82.4839); got != "82,5%" {
		t.Errorf("FormatPercentVN = %q", got)
	}
	f := PlanFigures{Planned: 4686, Completed: 3865, CompletedPercent: percentOf(3865, 4686)}
	if got := PlanSummary(f); got != "Đạt 82,5% so với kế hoạch (3.865/4.686 học viên)" {
		t.Errorf("PlanSummary = %q", got)
	}
}

func TestParseDue(t *testing.T) {
	d, err := ParseDue("2025-12-31")
	if err != nil {
		t.Fatal(err)
	}
	// The day ends at midnight in Vietnam, 17:00 UTC.
	if want := time.Date(2025, 12, 31, 17, 0, 0, 0, time.UTC); !d.Equal(want) {
		t.Fatalf("due %v, want %v", d, want)
	}
	for _, bad := range []string{"", "31/12/2025", "2025-13-01", "2025-02-30", "tomorrow"} {
		if _, err := ParseDue(bad); err == nil {
			t.Errorf("ParseDue(%q) accepted", bad)
		}
	}
}

// genTree builds root → a deep chain of 12 units and a wide fan of 25 units with 3
// children each, and scatters people over every unit with random positions, progress and
// activity. It returns every unit and person.
func genTree(w *world, r *rand.Rand, class ClassInfo) (root accounts.Unit, units []accounts.Unit, people []accounts.User) {
	root = w.unit("Tỉnh Thử Nghiệm", nil)
	units = append(units, root)
	parent := root
	for i := range 12 {
		u := w.unit(fmt.Sprintf("Cấp sâu %02d", i), &parent)
		units = append(units, u)
		parent = u
	}
	for i := range 25 {
		u := w.unit(fmt.Sprintf("Sở %02d", i), &root)
		units = append(units, u)
		for j := range 3 {
			units = append(units, w.unit(fmt.Sprintf("Phòng %02d-%d", i, j), &u))
		}
	}
	positions := []string{"Chuyên viên", "Trưởng phòng", "Phó Trưởng phòng", "Văn thư"}
	for i := range 600 {
		u := units[r.IntN(len(units))]
		p := w.user(fmt.Sprintf("Nguyễn Văn %04d", i), u, positions[r.IntN(len(positions))])
		switch r.IntN(3) {
		case 0:
			w.learn.enrol(class, p, 100, t0.Add(time.Duration(r.IntN(48))*time.Hour))
		case 1:
			w.learn.enrol(class, p, r.IntN(99), time.Time{})
		}
		people = append(people, p)
	}
	return root, units, people
}

// expectation counts, by brute force, what a target must report for unit: the active
// people whose current unit is unit or lies below it and whose position matches, and
// how many of them completed the course.
func expectation(unit accounts.Unit, units map[string]accounts.Unit, people []accounts.User, completed map[string]bool, positions []string) (staff, done int) {
	set := map[string]bool{}
	for _, p := range positions {
		set[textfold.Fold(p)] = true
	}
	for _, p := range people {
		if !p.Active {
			continue
		}
		pu := units[p.UnitID]
		if pu.ID != unit.ID && !slices.Contains(pu.Path, unit.ID) {
			continue
		}
		if len(set) > 0 && !set[textfold.Fold(p.Position)] {
			continue
		}
		staff++
		if completed[p.ID] {
			done++
		}
	}
	return staff, done
}

func TestTargetRollUpGeneratedTree(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 11))
	course := w.learn.addCourse("DVC", "Ứng dụng dịch vụ công trực tuyến", "ky_nang_so", "Kỹ năng số")
	class := w.learn.addClass(course.ID, "Lớp 1", t0)
	root, units, people := genTree(w, r, class)
	// A second class of the same course: completing either counts.
	class2 := w.learn.addClass(course.ID, "Lớp 2", t0)

	// Move 40 people between units and deactivate 30, through the real accounts service.
	for i := range 40 {
		p := &people[r.IntN(len(people))]
		to := units[r.IntN(len(units))].ID
		moved, err := w.acc.UpdateUser(ctx, w.admin, p.ID, accounts.UserPatch{UnitID: &to})
		if err != nil {
			t.Fatalf("move %d: %v", i, err)
		}
		*p = moved
	}
	off := false
	for range 30 {
		p := &people[r.IntN(len(people))]
		d, err := w.acc.UpdateUser(ctx, w.admin, p.ID, accounts.UserPatch{Active: &off})
		if err != nil {
			t.Fatal(err)
		}
		*p = d
	}
	// Someone who completed in the second class only.
	for _, p := range people[:5] {
		w.learn.enrol(class2, p, 100, t0)
	}

	completed := map[string]bool{}
	for _, e := range w.learn.enrolments {
		if e.Completed {
			completed[e.UserID] = true
		}
	}
	byID := unitsByID(units)

	for _, positions := range [][]string{nil, {"trưởng phòng", "PHO TRUONG PHONG"}} {
		tg := must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "100% công chức sử dụng DVC",
			CourseID: course.ID, Metric: MetricCompleted, Percent: 100, Due: "2025-12-31", Positions: positions}))
		w.clock.Advance(24 * time.Hour)
		st := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
		nodes := flatten(&st.StatusNode)
		if len(nodes) != len(units) {
			t.Fatalf("status has %d units, want %d", len(nodes), len(units))
		}
		for _, n := range nodes {
			staff, done := expectation(byID[n.Unit.ID], byID, people, completed, positions)
			if n.Staff != staff || n.Done != done {
				t.Fatalf("positions %v, unit %s: staff %d done %d, want %d %d", positions, n.Unit.Name, n.Staff, n.Done, staff, done)
			}
			if n.Percent != percentOf(done, staff) {
				t.Fatalf("unit %s: percent %v", n.Unit.Name, n.Percent)
			}
			if n.Depth != len(byID[n.Unit.ID].Path) {
				t.Fatalf("unit %s: depth %d", n.Unit.Name, n.Depth)
			}
			sumStaff, sumDone := n.DirectStaff, n.DirectDone
			for _, c := range n.Children {
				sumStaff += c.Staff
				sumDone += c.Done
			}
			if sumStaff != n.Staff || sumDone != n.Done {
				t.Fatalf("unit %s: children do not add up", n.Unit.Name)
			}
		}
		if st.Staff == 0 || st.Done == 0 || st.Done == st.Staff {
			t.Fatalf("degenerate data: %d/%d", st.Done, st.Staff)
		}

		// Rooted lower, with depth limit: same figures for that unit.
		sub := units[13] // "Sở 00"
		part := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{UnitID: sub.ID, Depth: 1}))
		staff, done := expectation(sub, byID, people, completed, positions)
		if part.Unit.ID != sub.ID || part.Staff != staff || part.Done != done || part.Depth != 0 || len(part.Children) != 3 {
			t.Fatalf("sub-status %+v", part.StatusNode)
		}
		for _, c := range part.Children {
			if len(c.Children) != 0 || c.Depth != 1 {
				t.Fatalf("depth limit not applied: %+v", c)
			}
		}

		// Pending people are exactly the counted people not done.
		pend := must(w.svc.PendingPeople(ctx, w.admin, tg.ID, PendingQuery{UnitID: sub.ID, Limit: 500}))
		if pend.Total != staff-done || len(pend.Items) != staff-done {
			t.Fatalf("pending %d (%d items), want %d", pend.Total, len(pend.Items), staff-done)
		}
		for _, p := range pend.Items {
			if completed[p.UserID] {
				t.Fatalf("%s is done but pending", p.FullName)
			}
		}
	}
}

func TestTargetMoveAndDeactivate(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	root := w.unit("Sở Nội vụ", nil)
	a := w.unit("Phòng A", &root)
	b := w.unit("Phòng B", &root)
	course := w.learn.addCourse("DVC", "Dịch vụ công", "ky_nang_so", "Kỹ năng số")
	class := w.learn.addClass(course.ID, "Lớp", t0)
	ann := w.user("Lê Thị An", a, "Chuyên viên")
	binh := w.user("Trần Bình", a, "Chuyên viên")
	w.user("Phạm Cường", b, "Chuyên viên")
	w.learn.enrol(class, ann, 100, t0) // completed while in A
	w.learn.enrol(class, binh, 100, t0)

	tg := must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "DVC", CourseID: course.ID,
		Metric: MetricCompleted, Percent: 100, Due: "2025-06-30"}))
	check := func(label string, wantA, wantB [2]int) {
		t.Helper()
		st := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
		got := map[string][2]int{}
		for _, c := range st.Children {
			got[c.Unit.ID] = [2]int{c.Staff, c.Done}
		}
		if got[a.ID] != wantA || got[b.ID] != wantB || st.Staff != wantA[0]+wantB[0] || st.Done != wantA[1]+wantB[1] {
			t.Fatalf("%s: A %v B %v root %d/%d; want A %v B %v", label, got[a.ID], got[b.ID], st.Done, st.Staff, wantA, wantB)
		}
	}
	check("start", [2]int{2, 2}, [2]int{1, 0})
	// An moves to B: she and her completion are counted in B now. The directory snapshot
	// is reused for CacheTTL; once it expires the figures follow the move.
	to := b.ID
	must(w.acc.UpdateUser(ctx, w.admin, ann.ID, accounts.UserPatch{UnitID: &to}))
	check("within the cache lifetime", [2]int{2, 2}, [2]int{1, 0})
	// Past CacheTTL the old snapshot is served once more while a new one loads.
	w.clock.Advance(30 * time.Second)
	check("stale while refreshing", [2]int{2, 2}, [2]int{1, 0})
	for i := 0; ; i++ {
		st := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
		if st.AsOf.Equal(w.clock.Now()) {
			break
		}
		if i == 500 {
			t.Fatal("the background refresh never landed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	check("after move", [2]int{1, 1}, [2]int{2, 1})
	// Past MaxStale nothing old is served.
	must(w.acc.UpdateUser(ctx, w.admin, ann.ID, accounts.UserPatch{UnitID: &a.ID}))
	w.clock.Advance(11 * time.Minute)
	check("too stale to serve", [2]int{2, 2}, [2]int{1, 0})
	to = b.ID
	must(w.acc.UpdateUser(ctx, w.admin, ann.ID, accounts.UserPatch{UnitID: &to}))
	if err := w.svc.UserChanged(ctx, ann.ID); err != nil {
		t.Fatal(err)
	}
	check("moved back", [2]int{1, 1}, [2]int{2, 1})
	// Bình is deactivated: no longer counted anywhere, at once after UserChanged.
	off := false
	must(w.acc.UpdateUser(ctx, w.admin, binh.ID, accounts.UserPatch{Active: &off}))
	if err := w.svc.UserChanged(ctx, binh.ID); err != nil {
		t.Fatal(err)
	}
	check("after deactivation", [2]int{0, 0}, [2]int{2, 1})
	st := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
	if st.Children[0].Pace != PaceNoStaff || !st.Children[0].OnTrack {
		t.Fatalf("empty unit: %+v", st.Children[0])
	}
}

func TestTargetMetricsPassedAndAttended(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	root := w.unit("UBND xã", nil)
	course := w.learn.addCourse("LLCT", "Lý luận chính trị", "ly_luan_chinh_tri", "Lý luận chính trị")
	class := w.learn.addClass(course.ID, "Lớp", t0)
	w.live.classes[class.ID] = course.ID
	var us []accounts.User
	for i := range 4 {
		us = append(us, w.user(fmt.Sprintf("Người %d", i), root, "Công chức"))
	}
	w.quiz.res[course.ID] = CourseQuizResults{
		Quizzes: []QuizInfo{{ID: "q1", Title: "Giữa kỳ", Required: true}, {ID: "q2", Title: "Cuối kỳ", Required: true}, {ID: "q3", Title: "Tự luyện"}},
		Results: []QuizResult{
			{QuizID: "q1", UserID: us[0].ID, BestPercent: 90, Passed: true},
			{QuizID: "q2", UserID: us[0].ID, BestPercent: 80, Passed: true},
			{QuizID: "q1", UserID: us[1].ID, BestPercent: 70, Passed: true},
			{QuizID: "q2", UserID: us[1].ID, BestPercent: 30},
			{QuizID: "q3", UserID: us[2].ID, BestPercent: 100, Passed: true},
		},
	}
	w.live.sessions[class.ID] = []SessionAttendance{
		{SessionID: "s1", Learners: []LearnerAttendance{{UserID: us[0].ID, Minutes: 50}, {UserID: us[1].ID, Minutes: 30}}},
		{SessionID: "s2", Learners: []LearnerAttendance{{UserID: us[1].ID, Minutes: 30}, {UserID: us[2].ID, Minutes: 59}}},
	}
	cases := []struct {
		in   NewTarget
		done int
	}{
		{NewTarget{Metric: MetricPassed}, 1},                    // both required quizzes: only us[0]
		{NewTarget{Metric: MetricPassed, QuizID: "q1"}, 2},      // q1: us[0], us[1]
		{NewTarget{Metric: MetricPassed, QuizID: "q3"}, 1},      // q3: us[2]
		{NewTarget{Metric: MetricAttended, MinMinutes: 60}, 1},  // us[1] has 30+30
		{NewTarget{Metric: MetricAttended, MinMinutes: 50}, 3},  // us[0] 50, us[1] 60, us[2] 59
		{NewTarget{Metric: MetricAttended, MinMinutes: 1}, 3},   // everyone present
		{NewTarget{Metric: MetricCompleted, Percent: 100}, 0},   // nobody enrolled
		{NewTarget{Metric: MetricAttended, MinMinutes: 500}, 0}, // nobody
	}
	for i, c := range cases {
		in := c.in
		in.UnitID, in.CourseID, in.Title, in.Due, in.Percent = root.ID, course.ID, "t", "2025-12-31", 100
		tg := must(w.svc.CreateTarget(ctx, w.admin, in))
		st := must(w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
		if st.Staff != 4 || st.Done != c.done {
			t.Errorf("case %d (%s %s %d): %d/%d, want %d/4", i, in.Metric, in.QuizID, in.MinMinutes, st.Done, st.Staff, c.done)
		}
	}
	// Without any required quiz, passing any quiz counts.
	res := w.quiz.res[course.ID]
	for i := range res.Quizzes {
		res.Quizzes[i].Required = false
	}
	if got := len(PassedSet(res, "")); got != 3 {
		t.Fatalf("PassedSet without required quizzes: %d, want 3", got)
	}
}

func TestCreateTargetInvalid(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	root := w.unit("Tỉnh", nil)
	course := w.learn.addCourse("DVC", "Dịch vụ công", "ky_nang_so", "Kỹ năng số")
	good := NewTarget{UnitID: root.ID, Title: "DVC", CourseID: course.ID, Metric: MetricCompleted, Percent: 100, Due: "2025-12-31"}
	cases := map[string]func(*NewTarget){
		"title":       func(n *NewTarget) { n.Title = "  " },
		"long title":  func(n *NewTarget) { n.Title = string(make([]rune, 201)) + "x" },
		"metric":      func(n *NewTarget) { n.Metric = "finished" },
		"percent 0":   func(n *NewTarget) { n.Percent = 0 },
		"percent 101": func(n *NewTarget) { n.Percent = 101 },
		"due format":  func(n *NewTarget) { n.Due = "31/12/2025" },
		"due far":     func(n *NewTarget) { n.Due = "1999-02-28" },
		"no unit":     func(n *NewTarget) { n.UnitID = "" },
		"bad unit":    func(n *NewTarget) { n.UnitID = "nope" },
		"bad course":  func(n *NewTarget) { n.CourseID = "nope" },
		"minutes":     func(n *NewTarget) { n.Metric = MetricAttended },
		"minutes2":    func(n *NewTarget) { n.MinMinutes = 30 },
		"quiz":        func(n *NewTarget) { n.QuizID = "q1" },
		"quiz2":       func(n *NewTarget) { n.Metric, n.QuizID = MetricPassed, "not-in-course" },
		"positions":   func(n *NewTarget) { n.Positions = []string{"Chuyên viên", " "} },
	}
	for name, mut := range cases {
		in := good
		mut(&in)
		_, err := w.svc.CreateTarget(ctx, w.admin, in)
		wantCode(t, err, "invalid")
		_ = name
	}
	page := must(w.svc.ListTargets(ctx, w.admin, TargetFilter{}))
	if page.Total != 0 {
		t.Fatalf("invalid input stored %d targets", page.Total)
	}
	// A due date already passed is accepted and shows as overdue (or met).
	past := good
	past.Due = "2025-02-28"
	old := must(w.svc.CreateTarget(ctx, w.admin, past))
	if err := w.svc.UserChanged(ctx, w.user("Chưa học", root, "CV").ID); err != nil {
		t.Fatal(err)
	}
	if st := must(w.svc.TargetStatus(ctx, w.admin, old.ID, StatusQuery{})); st.Pace != PaceOverdue || st.OnTrack {
		t.Fatalf("past target %+v", st.StatusNode)
	}
	tg := must(w.svc.CreateTarget(ctx, w.admin, good))
	if tg.DueAt.IsZero() || tg.UnitName != "Tỉnh" || tg.CourseTitle != "Dịch vụ công" || tg.Positions == nil {
		t.Fatalf("target %+v", tg)
	}
}

func TestTargetPermissions(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	prov := w.unit("Tỉnh", nil)
	distA := w.unit("Huyện A", &prov)
	distB := w.unit("Huyện B", &prov)
	communeA := w.unit("Xã A1", &distA)
	course := w.learn.addCourse("DVC", "Dịch vụ công", "ky_nang_so", "Kỹ năng số")
	for _, u := range []accounts.Unit{prov, distA, distB, communeA} {
		w.user("Cán bộ "+u.Name, u, "Chuyên viên")
	}
	officerA := officer(w.user("Tổ chức huyện A", distA, "Chuyên viên", accounts.RoleUnitAdmin))
	officerB := officer(w.user("Tổ chức huyện B", distB, "Chuyên viên", accounts.RoleUnitAdmin))
	learner := officer(w.user("Học viên", distA, "Chuyên viên"))
	trainer := officer(w.user("Giảng viên", distA, "Giảng viên", accounts.RoleTrainer))
	in := func(unit accounts.Unit) NewTarget {
		return NewTarget{UnitID: unit.ID, Title: "DVC " + unit.Name, CourseID: course.ID, Metric: MetricCompleted, Percent: 100, Due: "2025-12-31"}
	}

	// Creating: admin anywhere; a unit_admin in their subtree only; nobody else.
	provT := must(w.svc.CreateTarget(ctx, w.admin, in(prov)))
	aT := must(w.svc.CreateTarget(ctx, officerA, in(communeA)))
	_, err := w.svc.CreateTarget(ctx, officerA, in(distB))
	wantCode(t, err, "forbidden")
	_, err = w.svc.CreateTarget(ctx, officerA, in(prov))
	wantCode(t, err, "forbidden")
	for _, p := range []accounts.Principal{learner, trainer} {
		_, err = w.svc.CreateTarget(ctx, p, in(distA))
		wantCode(t, err, "forbidden")
		_, err = w.svc.TargetStatus(ctx, p, provT.ID, StatusQuery{})
		wantCode(t, err, "forbidden")
		_, err = w.svc.ListTargets(ctx, p, TargetFilter{})
		wantCode(t, err, "forbidden")
	}

	// Reading: officer A sees the province target rooted at their own district only.
	st := must(w.svc.TargetStatus(ctx, officerA, provT.ID, StatusQuery{}))
	// District A's staff, commune A1's, the officer, the learner and the trainer.
	if st.Unit.ID != distA.ID || st.Staff != 5 {
		t.Fatalf("officer A sees %s with %d staff", st.Unit.Name, st.Staff)
	}
	_, err = w.svc.TargetStatus(ctx, officerA, provT.ID, StatusQuery{UnitID: prov.ID})
	wantCode(t, err, "not_found")
	_, err = w.svc.TargetStatus(ctx, officerA, provT.ID, StatusQuery{UnitID: distB.ID})
	wantCode(t, err, "not_found")
	_, err = w.svc.PendingPeople(ctx, officerA, provT.ID, PendingQuery{UnitID: distB.ID})
	wantCode(t, err, "not_found")
	// Officer B cannot see A's commune target at all.
	_, err = w.svc.GetTarget(ctx, officerB, aT.ID)
	wantCode(t, err, "not_found")
	_, err = w.svc.TargetStatus(ctx, officerB, aT.ID, StatusQuery{})
	wantCode(t, err, "not_found")
	// Lists: A sees both, B sees the province one only.
	if p := must(w.svc.ListTargets(ctx, officerA, TargetFilter{})); p.Total != 2 {
		t.Fatalf("officer A lists %d targets", p.Total)
	}
	if p := must(w.svc.ListTargets(ctx, officerB, TargetFilter{})); p.Total != 1 || p.Items[0].ID != provT.ID {
		t.Fatalf("officer B lists %+v", p)
	}
	_, err = w.svc.ListTargets(ctx, officerB, TargetFilter{UnitID: distA.ID})
	wantCode(t, err, "not_found")
	if p := must(w.svc.ListTargets(ctx, w.admin, TargetFilter{UnitID: communeA.ID})); p.Total != 2 {
		t.Fatalf("targets applying to commune A: %d", p.Total)
	}
	// Deleting: not a target set above you.
	wantCode(t, w.svc.DeleteTarget(ctx, officerA, provT.ID), "forbidden")
	wantCode(t, w.svc.DeleteTarget(ctx, officerB, aT.ID), "not_found")
	if err := w.svc.DeleteTarget(ctx, officerA, aT.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.GetTarget(ctx, w.admin, aT.ID)
	wantCode(t, err, "not_found")
	_, err = w.svc.GetTarget(ctx, w.admin, "not-an-id")
	wantCode(t, err, "not_found")

	// Dashboard: scoped like the rest.
	d := must(w.svc.UnitDashboard(ctx, officerA, distA.ID))
	if len(d.Targets) != 1 || d.Targets[0].Status.Staff != 5 || len(d.Targets[0].Status.Children) != 1 {
		t.Fatalf("dashboard %+v", d)
	}
	_, err = w.svc.UnitDashboard(ctx, officerA, distB.ID)
	wantCode(t, err, "not_found")
	_, err = w.svc.UnitDashboard(ctx, learner, distA.ID)
	wantCode(t, err, "forbidden")
}

// Without ListActiveStaff, the directory is read through ListUsersInUnits: same figures.
func TestPlainAccountsDirectory(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	root := w.unit("Tỉnh", nil)
	a := w.unit("Huyện A", &root)
	course := w.learn.addCourse("DVC", "Dịch vụ công", "ky_nang_so", "Kỹ năng số")
	class := w.learn.addClass(course.ID, "Lớp", t0)
	w.learn.enrol(class, w.user("An", a, "CV"), 100, t0)
	w.user("Bình", a, "CV")
	gone := w.user("Cũ", root, "CV")
	off := false
	must(w.acc.UpdateUser(ctx, w.admin, gone.ID, accounts.UserPatch{Active: &off}))
	plain, err := New(Config{DB: w.db.Database, Clock: w.clock.Now, Directory: w.acc, Learning: w.learn, CacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Directory(w.acc).(ActiveStaffLister); ok {
		t.Fatal("accounts.Service grew ListActiveStaff: this test no longer covers the fallback")
	}
	tg := must(plain.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "DVC", CourseID: course.ID, Metric: MetricCompleted, Percent: 100, Due: "2025-12-31"}))
	st := must(plain.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{}))
	if st.Staff != 2 || st.Done != 1 || st.Children[0].Staff != 2 {
		t.Fatalf("status %+v", st.StatusNode)
	}
	if _, err := New(Config{DB: w.db.Database}); err == nil {
		t.Fatal("New accepted a config without Directory and Learning")
	}
}

// Concurrent roll-ups while the snapshots are dropped and reloaded agree with each other
// (run with -race to check the cache's locking).
func TestTargetStatusConcurrent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	root := w.unit("Tỉnh", nil)
	a := w.unit("Huyện A", &root)
	course := w.learn.addCourse("DVC", "Dịch vụ công", "ky_nang_so", "Kỹ năng số")
	class := w.learn.addClass(course.ID, "Lớp", t0)
	for i := range 30 {
		u := w.user(fmt.Sprintf("Người %d", i), a, "CV")
		if i%3 == 0 {
			w.learn.enrol(class, u, 100, t0)
		}
	}
	tg := must(w.svc.CreateTarget(ctx, w.admin, NewTarget{UnitID: root.ID, Title: "DVC", CourseID: course.ID, Metric: MetricCompleted, Percent: 100, Due: "2025-12-31"}))
	errc := make(chan error, 40)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10 {
			w.svc.Invalidate()
			w.clock.Advance(time.Minute) // past CacheTTL: background refreshes too
			time.Sleep(time.Millisecond)
		}
	}()
	for range 4 {
		go func() {
			for range 10 {
				st, err := w.svc.TargetStatus(ctx, w.admin, tg.ID, StatusQuery{})
				if err == nil && (st.Staff != 30 || st.Done != 10) {
					err = fmt.Errorf("status %d/%d", st.Done, st.Staff)
				}
				errc <- err
			}
		}()
	}
	for range 40 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	<-done
}
