// Package audit is Hoctap's audit log: who did what and when for every administrative and
// grading action (accounts, units, enrolments, grades, accommodations, certificate issue
// and revoke, live moderation). Domain services record entries (the vocabulary is in
// audit/trail, which imports no domain package) right after an action succeeds; admins
// read every entry, unit_admins the entries touching their units, through List or the CSV
// export. The log is append-only: this package has no way to change or delete an entry.
package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/audit/trail"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// Collection is the collection of audit entries.
const Collection = "audit"

// ErrBadEntry is what Record returns for an entry no service should make.
var ErrBadEntry = errors.New("malformed audit entry")

// Entry is one line of the audit log (see trail.Entry).
type Entry = trail.Entry

// Action is what an entry records (see trail.Action and trail.Actions).
type Action = trail.Action

// Units finds units and users by id, so that an entry's scope can hold the units of the
// people it concerns and every ancestor of its units. accounts.Service satisfies it.
type Units interface {
	FindUnitsByIDs(ctx context.Context, unitIDs []string) ([]accounts.Unit, error)
	FindUsersByIDs(ctx context.Context, userIDs []string) ([]accounts.User, error)
}

// Config holds a Log's dependencies.
type Config struct {
	DB    *mongo.Database // required
	Units Units           // required
	Clock clock.Clock     // clock.System when nil
}

// Log is the audit log. It is safe for concurrent use.
//
// Record runs after the action it describes has succeeded, and there are no transactions
// to undo that action with when the entry cannot be stored. The domain services then
// return the failure (trail.Record wraps it: "… was done, but its audit entry could not be
// recorded"), so the person or client learns at once that the action happened without a
// trace, and an unavailable database answers 503 as any other write would. The other
// choices were worse: recording first leaves entries for actions that then failed, and
// logging the failure away leaves a silent gap in what must be a complete record.
type Log struct {
	coll  *mongo.Collection
	units Units
	now   clock.Clock
}

// New returns the audit log over cfg.DB. It panics when DB or Units is nil, a wiring
// mistake.
func New(cfg Config) *Log {
	if cfg.DB == nil || cfg.Units == nil {
		panic("audit.New: DB and Units are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System
	}
	return &Log{coll: cfg.DB.Collection(Collection), units: cfg.Units, now: cfg.Clock}
}

// EnsureIndexes creates the indexes of the audit collection: newest first overall, and
// newest first by scope unit, actor, actor name and action. It is idempotent and runs at
// start-up.
func (l *Log) EnsureIndexes(ctx context.Context) error {
	err := database.EnsureIndexes(ctx, l.coll,
		mongo.IndexModel{Keys: bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("at")},
		mongo.IndexModel{Keys: bson.D{{Key: "scope", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("scope_at")},
		mongo.IndexModel{Keys: bson.D{{Key: "actor", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("actor_at")},
		mongo.IndexModel{Keys: bson.D{{Key: "actor_name", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("actor_name_at")},
		mongo.IndexModel{Keys: bson.D{{Key: "action", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("action_at")},
	)
	if err != nil {
		return fmt.Errorf("audit: indexes: %w", dbErr(err))
	}
	return nil
}

// Record appends e to the log: it stamps At (now) and, when empty, ID, and computes the
// scope from the actor's unit, e.UnitIDs and the units of e.UserIDs (added to UnitIDs),
// with their ancestors. An entry whose ID was already recorded (a retried idempotent
// action that names its entry) is kept once and Record returns nil. It returns
// ErrBadEntry (an internal error: the recording service has a bug, the caller's input is
// not at fault) for an unknown action or an entry without actor or object, and the
// database's error (errs.ErrUnavailable when it cannot be reached) when the entry or its
// units cannot be read or written.
func (l *Log) Record(ctx context.Context, e Entry) error {
	if !e.Action.Valid() {
		return fmt.Errorf("audit: unknown action %s: %w", quoteShort(string(e.Action)), ErrBadEntry)
	}
	if e.Actor == "" || e.Object == "" {
		return fmt.Errorf("audit: %s without actor or object: %w", e.Action, ErrBadEntry)
	}
	if e.ID == "" {
		e.ID = ids.New()
	}
	e.At = l.now().UTC().Truncate(time.Millisecond)
	if len(e.UserIDs) > 0 {
		users, err := l.units.FindUsersByIDs(ctx, e.UserIDs)
		if err != nil {
			return fmt.Errorf("audit: users of an entry: %w", err)
		}
		for _, u := range users {
			if u.UnitID != "" && !slices.Contains(e.UnitIDs, u.UnitID) {
				e.UnitIDs = append(e.UnitIDs, u.UnitID)
			}
		}
	}
	direct := append([]string{e.ActorUnitID}, e.UnitIDs...)
	paths := map[string][]string{}
	if known := scopeOf(direct, nil); len(known) > 0 {
		units, err := l.units.FindUnitsByIDs(ctx, known)
		if err != nil {
			return fmt.Errorf("audit: units of an entry: %w", err)
		}
		for _, u := range units {
			paths[u.ID] = u.Path
		}
	}
	e.Scope = scopeOf(direct, paths)
	if _, err := l.coll.InsertOne(ctx, e); err != nil {
		if database.IsDuplicateKey(err) {
			return nil
		}
		return fmt.Errorf("audit: record %s: %w", e.Action, dbErr(err))
	}
	return nil
}

// List returns the entries matching f that p may read, newest first, with the total that
// matched. Admins read every entry; a unit_admin the entries whose actor or object lies in
// a unit they administer or below. It returns errs.ErrForbidden to anyone else and an
// invalid error naming the field for an unknown action, an unreadable since or until,
// until before since, or a negative limit or offset.
func (l *Log) List(ctx context.Context, p accounts.Principal, f Filter) (accounts.Page[Entry], error) {
	v, err := VisibilityOf(p)
	if err != nil {
		return accounts.Page[Entry]{}, err
	}
	q, err := compile(f)
	if err != nil {
		return accounts.Page[Entry]{}, err
	}
	filter := bsonFilter(q, v)
	total, err := l.coll.CountDocuments(ctx, filter)
	if err != nil {
		return accounts.Page[Entry]{}, fmt.Errorf("audit: count entries: %w", dbErr(err))
	}
	items := []Entry{}
	if int64(q.offset) < total {
		cur, err := l.coll.Find(ctx, filter, options.Find().SetSort(newestFirst).
			SetSkip(int64(q.offset)).SetLimit(int64(q.limit)))
		if err != nil {
			return accounts.Page[Entry]{}, fmt.Errorf("audit: find entries: %w", dbErr(err))
		}
		if err := cur.All(ctx, &items); err != nil {
			return accounts.Page[Entry]{}, fmt.Errorf("audit: read entries: %w", dbErr(err))
		}
	}
	for i := range items {
		if items[i].Details == nil { // always an object in JSON, as API.md shows it
			items[i].Details = map[string]string{}
		}
	}
	return accounts.Page[Entry]{Items: items, Total: int(total)}, nil
}

var newestFirst = bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}

// WriteCSV writes every entry matching f that p may read (f's limit and offset are
// ignored), newest first, as UTF-8 CSV with a byte order mark and the CSVHeader line. It
// returns the errors of List, and the database's or w's error; rows written before a
// failure stay written.
func (l *Log) WriteCSV(ctx context.Context, p accounts.Principal, f Filter, w io.Writer) error {
	v, err := VisibilityOf(p)
	if err != nil {
		return err
	}
	q, err := compile(f)
	if err != nil {
		return err
	}
	cur, err := l.coll.Find(ctx, bsonFilter(q, v), options.Find().SetSort(newestFirst).SetBatchSize(1000))
	if err != nil {
		return fmt.Errorf("audit: find entries: %w", dbErr(err))
	}
	defer cur.Close(ctx)
	cw, err := newCSV(w)
	if err != nil {
		return fmt.Errorf("audit: write CSV: %w", err)
	}
	for cur.Next(ctx) {
		var e Entry
		if err := cur.Decode(&e); err != nil {
			return fmt.Errorf("audit: read entry: %w", err)
		}
		if err := cw.Write(CSVRow(e)); err != nil {
			return fmt.Errorf("audit: write CSV: %w", err)
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("audit: read entries: %w", dbErr(err))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("audit: write CSV: %w", err)
	}
	return nil
}

func errForbidden() error {
	return fmt.Errorf("only administrators and unit administrators read the audit log: %w", errs.ErrForbidden)
}

// dbErr marks database errors that mean "try again later" as errs.ErrUnavailable.
func dbErr(err error) error {
	if database.IsUnavailable(err) && !errors.Is(err, errs.ErrUnavailable) {
		return fmt.Errorf("%w: %w", errs.ErrUnavailable, err)
	}
	return err
}
