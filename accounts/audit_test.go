package accounts

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"hoctap/audit/trail"
	"hoctap/audit/trail/trailtest"
	"hoctap/internal/errs"
)

func TestUserChangeEntries(t *testing.T) {
	by := trail.Actor{ID: "a", Name: "admin"}
	units := map[string]Unit{"u1": {ID: "u1", Code: "SNV"}, "u2": {ID: "u2", Code: "STC"}}
	base := User{ID: "x", Username: "lan", FullName: "Lan", Email: "lan@a.vn", UnitID: "u1", Position: "CV", Roles: []Role{RoleLearner}, Active: true,
		AdminUnitIDs: []string{"u1", "u2"}}
	with := func(f func(*User)) User { u := base; u.Roles = slices.Clone(base.Roles); f(&u); return u }
	cases := []struct {
		name     string
		after    User
		self     bool
		password bool
		want     []trail.Action
		details  map[string]string // details of the first entry that must hold
	}{
		{"nothing", base, false, false, nil, nil},
		{"name and unit", with(func(u *User) { u.FullName = "Lan Anh"; u.UnitID = "u2" }), false, false,
			[]trail.Action{trail.UserUpdate}, map[string]string{"fields": "full_name,unit_id", "unit_from": "SNV", "unit_to": "STC", "full_name_to": "Lan Anh"}},
		{"own e-mail is a preference", with(func(u *User) { u.Email = "x@a.vn" }), true, false, nil, nil},
		{"someone else's e-mail", with(func(u *User) { u.Email = "x@a.vn" }), false, false,
			[]trail.Action{trail.UserUpdate}, map[string]string{"fields": "email", "email_from": "lan@a.vn"}},
		{"own language is a preference", with(func(u *User) { u.Language = "en" }), true, false, nil, nil},
		{"roles", with(func(u *User) { u.Roles = []Role{RoleLearner, RoleUnitAdmin}; u.AdminUnitIDs = []string{"u2"} }), false, false,
			[]trail.Action{trail.UserRoleChange}, map[string]string{"roles_from": "learner", "roles_to": "learner,unit_admin", "admin_units_from": "SNV,STC", "admin_units_to": "STC"}},
		{"disable", with(func(u *User) { u.Active = false }), false, false, []trail.Action{trail.UserDisable}, nil},
		{"the same admin units in another order", with(func(u *User) { u.AdminUnitIDs = []string{"u2", "u1"} }), false, false, nil, nil},
		{"password reset", base, false, true, []trail.Action{trail.UserPasswordReset}, nil},
		{"own password", base, true, true, []trail.Action{trail.UserPasswordChange}, nil},
		{"everything at once", with(func(u *User) { u.Position = "TP"; u.Roles = []Role{RoleTrainer}; u.Active = false }), false, true,
			[]trail.Action{trail.UserUpdate, trail.UserRoleChange, trail.UserDisable, trail.UserPasswordReset}, map[string]string{"position_from": "CV", "position_to": "TP"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := userChangeEntries(by, base, c.after, c.self, c.password, units)
			var acts []trail.Action
			for _, e := range got {
				acts = append(acts, e.Action)
				if e.Actor != "a" || e.Object != "user:x" || e.ObjectLabel != "lan" || len(e.UnitIDs) == 0 {
					t.Errorf("entry = %+v", e)
				}
				for k, v := range e.Details {
					if strings.Contains(k, "password") || strings.Contains(v, "argon") {
						t.Errorf("a password detail: %s=%s", k, v)
					}
				}
			}
			if !slices.Equal(acts, c.want) {
				t.Fatalf("actions = %v, want %v", acts, c.want)
			}
			for k, v := range c.details {
				if got[0].Details[k] != v {
					t.Errorf("details[%s] = %q, want %q (all: %v)", k, got[0].Details[k], v, got[0].Details)
				}
			}
		})
	}
	moved := userChangeEntries(by, base, with(func(u *User) { u.UnitID = "u2" }), false, false, units)
	if !slices.Equal(moved[0].UnitIDs, []string{"u1", "u2"}) {
		t.Errorf("a moved user's entry is in units %v, want both", moved[0].UnitIDs)
	}
}

func TestUnitChangeEntry(t *testing.T) {
	by := trail.Actor{ID: "a", Name: "admin"}
	parents := map[string]Unit{"p1": {ID: "p1", Code: "P1"}, "p2": {ID: "p2", Code: "P2"}}
	base := Unit{ID: "u", Name: "Sở", Code: "S", ParentID: "p1"}
	cases := []struct {
		name    string
		after   Unit
		changed bool
		details map[string]string
		units   []string
	}{
		{"nothing", base, false, nil, nil},
		{"rename", Unit{ID: "u", Name: "Sở mới", Code: "S", ParentID: "p1"}, true, map[string]string{"fields": "name", "name_from": "Sở", "name_to": "Sở mới"}, []string{"u"}},
		{"recode", Unit{ID: "u", Name: "Sở", Code: "T", ParentID: "p1"}, true, map[string]string{"fields": "code", "code_to": "T"}, []string{"u"}},
		{"move", Unit{ID: "u", Name: "Sở", Code: "S", ParentID: "p2"}, true, map[string]string{"fields": "parent_id", "parent_from": "P1", "parent_to": "P2"}, []string{"u", "p1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, changed := unitChangeEntry(by, base, c.after, parents)
			if changed != c.changed {
				t.Fatalf("changed = %v", changed)
			}
			for k, v := range c.details {
				if e.Details[k] != v {
					t.Errorf("details[%s] = %q, want %q", k, e.Details[k], v)
				}
			}
			if changed && !slices.Equal(e.UnitIDs, c.units) {
				t.Errorf("units = %v, want %v", e.UnitIDs, c.units)
			}
		})
	}
}

func TestAccountsActionsAreRecorded(t *testing.T) {
	e := newEnv(t, Config{})
	rec := &trailtest.Recorder{}
	e.s.SetAuditor(rec)
	prov := e.unit(t, e.admin, "Sở Nội vụ", "SNV", "")
	dept := e.unit(t, e.admin, "Phòng A", "PA", prov.ID)
	lan := e.user(t, "lan", "Lan", dept.ID)
	if got := last(rec); got.Action != trail.UserCreate || got.Object != "user:"+lan.ID || got.Actor != e.admin.User.ID ||
		!slices.Equal(got.UnitIDs, []string{dept.ID}) || got.Details["unit"] != "PA" {
		t.Errorf("create entry = %+v", got)
	}
	name, roles, off, pw := "Lan Anh", []Role{RoleLearner, RoleTrainer}, false, "mật khẩu mới 1"
	if _, err := e.s.UpdateUser(e.ctx, e.admin, lan.ID, UserPatch{FullName: &name, Roles: &roles, Active: &off, Password: &pw}); err != nil {
		t.Fatal(err)
	}
	newName := "Phòng B"
	if _, err := e.s.UpdateUnit(e.ctx, e.admin, dept.ID, UnitPatch{Name: &newName}); err != nil {
		t.Fatal(err)
	}
	res, err := e.s.ImportUsers(e.ctx, e.admin, strings.NewReader("username,full_name,unit_code,position,email\nbinh,Bình,PA,CV,\nlan,Lan,SNV,CV,\nbad user,X,PA,,\n"))
	if err != nil || res.Created != 1 || res.Updated != 1 {
		t.Fatalf("import = %+v, %v", res, err)
	}
	want := []string{"unit.create", "unit.create", "user.create", "user.update", "user.role_change", "user.disable", "user.password_reset", "unit.update", "user.import"}
	if got := rec.Actions(); !slices.Equal(got, want) {
		t.Fatalf("actions = %v\nwant      %v", got, want)
	}
	imp := last(rec)
	if imp.Details["created"] != "1" || imp.Details["updated"] != "1" || imp.Details["refused_lines"] != "1" ||
		!slices.Contains(imp.UnitIDs, dept.ID) || !slices.Contains(imp.UnitIDs, prov.ID) {
		t.Errorf("import entry = %+v", imp)
	}

	// Refused changes record nothing.
	n := len(rec.Actions())
	if _, err := e.s.CreateUser(e.ctx, as(lan), NewUser{Username: "x", Password: "12345678", FullName: "X", UnitID: dept.ID}); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("learner creating a user: %v", err)
	}
	if _, err := e.s.UpdateUnit(e.ctx, e.admin, dept.ID, UnitPatch{Name: &newName}); err != nil { // no change
		t.Fatal(err)
	}
	if len(rec.Actions()) != n {
		t.Errorf("refused or empty changes were recorded: %v", rec.Actions()[n:])
	}
}

// When the audit log cannot store an entry, the action is done (there is no transaction
// to undo it with) and the caller gets the failure, still an ErrUnavailable.
func TestAuditFailureIsReturned(t *testing.T) {
	e := newEnv(t, Config{})
	prov := e.unit(t, e.admin, "Sở Nội vụ", "SNV", "")
	down := &trailtest.Recorder{}
	down.Fail(fmt.Errorf("database down: %w", errs.ErrUnavailable))
	e.s.SetAuditor(down)
	_, err := e.s.CreateUser(e.ctx, e.admin, NewUser{Username: "lan", Password: "mật khẩu lan", FullName: "Lan", UnitID: prov.ID})
	if !errors.Is(err, errs.ErrUnavailable) || !strings.Contains(err.Error(), "user.create") || !strings.Contains(err.Error(), "audit entry could not be recorded") {
		t.Fatalf("CreateUser with a failing audit log = %v", err)
	}
	page, err := e.s.ListUsers(e.ctx, e.admin, UserFilter{Q: "lan"})
	if err != nil || page.Total != 1 {
		t.Errorf("the user was not created: %+v, %v", page, err)
	}
}

// last returns the newest entry rec holds.
func last(rec *trailtest.Recorder) trail.Entry {
	all := rec.Entries()
	return all[len(all)-1]
}
