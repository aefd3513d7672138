package courses

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/audit/trail"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/errs"
)

// The collections this package owns.
const (
	CollCourses    = "courses"
	CollRevisions  = "course_revisions"
	CollClasses    = "classes"
	CollEnrolments = "enrolments"
	CollProgress   = "progress"
)

// Directory is what courses needs to know about people and units. accounts.Service
// satisfies it.
type Directory interface {
	// SubtreeUnitIDs returns unitID and the ids of every unit below it; an error wrapping
	// errs.ErrNotFound when the unit does not exist.
	SubtreeUnitIDs(ctx context.Context, unitID string) ([]string, error)
	// ListUsersInUnits returns every user whose unit is one of unitIDs.
	ListUsersInUnits(ctx context.Context, unitIDs []string) ([]accounts.User, error)
	// FindUsersByIDs returns the users that exist among ids, in any order.
	FindUsersByIDs(ctx context.Context, ids []string) ([]accounts.User, error)
}

// QuizGate tells whether a learner has passed every quiz a course marks required. The
// assessment package implements it.
type QuizGate interface {
	RequiredQuizStatus(ctx context.Context, courseID, userID string) (allPassed bool, err error)
}

// Config holds a Service's dependencies.
type Config struct {
	DB        *mongo.Database
	Clock     clock.Clock  // clock.System when nil
	Directory Directory    // required
	QuizGate  QuizGate     // may be set later with SetQuizGate; nil means no course has required quizzes
	Logger    *slog.Logger // for failures of the background progress flusher
	// FlushInterval is how often buffered heartbeats are written; 1 s when zero.
	FlushInterval time.Duration
	// WriteEvery is how long a lesson's changed progress may wait in memory before it is
	// written; 30 s when zero. Completions are written at once whatever it says.
	WriteEvery time.Duration
	// CacheTTL bounds how long class and enrolment look-ups made for heartbeats are
	// reused; 30 s when zero. Changes made through this Service invalidate them at once.
	CacheTTL time.Duration
	// Auditor records enrolments, new classes, class moves, publishing and archiving in
	// the audit log (audit.Log); nil records nothing.
	Auditor trail.Recorder
}

// Service is the courses domain: catalog, outlines, classes, enrolment and progress.
// Create it with New and stop it with Close, which writes buffered progress.
type Service struct {
	db    *mongo.Database
	now   clock.Clock
	dir   Directory
	audit trail.Recorder
	gate  atomic.Pointer[QuizGate]
	media atomic.Pointer[MediaCatalog]
	// completion hears of completed classes (reports issues certificates).
	completion atomic.Pointer[CompletionListener]
	log        *slog.Logger
	ttl        time.Duration
	cache      *cache
	// writeEvery: see Config.WriteEvery.
	writeEvery time.Duration

	courses, revisions, classes, enrolments, progress *mongo.Collection

	prog      *progressBuffer
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a Service and starts its progress flusher. It panics if cfg.DB or
// cfg.Directory is nil, which is a wiring mistake.
func New(cfg Config) *Service {
	if cfg.DB == nil || cfg.Directory == nil {
		panic("courses.New: DB and Directory are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.WriteEvery <= 0 {
		cfg.WriteEvery = 30 * time.Second
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 30 * time.Second
	}
	s := &Service{
		db:         cfg.DB,
		now:        cfg.Clock,
		dir:        cfg.Directory,
		audit:      cfg.Auditor,
		log:        cfg.Logger,
		ttl:        cfg.CacheTTL,
		writeEvery: cfg.WriteEvery,
		cache:      newCache(),
		courses:    cfg.DB.Collection(CollCourses),
		revisions:  cfg.DB.Collection(CollRevisions),
		classes:    cfg.DB.Collection(CollClasses),
		enrolments: cfg.DB.Collection(CollEnrolments),
		progress:   cfg.DB.Collection(CollProgress),
		prog:       newProgressBuffer(),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	if cfg.QuizGate != nil {
		s.SetQuizGate(cfg.QuizGate)
	}
	go s.flushLoop(cfg.FlushInterval)
	return s
}

// SetQuizGate installs the quiz gate once the assessment service exists (it needs this
// Service first, for RecomputeCompletion).
func (s *Service) SetQuizGate(g QuizGate) { s.gate.Store(&g) }

func (s *Service) quizzesPassed(ctx context.Context, courseID, userID string) (bool, error) {
	g := s.gate.Load()
	if g == nil || *g == nil {
		return true, nil
	}
	ok, err := (*g).RequiredQuizStatus(ctx, courseID, userID)
	if err != nil {
		return false, fmt.Errorf("courses: required quizzes of %s: %w", courseID, err)
	}
	return ok, nil
}

// EnsureIndexes creates the indexes of the collections this package owns, among them the
// unique (class_id, user_id) index that makes each enrolment exactly-once.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	idx := []struct {
		c      *mongo.Collection
		keys   bson.D
		unique bool
	}{
		{s.courses, bson.D{{Key: "code_key", Value: 1}}, true},
		{s.courses, bson.D{{Key: "status", Value: 1}, {Key: "category", Value: 1}}, false},
		{s.courses, bson.D{{Key: "owner_id", Value: 1}}, false},
		{s.revisions, bson.D{{Key: "course_id", Value: 1}, {Key: "revision", Value: 1}}, true},
		{s.classes, bson.D{{Key: "course_id", Value: 1}}, false},
		{s.classes, bson.D{{Key: "trainer_ids", Value: 1}}, false},
		{s.enrolments, bson.D{{Key: "class_id", Value: 1}, {Key: "user_id", Value: 1}}, true},
		{s.enrolments, bson.D{{Key: "user_id", Value: 1}, {Key: "course_id", Value: 1}}, false},
		{s.enrolments, bson.D{{Key: "class_id", Value: 1}, {Key: "full_name", Value: 1}}, false},
		{s.progress, bson.D{{Key: "user_id", Value: 1}, {Key: "course_id", Value: 1}}, false},
	}
	for _, ix := range idx {
		m := mongo.IndexModel{Keys: ix.keys}
		if ix.unique {
			m.Options = options.Index().SetUnique(true)
		}
		if _, err := ix.c.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("courses: index on %s: %w", ix.c.Name(), dbErr(err))
		}
	}
	return nil
}

// Close stops the flusher and writes every buffered heartbeat. Later heartbeats are
// refused with errs.ErrUnavailable.
func (s *Service) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
	})
	return s.Flush(ctx)
}

// dbErr marks errors that mean the database could not be reached as unavailable.
func dbErr(err error) error {
	if err != nil && database.IsUnavailable(err) {
		return fmt.Errorf("%w: %w", errs.ErrUnavailable, err)
	}
	return err
}

// Authorisation helpers. A role check uses the caller's roles only; scope checks (owner,
// trainer of the class, unit_admin's units) are made by the operations.

func isAdmin(p accounts.Principal) bool { return p.Has(accounts.RoleAdmin) }

// onlyLearner reports whether the caller has no staff role: such callers are answered
// "not found" for what they may not see, rather than "forbidden".
func onlyLearner(p accounts.Principal) bool { return !p.User.IsStaff() }

func forbidden(what string) error { return fmt.Errorf("courses: %s: %w", what, errs.ErrForbidden) }
func notFound(what string) error  { return fmt.Errorf("courses: %s: %w", what, errs.ErrNotFound) }

// unitScope returns the unit ids a unit_admin manages (each admin unit with its subtree).
func (s *Service) unitScope(ctx context.Context, p accounts.Principal) (map[string]bool, error) {
	roots := p.User.AdminUnitIDs
	if len(roots) == 0 && p.User.UnitID != "" {
		roots = []string{p.User.UnitID}
	}
	scope := map[string]bool{}
	for _, r := range roots {
		sub, err := s.dir.SubtreeUnitIDs(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("courses: units of %s: %w", p.User.ID, err)
		}
		scope[r] = true
		for _, id := range sub {
			scope[id] = true
		}
	}
	return scope, nil
}
