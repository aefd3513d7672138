// Package accounts owns who people are and what they may do: users, roles, the tree of
// organisation units, login sessions and API tokens, and the CSV import of staff lists.
package accounts

import (
	"slices"
	"time"

	"hoctap/audit/trail"
)

// Role is one of the fixed roles a user may hold; a user may hold several.
type Role string

// The roles of API.md.
const (
	RoleAdmin     Role = "admin"      // the whole system
	RoleUnitAdmin Role = "unit_admin" // a personnel officer: the units in AdminUnitIDs and below
	RoleLecturer  Role = "lecturer"   // authors courses and question banks
	RoleTrainer   Role = "trainer"    // runs classes and live sessions
	RoleLearner   Role = "learner"
)

// Roles lists every valid role.
var Roles = []Role{RoleAdmin, RoleUnitAdmin, RoleLecturer, RoleTrainer, RoleLearner}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// User is a person who signs in. PasswordHash and the folded search key never leave the
// package in JSON.
type User struct {
	ID       string `bson:"_id" json:"id"`
	Username string `bson:"username" json:"username"`
	FullName string `bson:"full_name" json:"full_name"`
	Email    string `bson:"email,omitempty" json:"email,omitempty"`
	UnitID   string `bson:"unit_id" json:"unit_id"`
	Position string `bson:"position" json:"position"`
	Roles    []Role `bson:"roles" json:"roles"`
	// AdminUnitIDs are the units a unit_admin manages, each with its whole subtree. Empty
	// for a unit_admin means their own unit.
	AdminUnitIDs []string `bson:"admin_unit_ids,omitempty" json:"admin_unit_ids,omitempty"`
	Active       bool     `bson:"active" json:"active"`
	// Language is the interface language the user chose: "vi" (default) or "en".
	Language  string    `bson:"language,omitempty" json:"language,omitempty"`
	CreatedAt time.Time `bson:"created_at" json:"created_at"`
	UpdatedAt time.Time `bson:"updated_at" json:"updated_at"`

	PasswordHash string `bson:"password_hash" json:"-"`
	NameFold     string `bson:"name_fold" json:"-"` // textfold.Fold of full name and username
}

// Has reports whether the user holds role r.
func (u User) Has(r Role) bool { return slices.Contains(u.Roles, r) }

// IsStaff reports whether the user holds any role beyond learner.
func (u User) IsStaff() bool {
	return slices.ContainsFunc(u.Roles, func(r Role) bool { return r != RoleLearner })
}

// Unit is an organisation unit (a province, a department, a commune). Path lists the ids
// of its ancestors from the root down, so a subtree is one query: {"path": id}.
type Unit struct {
	ID        string    `bson:"_id" json:"id"`
	Name      string    `bson:"name" json:"name"`
	Code      string    `bson:"code" json:"code"`
	ParentID  string    `bson:"parent_id,omitempty" json:"parent_id,omitempty"`
	Path      []string  `bson:"path" json:"path"`
	CreatedAt time.Time `bson:"created_at" json:"created_at"`
	UpdatedAt time.Time `bson:"updated_at" json:"updated_at"`

	NameFold string `bson:"name_fold" json:"-"`
}

// UnitWithChildren is a unit and its direct children, as GET /units/{id} returns it.
type UnitWithChildren struct {
	Unit
	Children []Unit `json:"children"`
}

// Principal is the authenticated caller of a request.
type Principal struct {
	User User
	// SessionID is the stored (hashed) id of the login session the request came with.
	SessionID string
	// CSRFToken must accompany unsafe requests that authenticate by cookie.
	CSRFToken string
	ExpiresAt time.Time
}

// Has reports whether the caller holds role r.
func (p Principal) Has(r Role) bool { return p.User.Has(r) }

// AuditActor is the caller as the audit log names them: id, username and unit now.
func (p Principal) AuditActor() trail.Actor {
	return trail.Actor{ID: p.User.ID, Name: p.User.Username, UnitID: p.User.UnitID}
}

// Page is one page of a list, with the total that matched.
type Page[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}
