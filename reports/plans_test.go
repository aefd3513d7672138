package reports

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hoctap/accounts"
)

type planFixture struct {
	w              *world
	prov, a, b, a1 accounts.Unit
	c1, c2         CourseInfo
	k1, k1old, k2  ClassInfo
	officerA       accounts.Principal
}

func newPlanFixture(t *testing.T) *planFixture {
	w := newWorld(t)
	f := &planFixture{w: w}
	f.prov = w.unit("Tỉnh", nil)
	f.a = w.unit("Huyện A", &f.prov)
	f.b = w.unit("Huyện B", &f.prov)
	f.a1 = w.unit("Xã A1", &f.a)
	f.c1 = w.learn.addCourse("CDS", "Chuyển đổi số", "ky_nang_so", "Kỹ năng số")
	f.c2 = w.learn.addCourse("LLCT", "Lý luận chính trị", "ly_luan_chinh_tri", "Lý luận chính trị")
	// 2025 in Vietnam starts at 17:00 UTC on 31/12/2024.
	f.k1 = w.learn.addClass(f.c1.ID, "CĐS 2025", time.Date(2024, 12, 31, 17, 30, 0, 0, time.UTC))
	f.k1old = w.learn.addClass(f.c1.ID, "CĐS 2024", time.Date(2024, 12, 31, 16, 30, 0, 0, time.UTC))
	f.k2 = w.learn.addClass(f.c2.ID, "LLCT 2025", time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC))
	f.officerA = officer(w.user("Tổ chức A", f.a, "CV", accounts.RoleUnitAdmin))
	return f
}

func TestPlanReport(t *testing.T) {
	f := newPlanFixture(t)
	w := f.w
	ctx := context.Background()
	mk := func(u accounts.Unit, n int) []accounts.User {
		var out []accounts.User
		for i := range n {
			out = append(out, w.user(fmt.Sprintf("%s %d", u.Name, i), u, "Chuyên viên"))
		}
		return out
	}
	provStaff, aStaff, bStaff, a1Staff := mk(f.prov, 2), mk(f.a, 4), mk(f.b, 5), mk(f.a1, 3)
	// CĐS 2025: A 4 enrolled (3 completed), A1 3 (1), B 5 (5), province 1 (0).
	for i, u := range aStaff {
		w.learn.enrol(f.k1, u, map[bool]int{true: 100, false: 50}[i < 3], t0)
	}
	for i, u := range a1Staff {
		w.learn.enrol(f.k1, u, map[bool]int{true: 100, false: 10}[i < 1], t0)
	}
	for _, u := range bStaff {
		w.learn.enrol(f.k1, u, 100, t0)
	}
	w.learn.enrol(f.k1, provStaff[0], 20, t0)
	// CĐS 2024 does not count for 2025, nor does someone counted twice.
	w.learn.enrol(f.k1old, aStaff[3], 100, t0)
	second := w.learn.addClass(f.c1.ID, "CĐS 2025 đợt 2", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	w.learn.enrol(second, aStaff[0], 100, t0)
	// LLCT: B 2 completed; a deactivated learner of A does not count.
	w.learn.enrol(f.k2, bStaff[0], 100, t0)
	w.learn.enrol(f.k2, bStaff[1], 100, t0)
	gone := w.user("Đã nghỉ", f.a, "CV")
	w.learn.enrol(f.k2, gone, 100, t0)
	off := false
	must(w.acc.UpdateUser(ctx, w.admin, gone.ID, accounts.UserPatch{Active: &off}))

	plan := must(w.svc.CreatePlan(ctx, w.admin, PlanInput{UnitID: f.prov.ID, Year: 2025, Title: "Kế hoạch bồi dưỡng 2025",
		Items: []PlanItemInput{{CourseID: f.c1.ID, Planned: 20}, {CourseID: f.c2.ID, ClassID: f.k2.ID, Planned: 4}}}))
	// Sub-unit plans: B has its own; A has none but its commune does.
	must(w.svc.CreatePlan(ctx, w.admin, PlanInput{UnitID: f.b.ID, Year: 2025, Title: "B", Items: []PlanItemInput{{CourseID: f.c1.ID, Planned: 6}}}))
	must(w.svc.CreatePlan(ctx, w.admin, PlanInput{UnitID: f.a1.ID, Year: 2025, Title: "A1", Items: []PlanItemInput{{CourseID: f.c1.ID, Planned: 3}}}))
	must(w.svc.CreatePlan(ctx, w.admin, PlanInput{UnitID: f.a.ID, Year: 2024, Title: "A 2024", Items: []PlanItemInput{{CourseID: f.c1.ID, Planned: 99}}}))

	rep := must(w.svc.PlanReport(ctx, w.admin, plan.ID))
	fig := func(p PlanFigures) [3]int { return [3]int{p.Planned, p.Enrolled, p.Completed} }
	if got := fig(rep.Items[0].PlanFigures); got != [3]int{20, 13, 9} { // 1+4+3+5 enrolled; 3+1+5 completed
		t.Fatalf("CĐS line %v", got)
	}
	if rep.Items[0].CompletedPercent != 45 || rep.Items[0].EnrolledPercent != 65 {
		t.Fatalf("CĐS percents %+v", rep.Items[0].PlanFigures)
	}
	if got := fig(rep.Items[1].PlanFigures); got != [3]int{4, 2, 2} || rep.Items[1].Item.Title != "Lý luận chính trị – LLCT 2025" {
		t.Fatalf("LLCT line %v %q", got, rep.Items[1].Item.Title)
	}
	if got := fig(rep.Total); got != [3]int{24, 15, 11} || rep.Summary != "Đạt 45,8% so với kế hoạch (11/24 học viên)" {
		t.Fatalf("total %v %q", got, rep.Summary)
	}
	if len(rep.ByCategory) != 2 || rep.ByCategory[0].Category != "ky_nang_so" || rep.ByCategory[0].CategoryLabel != "Kỹ năng số" ||
		fig(rep.ByCategory[0].PlanFigures) != [3]int{20, 13, 9} || fig(rep.ByCategory[1].PlanFigures) != [3]int{4, 2, 2} {
		t.Fatalf("by category %+v", rep.ByCategory)
	}
	want := []struct {
		name string
		fig  [3]int
	}{
		{"Tỉnh", [3]int{24, 15, 11}},
		{"Tỉnh (trực thuộc)", [3]int{0, 1, 0}},
		{"Huyện A", [3]int{3, 7, 4}}, // A1's plan stands for A
		{"Huyện B", [3]int{6, 7, 7}}, // 5 in CĐS + 2 in LLCT
	}
	if len(rep.ByUnit) != len(want) {
		t.Fatalf("by unit %+v", rep.ByUnit)
	}
	for i, wu := range want {
		if rep.ByUnit[i].Unit.Name != wu.name || fig(rep.ByUnit[i].PlanFigures) != wu.fig {
			t.Fatalf("by unit row %d: %s %v, want %s %v", i, rep.ByUnit[i].Unit.Name, fig(rep.ByUnit[i].PlanFigures), wu.name, wu.fig)
		}
	}
	if rep.ByUnit[3].CompletedPercent != 116.7 {
		t.Fatalf("B percent %v", rep.ByUnit[3].CompletedPercent)
	}
}

func TestPlanRulesAndPermissions(t *testing.T) {
	f := newPlanFixture(t)
	w := f.w
	ctx := context.Background()
	good := PlanInput{UnitID: f.a.ID, Year: 2025, Title: "KH A", Items: []PlanItemInput{{CourseID: f.c1.ID, Planned: 10}}}
	bad := map[string]func(*PlanInput){
		"no title":      func(p *PlanInput) { p.Title = "" },
		"year":          func(p *PlanInput) { p.Year = 1999 },
		"no items":      func(p *PlanInput) { p.Items = nil },
		"planned 0":     func(p *PlanInput) { p.Items = []PlanItemInput{{CourseID: f.c1.ID}} },
		"unknown":       func(p *PlanInput) { p.Items = []PlanItemInput{{CourseID: "nope", Planned: 1}} },
		"class":         func(p *PlanInput) { p.Items = []PlanItemInput{{CourseID: f.c1.ID, ClassID: f.k2.ID, Planned: 1}} },
		"no class":      func(p *PlanInput) { p.Items = []PlanItemInput{{CourseID: f.c1.ID, ClassID: "nope", Planned: 1}} },
		"repeated line": func(p *PlanInput) { p.Items = append(p.Items, p.Items[0]) },
		"unit":          func(p *PlanInput) { p.UnitID = "nope" },
	}
	for name, mut := range bad {
		in := good
		in.Items = append([]PlanItemInput(nil), good.Items...)
		mut(&in)
		_, err := w.svc.CreatePlan(ctx, f.officerA, in)
		if code := errCode(err); code != "invalid" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if p := must(w.svc.ListPlans(ctx, w.admin, PlanFilter{})); p.Total != 0 {
		t.Fatalf("invalid input stored %d plans", p.Total)
	}
	plan := must(w.svc.CreatePlan(ctx, f.officerA, good))
	_, err := w.svc.CreatePlan(ctx, f.officerA, good)
	wantCode(t, err, "conflict")
	_, err = w.svc.CreatePlan(ctx, f.officerA, PlanInput{UnitID: f.b.ID, Year: 2025, Title: "x", Items: good.Items})
	wantCode(t, err, "forbidden")
	learner := officer(w.user("Học viên", f.a, "CV"))
	_, err = w.svc.CreatePlan(ctx, learner, good)
	wantCode(t, err, "forbidden")
	_, err = w.svc.GetPlan(ctx, learner, plan.ID)
	wantCode(t, err, "forbidden")
	provPlan := must(w.svc.CreatePlan(ctx, w.admin, PlanInput{UnitID: f.prov.ID, Year: 2025, Title: "Tỉnh", Items: good.Items}))
	for _, fn := range []func() error{
		func() error { _, err := w.svc.GetPlan(ctx, f.officerA, provPlan.ID); return err },
		func() error { _, err := w.svc.PlanReport(ctx, f.officerA, provPlan.ID); return err },
		func() error { return w.svc.DeletePlan(ctx, f.officerA, provPlan.ID) },
		func() error { _, err := w.svc.ListPlans(ctx, f.officerA, PlanFilter{UnitID: f.b.ID}); return err },
	} {
		wantCode(t, fn(), "not_found")
	}
	if p := must(w.svc.ListPlans(ctx, f.officerA, PlanFilter{})); p.Total != 1 || p.Items[0].ID != plan.ID {
		t.Fatalf("officer A lists %+v", p)
	}
	if p := must(w.svc.ListPlans(ctx, w.admin, PlanFilter{UnitID: f.a.ID, Year: 2025})); p.Total != 1 {
		t.Fatalf("admin lists %d under A", p.Total)
	}

	// Update replaces the lines; unit and year stay.
	up := must(w.svc.UpdatePlan(ctx, f.officerA, plan.ID, PlanInput{Title: "KH A sửa", Items: []PlanItemInput{{CourseID: f.c2.ID, Planned: 7}}}))
	if up.Title != "KH A sửa" || len(up.Items) != 1 || up.Items[0].CourseID != f.c2.ID || up.Year != 2025 {
		t.Fatalf("updated %+v", up)
	}
	_, err = w.svc.UpdatePlan(ctx, f.officerA, plan.ID, PlanInput{Year: 2026, Title: "x", Items: good.Items})
	wantCode(t, err, "invalid")
	_, err = w.svc.UpdatePlan(ctx, f.officerA, plan.ID, PlanInput{Title: "x"})
	wantCode(t, err, "invalid")
	if got := must(w.svc.GetPlan(ctx, f.officerA, plan.ID)); got.Title != "KH A sửa" {
		t.Fatalf("bad update changed the plan: %+v", got)
	}
	if err := w.svc.DeletePlan(ctx, f.officerA, plan.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.GetPlan(ctx, w.admin, plan.ID)
	wantCode(t, err, "not_found")
}
