package accounts

import (
	"slices"
	"strconv"
	"strings"

	"hoctap/audit/trail"
)

// The audit entries of accounts actions. They are shaped here, by plain functions, and
// recorded by the service methods right after the change is stored.

func userObject(u User) string { return "user:" + u.ID }

// unitLabel names a unit for a person reading the log: its code, or its id when units
// does not hold it.
func unitLabel(units map[string]Unit, id string) string {
	if u, ok := units[id]; ok {
		return u.Code
	}
	return id
}

func unitLabels(units map[string]Unit, ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = unitLabel(units, id)
	}
	return strings.Join(out, ",")
}

func roleList(roles []Role) string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return strings.Join(out, ",")
}

// userCreatedEntry is the entry of CreateUser (and of the first start's admin account).
func userCreatedEntry(by trail.Actor, u User, units map[string]Unit) trail.Entry {
	e := by.Did(trail.UserCreate, userObject(u), u.Username).In(nonEmpty(u.UnitID)...).
		With("full_name", u.FullName).With("roles", roleList(u.Roles))
	if u.UnitID != "" {
		e = e.With("unit", unitLabel(units, u.UnitID))
	}
	if len(u.AdminUnitIDs) > 0 {
		e = e.With("admin_units", unitLabels(units, u.AdminUnitIDs))
	}
	return e
}

func nonEmpty(ids ...string) []string {
	return slices.DeleteFunc(slices.Compact(ids), func(s string) bool { return s == "" })
}

// userChangeEntries returns the entries of an UpdateUser that turned before into after:
// user.update when the full name, e-mail, unit or position changed (a user's own e-mail
// and language are their preferences and are not recorded), user.role_change when roles
// or administered units changed, user.disable or user.enable when the activation
// changed, and user.password_reset (someone else's) or user.password_change (one's own)
// when password is true. No entry ever holds a password or its hash. units holds the
// units named by before and after.
func userChangeEntries(by trail.Actor, before, after User, self, password bool, units map[string]Unit) []trail.Entry {
	start := func(a trail.Action) trail.Entry {
		return by.Did(a, userObject(after), after.Username).In(nonEmpty(before.UnitID, after.UnitID)...)
	}
	var out []trail.Entry
	upd := start(trail.UserUpdate)
	var fields []string
	if before.FullName != after.FullName {
		fields = append(fields, "full_name")
		upd = upd.With("full_name_from", before.FullName).With("full_name_to", after.FullName)
	}
	if before.Email != after.Email && !self {
		fields = append(fields, "email")
		upd = upd.With("email_from", before.Email).With("email_to", after.Email)
	}
	if before.UnitID != after.UnitID {
		fields = append(fields, "unit_id")
		upd = upd.With("unit_from", unitLabel(units, before.UnitID)).With("unit_to", unitLabel(units, after.UnitID))
	}
	if before.Position != after.Position {
		fields = append(fields, "position")
		upd = upd.With("position_from", before.Position).With("position_to", after.Position)
	}
	if len(fields) > 0 {
		out = append(out, upd.With("fields", strings.Join(fields, ",")))
	}
	if !slices.Equal(before.Roles, after.Roles) || !sameSet(before.AdminUnitIDs, after.AdminUnitIDs) {
		e := start(trail.UserRoleChange).With("roles_from", roleList(before.Roles)).With("roles_to", roleList(after.Roles))
		if len(before.AdminUnitIDs)+len(after.AdminUnitIDs) > 0 {
			e = e.With("admin_units_from", unitLabels(units, before.AdminUnitIDs)).With("admin_units_to", unitLabels(units, after.AdminUnitIDs))
		}
		out = append(out, e)
	}
	switch {
	case before.Active && !after.Active:
		out = append(out, start(trail.UserDisable))
	case !before.Active && after.Active:
		out = append(out, start(trail.UserEnable))
	}
	switch {
	case password && self:
		out = append(out, start(trail.UserPasswordChange))
	case password:
		out = append(out, start(trail.UserPasswordReset))
	}
	return out
}

// sameSet reports whether a and b hold the same ids in any order (roles are kept in a
// canonical order already; administered units are kept as given).
func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// unitCreatedEntry is the entry of CreateUnit.
func unitCreatedEntry(by trail.Actor, u Unit, parentCode string) trail.Entry {
	e := by.Did(trail.UnitCreate, "unit:"+u.ID, u.Code).In(u.ID).With("name", u.Name).With("code", u.Code)
	if parentCode != "" {
		e = e.With("parent", parentCode)
	}
	return e
}

// unitChangeEntry is the entry of UpdateUnit, or false when nothing changed. parents
// names the old and new parent ids by code.
func unitChangeEntry(by trail.Actor, before, after Unit, parents map[string]Unit) (trail.Entry, bool) {
	e := by.Did(trail.UnitUpdate, "unit:"+after.ID, after.Code).In(after.ID)
	if before.ParentID != after.ParentID && before.ParentID != "" {
		e = e.In(before.ParentID) // the old parent's officers see the unit leave
	}
	var fields []string
	if before.Name != after.Name {
		fields = append(fields, "name")
		e = e.With("name_from", before.Name).With("name_to", after.Name)
	}
	if before.Code != after.Code {
		fields = append(fields, "code")
		e = e.With("code_from", before.Code).With("code_to", after.Code)
	}
	if before.ParentID != after.ParentID {
		fields = append(fields, "parent_id")
		e = e.With("parent_from", unitLabel(parents, before.ParentID)).With("parent_to", unitLabel(parents, after.ParentID))
	}
	if len(fields) == 0 {
		return trail.Entry{}, false
	}
	return e.With("fields", strings.Join(fields, ",")), true
}

// importEntry is the one entry of an ImportUsers that changed something: counts of
// created, updated and refused lines, and the units of the users it touched.
func importEntry(by trail.Actor, importID string, res ImportResult, unitIDs []string) trail.Entry {
	slices.Sort(unitIDs)
	return by.Did(trail.UserImport, "user_import:"+importID, strconv.Itoa(res.Created+res.Updated)+" users").
		In(slices.Compact(unitIDs)...).
		With("created", strconv.Itoa(res.Created)).With("updated", strconv.Itoa(res.Updated)).
		With("refused_lines", strconv.Itoa(len(res.Errors)))
}
