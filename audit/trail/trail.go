// Package trail is the vocabulary of Hoctap's audit log: the Entry that every
// administrative or grading action leaves, the closed set of Action names, and the
// Recorder interface that domain services are given. It imports no domain package, so
// every domain (accounts too, which the audit package itself needs) can record actions;
// the audit package stores, filters and exports the entries.
package trail

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Action names what was done. The set is closed: Actions lists every name, and the audit
// log refuses to record or filter by any other. Names are "object.verb" and never change
// once written, since stored entries and outside readers (CSV exports) rely on them.
type Action string

// The actions the audit log records. docs/OPERATIONS.md ("Reading the audit log") lists
// them with what each one's details hold.
const (
	// Accounts.
	UserCreate         Action = "user.create"          // an administrator created an account
	UserUpdate         Action = "user.update"          // name, e-mail, unit or position changed by an administrator
	UserRoleChange     Action = "user.role_change"     // roles or administered units changed
	UserDisable        Action = "user.disable"         // account deactivated (its sessions end)
	UserEnable         Action = "user.enable"          // account reactivated
	UserPasswordReset  Action = "user.password_reset"  // an administrator set someone else's password
	UserPasswordChange Action = "user.password_change" // a user changed their own password
	UserImport         Action = "user.import"          // a CSV staff list was imported (one entry per import)
	UnitCreate         Action = "unit.create"
	UnitUpdate         Action = "unit.update" // renamed, recoded or moved under another parent

	// Courses and classes.
	CoursePublish   Action = "course.publish"
	CourseArchive   Action = "course.archive"
	ClassCreate     Action = "class.create"
	ClassRevision   Action = "class.revision"   // a class moved to a newer revision of its course
	EnrolmentCreate Action = "enrolment.create" // people enrolled by id
	EnrolmentUnit   Action = "enrolment.unit"   // a whole unit (and maybe its sub-units) enrolled

	// Assessment.
	GradeEssay       Action = "grade.essay"       // an essay answer graded (or regraded)
	AccommodationSet Action = "accommodation.set" // a learner's extra time or attempts on a quiz set
	BankShare        Action = "bank.share"        // a question bank shared with lecturers

	// Certificates.
	CertificateIssue  Action = "certificate.issue"  // actor "system" when issued on completion
	CertificateRevoke Action = "certificate.revoke" // details hold the reason

	// Live sessions.
	LiveModeration Action = "live.moderation" // a chat message hidden, a user muted, slow mode set
)

// Actions lists every Action in the order the audit page offers them.
var Actions = []Action{
	UserCreate, UserUpdate, UserRoleChange, UserDisable, UserEnable, UserPasswordReset,
	UserPasswordChange, UserImport, UnitCreate, UnitUpdate,
	CoursePublish, CourseArchive, ClassCreate, ClassRevision, EnrolmentCreate, EnrolmentUnit,
	GradeEssay, AccommodationSet, BankShare,
	CertificateIssue, CertificateRevoke,
	LiveModeration,
}

// Valid reports whether a is one of Actions.
func (a Action) Valid() bool { return slices.Contains(Actions, a) }

// SystemID is the actor of what Hoctap does on its own (a certificate issued when a
// learner completes a class).
const SystemID = "system"

// Actor is who acted: a user (id, username and unit at the time) or the system.
type Actor struct {
	ID     string
	Name   string
	UnitID string
}

// System is the actor of automatic actions.
var System = Actor{ID: SystemID, Name: SystemID}

// Did starts the entry of an action a took on object ("kind:id", e.g. "user:65f…");
// label is what a person reads for the object (a username, a unit code, a certificate
// number).
func (a Actor) Did(action Action, object, label string) Entry {
	return Entry{Actor: a.ID, ActorName: a.Name, ActorUnitID: a.UnitID, Action: action, Object: object, ObjectLabel: label}
}

// Entry is one line of the audit log: who (Actor) did what (Action) to what (Object) and
// when (At), with Details naming what changed. Entries are never changed or deleted.
type Entry struct {
	ID          string    `bson:"_id" json:"id"`
	At          time.Time `bson:"at" json:"at"`
	Actor       string    `bson:"actor" json:"actor"` // user id, or "system"
	ActorName   string    `bson:"actor_name" json:"actor_name"`
	ActorUnitID string    `bson:"actor_unit_id,omitempty" json:"actor_unit_id,omitempty"`
	Action      Action    `bson:"action" json:"action"`
	Object      string    `bson:"object" json:"object"` // "kind:id"
	ObjectLabel string    `bson:"object_label,omitempty" json:"object_label,omitempty"`
	// Details hold what changed (old and new values, counts, a reason); never a password.
	Details map[string]string `bson:"details,omitempty" json:"details"`
	// UnitIDs are the units the object belongs to (a user's unit, an enrolled unit, the
	// learners' units): with the actor's unit, they decide which unit_admins see the entry.
	UnitIDs []string `bson:"unit_ids,omitempty" json:"unit_ids,omitempty"`
	// UserIDs are the people the action concerns when the recording service does not know
	// their units (a graded learner): the audit log adds their units to UnitIDs.
	UserIDs []string `bson:"user_ids,omitempty" json:"user_ids,omitempty"`
	// Scope is every unit of UnitIDs and ActorUnitID with all their ancestors, filled by the
	// audit log when it records: a unit_admin sees the entries whose Scope holds one of
	// the units they administer.
	Scope []string `bson:"scope" json:"-"`
}

// With sets one detail and returns e, for building entries in one expression.
func (e Entry) With(key, value string) Entry {
	d := make(map[string]string, len(e.Details)+1)
	maps.Copy(d, e.Details) // a copy, so entries built from one start never share details
	d[key] = value
	e.Details = d
	return e
}

// In sets the units the object belongs to and returns e.
func (e Entry) In(unitIDs ...string) Entry {
	e.UnitIDs = append(slices.Clip(e.UnitIDs), unitIDs...)
	return e
}

// About sets the people the action concerns and returns e.
func (e Entry) About(userIDs ...string) Entry {
	e.UserIDs = append(slices.Clip(e.UserIDs), userIDs...)
	return e
}

// Recorder stores audit entries; audit.Log implements it. Record returns an error when
// the entry could not be stored.
type Recorder interface {
	Record(ctx context.Context, e Entry) error
}

// Record stores entries with r, one after another, for a domain service that has just
// done the action they describe. A nil r records nothing (services built without an
// audit log, as in tests of other concerns). A failure is returned, not dropped: the
// action is done and cannot be undone (no transactions), so the caller must learn that
// its trace is missing; the error says so and wraps the store's error, so an unavailable
// database still reads as errs.ErrUnavailable.
func Record(ctx context.Context, r Recorder, entries ...Entry) error {
	if r == nil {
		return nil
	}
	for _, e := range entries {
		if err := r.Record(ctx, e); err != nil {
			return fmt.Errorf("%s on %s was done, but its audit entry could not be recorded: %w", e.Action, e.Object, err)
		}
	}
	return nil
}
