package accounts

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"hoctap/internal/errs"
)

// Limits on free-text fields, so a hostile request cannot store megabytes in a name.
const (
	maxNameLen     = 200
	maxCodeLen     = 64
	maxEmailLen    = 254
	maxPositionLen = 200
)

// NormalizeUsername trims and lower-cases s and checks the username rule: 3–64 characters
// of a–z, 0–9, '.', '_' and '-'. It returns an errs.Field("username", …) error when the
// rule is broken.
func NormalizeUsername(s string) (string, error) {
	u := strings.ToLower(strings.TrimSpace(s))
	if len(u) < 3 || len(u) > 64 {
		return "", errs.Field("username", "must be 3 to 64 characters")
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", errs.Field("username", "may contain only the letters a-z, digits, '.', '_' and '-'")
		}
	}
	return u, nil
}

// Manages reports whether u may administer unit: an admin manages every unit; a
// unit_admin manages the units in AdminUnitIDs (their own unit when that is empty) and
// everything below them; nobody else manages any unit.
func Manages(u User, unit Unit) bool {
	if u.Has(RoleAdmin) {
		return true
	}
	if !u.Has(RoleUnitAdmin) {
		return false
	}
	for _, root := range adminRoots(u) {
		if root == "" {
			continue
		}
		if unit.ID == root || slices.Contains(unit.Path, root) {
			return true
		}
	}
	return false
}

// adminRoots returns the roots of a unit_admin's scope.
func adminRoots(u User) []string {
	if len(u.AdminUnitIDs) == 0 {
		if u.UnitID == "" {
			return nil
		}
		return []string{u.UnitID}
	}
	return u.AdminUnitIDs
}

// normalizeRoles checks every role and removes duplicates, keeping the order of Roles.
// An empty list becomes [learner].
func normalizeRoles(in []Role) ([]Role, error) {
	if len(in) == 0 {
		return []Role{RoleLearner}, nil
	}
	out := make([]Role, 0, len(in))
	for _, r := range Roles {
		if slices.Contains(in, r) {
			out = append(out, r)
		}
	}
	for _, r := range in {
		if !r.Valid() {
			return nil, errs.Field("roles", "unknown role "+quote(string(r)))
		}
	}
	return out, nil
}

// parseRoles splits a roles cell of an import file ("lecturer|trainer", "lecturer trainer").
func parseRoles(cell string) ([]Role, error) {
	parts := strings.FieldsFunc(cell, func(r rune) bool { return r == '|' || r == ',' || unicode.IsSpace(r) })
	roles := make([]Role, 0, len(parts))
	for _, p := range parts {
		roles = append(roles, Role(strings.ToLower(p)))
	}
	if len(roles) == 0 {
		return nil, nil
	}
	return normalizeRoles(roles)
}

// cleanText trims s and checks its length; field names the input in the error.
func cleanText(f *errs.Fields, field, s string, required bool, max int) string {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		f.Add(field, "is required")
	case utf8.RuneCountInString(s) > max:
		f.Add(field, "is too long")
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		f.Add(field, "contains invalid characters")
	}
	return s
}

// cleanEmail trims and lower-cases an optional e-mail address and checks its shape loosely
// (one '@' with text either side, no spaces): mail servers are the real judge.
func cleanEmail(f *errs.Fields, s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	at := strings.IndexByte(s, '@')
	if len(s) > maxEmailLen || at < 1 || at != strings.LastIndexByte(s, '@') || at == len(s)-1 ||
		strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		f.Add("email", "is not an e-mail address")
	}
	return s
}

// cleanCode trims a unit code and checks it: 1–64 characters, no white space.
func cleanCode(f *errs.Fields, s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		f.Add("code", "is required")
	case utf8.RuneCountInString(s) > maxCodeLen:
		f.Add("code", "is too long")
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		f.Add("code", "may not contain spaces or control characters")
	}
	return s
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "\"" + s + "\""
}
