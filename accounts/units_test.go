package accounts

import (
	"fmt"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

func TestCreateUnit(t *testing.T) {
	e := newEnv(t, Config{})
	hn := e.unit(t, e.admin, "Thành phố Hà Nội", "HN", "")
	if hn.ParentID != "" || len(hn.Path) != 0 || hn.NameFold != "thanh pho ha noi" {
		t.Fatalf("root %+v", hn)
	}
	snv := e.unit(t, e.admin, "Sở Nội vụ", "HN-SNV", hn.ID)
	if snv.ParentID != hn.ID || !slices.Equal(snv.Path, []string{hn.ID}) {
		t.Fatalf("child %+v", snv)
	}
	hcm := e.unit(t, e.admin, "Thành phố Hồ Chí Minh", "HCM", "")
	officer := e.user(t, "tcb", "Cán bộ tổ chức", snv.ID, RoleUnitAdmin)
	learner := e.user(t, "hocvien", "Học viên", snv.ID)

	// A unit_admin creates below their unit.
	phong := e.unit(t, as(officer), "Phòng Tổ chức", "HN-SNV-TC", snv.ID)
	if !slices.Equal(phong.Path, []string{hn.ID, snv.ID}) {
		t.Fatalf("grandchild %+v", phong)
	}
	deeper := e.unit(t, as(officer), "Tổ 1", "HN-SNV-TC-1", phong.ID)
	if !slices.Equal(deeper.Path, []string{hn.ID, snv.ID, phong.ID}) {
		t.Fatalf("great-grandchild %+v", deeper)
	}

	before := e.snapshot(t)
	bad := []struct {
		name  string
		actor Principal
		in    NewUnit
		want  error
		field string
	}{
		{"unit_admin creates a root", as(officer), NewUnit{Name: "X", Code: "X"}, errs.ErrForbidden, ""},
		{"unit_admin above their unit", as(officer), NewUnit{Name: "X", Code: "X", ParentID: hn.ID}, errs.ErrForbidden, ""},
		{"unit_admin in another tree", as(officer), NewUnit{Name: "X", Code: "X", ParentID: hcm.ID}, errs.ErrForbidden, ""},
		{"learner", as(learner), NewUnit{Name: "X", Code: "X", ParentID: snv.ID}, errs.ErrForbidden, ""},
		{"unknown parent", e.admin, NewUnit{Name: "X", Code: "X", ParentID: ids.New()}, errs.ErrInvalid, "parent_id"},
		{"malformed parent", e.admin, NewUnit{Name: "X", Code: "X", ParentID: "nope"}, errs.ErrInvalid, "parent_id"},
		{"no name", e.admin, NewUnit{Name: "  ", Code: "X"}, errs.ErrInvalid, "name"},
		{"no code", e.admin, NewUnit{Name: "X"}, errs.ErrInvalid, "code"},
		{"code with space", e.admin, NewUnit{Name: "X", Code: "A B"}, errs.ErrInvalid, "code"},
		{"duplicate code", e.admin, NewUnit{Name: "Hà Nội 2", Code: "HN"}, errs.ErrConflict, ""},
		{"duplicate code by unit_admin", as(officer), NewUnit{Name: "Y", Code: "HCM", ParentID: snv.ID}, errs.ErrConflict, ""},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.s.CreateUnit(e.ctx, tt.actor, tt.in)
			wantErr(t, err, tt.want)
			if tt.field != "" {
				wantField(t, err, tt.field)
			}
			e.unchanged(t, before)
		})
	}

	// GetUnit: staff see a unit with its children; learners do not.
	got, err := e.s.GetUnit(e.ctx, as(officer), hn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != hn.ID || len(got.Children) != 1 || got.Children[0].ID != snv.ID {
		t.Fatalf("GetUnit = %+v", got)
	}
	_, err = e.s.GetUnit(e.ctx, as(learner), hn.ID)
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.s.GetUnit(e.ctx, e.admin, ids.New())
	wantErr(t, err, errs.ErrNotFound)

	sub, err := e.s.SubtreeUnitIDs(e.ctx, snv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sub[0] != snv.ID || !slices.Equal(sortedIDs(sub), sortedIDs([]string{snv.ID, phong.ID, deeper.ID})) {
		t.Fatalf("SubtreeUnitIDs = %v", sub)
	}
	_, err = e.s.SubtreeUnitIDs(e.ctx, ids.New())
	wantErr(t, err, errs.ErrNotFound)

	// ListUnits: by parent, roots, and by a query ignoring accents, or by code.
	page, err := e.s.ListUnits(e.ctx, as(officer), UnitFilter{Q: "HO CHI minh"})
	if err != nil || page.Total != 1 || page.Items[0].ID != hcm.ID {
		t.Fatalf("ListUnits q = %+v, %v", page, err)
	}
	page, err = e.s.ListUnits(e.ctx, e.admin, UnitFilter{Q: "hn-snv-tc"})
	if err != nil || page.Total != 2 {
		t.Fatalf("ListUnits by code = %+v, %v", page, err)
	}
	page, err = e.s.ListUnits(e.ctx, e.admin, UnitFilter{RootsOnly: true})
	if err != nil || page.Total != 2 || page.Items[0].ID != hn.ID || page.Items[1].ID != hcm.ID {
		t.Fatalf("ListUnits roots = %+v, %v", page, err)
	}
	page, err = e.s.ListUnits(e.ctx, e.admin, UnitFilter{ParentID: snv.ID})
	if err != nil || page.Total != 1 || page.Items[0].ID != phong.ID {
		t.Fatalf("ListUnits children = %+v, %v", page, err)
	}
	page, err = e.s.ListUnits(e.ctx, e.admin, UnitFilter{Limit: 2, Offset: 1})
	if err != nil || page.Total != 5 || len(page.Items) != 2 {
		t.Fatalf("ListUnits page = %+v, %v", page, err)
	}
	page, err = e.s.ListUnits(e.ctx, e.admin, UnitFilter{Q: ".*("})
	if err != nil || page.Total != 0 {
		t.Fatalf("ListUnits with regex characters = %+v, %v", page, err)
	}
	_, err = e.s.ListUnits(e.ctx, as(learner), UnitFilter{})
	wantErr(t, err, errs.ErrForbidden)

	all, err := e.s.AllUnits(e.ctx)
	if err != nil || len(all) != 5 || len(all[0].Path) != 0 || len(all[4].Path) != 3 {
		t.Fatalf("AllUnits = %+v, %v", all, err)
	}
	found, err := e.s.FindUnitsByIDs(e.ctx, []string{hn.ID, ids.New(), hcm.ID})
	if err != nil || len(found) != 2 {
		t.Fatalf("FindUnitsByIDs = %+v, %v", found, err)
	}
	if err := e.s.CanManageUnit(e.ctx, as(officer), deeper.ID); err != nil {
		t.Fatalf("CanManageUnit: %v", err)
	}
	wantErr(t, e.s.CanManageUnit(e.ctx, as(officer), hcm.ID), errs.ErrForbidden)
	wantErr(t, e.s.CanManageUnit(e.ctx, as(officer), ids.New()), errs.ErrNotFound)
	allScope, managed, err := e.s.ManagedUnitIDs(e.ctx, officer)
	if err != nil || allScope || !slices.Equal(sortedIDs(managed), sortedIDs([]string{snv.ID, phong.ID, deeper.ID})) {
		t.Fatalf("ManagedUnitIDs = %v %v %v", allScope, managed, err)
	}
}

func TestMoveUnit(t *testing.T) {
	e := newEnv(t, Config{})
	p1 := e.unit(t, e.admin, "Tỉnh Một", "P1", "")
	p2 := e.unit(t, e.admin, "Tỉnh Hai", "P2", "")
	d := e.unit(t, e.admin, "Sở", "D", p1.ID)
	c := e.unit(t, e.admin, "Phòng", "C", d.ID)
	cc := e.unit(t, e.admin, "Tổ", "CC", c.ID)
	sib := e.unit(t, e.admin, "Sở khác", "D2", p1.ID)
	officer := e.user(t, "tcb", "Cán bộ tổ chức", p1.ID, RoleUnitAdmin)

	before := e.snapshot(t)
	str := func(s string) *string { return &s }
	bad := []struct {
		name  string
		actor Principal
		id    string
		p     UnitPatch
		want  error
	}{
		{"under itself", e.admin, d.ID, UnitPatch{ParentID: &d.ID}, errs.ErrConflict},
		{"under its child", e.admin, d.ID, UnitPatch{ParentID: &c.ID}, errs.ErrConflict},
		{"under its grandchild", e.admin, d.ID, UnitPatch{ParentID: &cc.ID}, errs.ErrConflict},
		{"root under its grandchild", e.admin, p1.ID, UnitPatch{ParentID: &cc.ID}, errs.ErrConflict},
		{"unknown parent", e.admin, d.ID, UnitPatch{ParentID: str(ids.New())}, errs.ErrInvalid},
		{"code taken", e.admin, d.ID, UnitPatch{Code: str("P2")}, errs.ErrConflict},
		{"empty name", e.admin, d.ID, UnitPatch{Name: str("")}, errs.ErrInvalid},
		{"unit_admin moves out of scope", as(officer), d.ID, UnitPatch{ParentID: &p2.ID}, errs.ErrForbidden},
		{"unit_admin makes a root", as(officer), d.ID, UnitPatch{ParentID: str("")}, errs.ErrForbidden},
		{"unit_admin edits another tree", as(officer), p2.ID, UnitPatch{Name: str("X")}, errs.ErrForbidden},
		{"unknown unit", e.admin, ids.New(), UnitPatch{Name: str("X")}, errs.ErrNotFound},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.s.UpdateUnit(e.ctx, tt.actor, tt.id, tt.p)
			wantErr(t, err, tt.want)
			e.unchanged(t, before)
		})
	}

	// Move D (with C and CC below it) from P1 to P2: every path in the subtree changes.
	e.clk.Advance(1000)
	moved, err := e.s.UpdateUnit(e.ctx, e.admin, d.ID, UnitPatch{ParentID: &p2.ID, Name: str("Sở Nội vụ")})
	if err != nil {
		t.Fatalf("move: %v", err)
	}
	if moved.ParentID != p2.ID || !slices.Equal(moved.Path, []string{p2.ID}) || moved.Name != "Sở Nội vụ" {
		t.Fatalf("moved %+v", moved)
	}
	wantPaths := map[string][]string{
		p1.ID: {}, p2.ID: {}, sib.ID: {p1.ID},
		d.ID: {p2.ID}, c.ID: {p2.ID, d.ID}, cc.ID: {p2.ID, d.ID, c.ID},
	}
	checkPaths := func() {
		t.Helper()
		all, err := e.s.AllUnits(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range all {
			if !slices.Equal(u.Path, wantPaths[u.ID]) {
				t.Errorf("%s path = %v, want %v", u.Code, u.Path, wantPaths[u.ID])
			}
		}
	}
	checkPaths()
	sub, err := e.s.SubtreeUnitIDs(e.ctx, p2.ID)
	if err != nil || len(sub) != 4 {
		t.Fatalf("subtree of P2 = %v, %v", sub, err)
	}
	sub, err = e.s.SubtreeUnitIDs(e.ctx, p1.ID)
	if err != nil || len(sub) != 2 {
		t.Fatalf("subtree of P1 = %v, %v", sub, err)
	}
	// The unit_admin of P1 no longer manages D.
	_, err = e.s.UpdateUnit(e.ctx, as(officer), c.ID, UnitPatch{Name: str("X")})
	wantErr(t, err, errs.ErrForbidden)

	// Move C (with CC) to the top, then a unit_admin of P2 moves it back under D.
	if _, err := e.s.UpdateUnit(e.ctx, e.admin, c.ID, UnitPatch{ParentID: str("")}); err != nil {
		t.Fatal(err)
	}
	wantPaths[c.ID], wantPaths[cc.ID] = []string{}, []string{c.ID}
	checkPaths()
	page, err := e.s.ListUnits(e.ctx, e.admin, UnitFilter{RootsOnly: true})
	if err != nil || page.Total != 3 {
		t.Fatalf("roots after move = %+v, %v", page, err)
	}
	officer2 := e.user(t, "tcb2", "Cán bộ tổ chức hai", p2.ID, RoleUnitAdmin)
	officer2.AdminUnitIDs = []string{p2.ID, c.ID}
	if _, err := e.s.UpdateUnit(e.ctx, as(officer2), c.ID, UnitPatch{ParentID: &d.ID}); err != nil {
		t.Fatal(err)
	}
	wantPaths[c.ID], wantPaths[cc.ID] = []string{p2.ID, d.ID}, []string{p2.ID, d.ID, c.ID}
	checkPaths()
}

// TestMoveUnitWithManyDescendants moves a unit with 130 units below it: more path updates
// than FerretDB v1.24 takes in one bulk write without stalling.
func TestMoveUnitWithManyDescendants(t *testing.T) {
	e := newEnv(t, Config{})
	p1 := e.unit(t, e.admin, "Tỉnh Một", "P1", "")
	p2 := e.unit(t, e.admin, "Tỉnh Hai", "P2", "")
	d := e.unit(t, e.admin, "Sở", "D", p1.ID)
	for i := range 130 {
		e.unit(t, e.admin, fmt.Sprintf("Phòng %d", i), fmt.Sprintf("D-%d", i), d.ID)
	}
	if _, err := e.s.UpdateUnit(e.ctx, e.admin, d.ID, UnitPatch{ParentID: &p2.ID}); err != nil {
		t.Fatalf("UpdateUnit: %v", err)
	}
	n, err := e.db.Database.Collection(UnitsCollection).CountDocuments(e.ctx, bson.M{"path": bson.A{p2.ID, d.ID}})
	if err != nil || n != 130 {
		t.Fatalf("%d of 130 units below the moved one have its new path (%v)", n, err)
	}
}
