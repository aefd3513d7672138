package assessment

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/audit/trail"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/keylock"
)

// Collection names.
const (
	BanksCollection            = "banks"
	QuestionsCollection        = "questions"
	QuestionVersionsCollection = "question_versions"
	QuizzesCollection          = "quizzes"
	AccommodationsCollection   = "accommodations"
	AttemptsCollection         = "attempts"
	PapersCollection           = "attempt_papers"
	SlotsCollection            = "attempt_slots"
	DueCollection              = "attempt_due"
)

// DefaultGrace is how long after its deadline an attempt still accepts answers, so that
// an autosave sent in the last second over a slow connection is not lost.
const DefaultGrace = 5 * time.Second

// Enrolments answers the questions assessment asks of courses. The courses package
// implements it.
type Enrolments interface {
	// IsEnrolledInCourse reports whether the user is enrolled in a class of the course.
	IsEnrolledInCourse(ctx context.Context, userID, courseID string) (bool, error)
	// IsTrainerOfCourse reports whether the user trains a class of the course.
	IsTrainerOfCourse(ctx context.Context, userID, courseID string) (bool, error)
	// LearnersTaughtBy lists the learners of the classes of the course that the trainer
	// trains.
	LearnersTaughtBy(ctx context.Context, trainerID, courseID string) ([]string, error)
}

// CompletionNotifier is told when a learner's result on a required quiz changes, so that
// course completion is recomputed. The courses package implements it.
type CompletionNotifier interface {
	RecomputeCompletion(ctx context.Context, userID, courseID string) error
}

// CompletionNotifierFunc adapts a function to CompletionNotifier, which lets the server
// wire courses and assessment to each other without a construction cycle.
type CompletionNotifierFunc func(ctx context.Context, userID, courseID string) error

// RecomputeCompletion calls f.
func (f CompletionNotifierFunc) RecomputeCompletion(ctx context.Context, userID, courseID string) error {
	return f(ctx, userID, courseID)
}

// Config holds the dependencies of a Service.
type Config struct {
	DB         *mongo.Database
	Clock      clock.Clock
	Enrolments Enrolments
	// Completion may be nil when nothing listens for completion.
	Completion CompletionNotifier
	Logger     *slog.Logger
	// Grace defaults to DefaultGrace.
	Grace time.Duration
	// CacheTTL bounds how long a quiz and its question pool are reused between starts
	// (default 10 s). Edits in this process invalidate at once; other processes see them
	// within the TTL, and an attempt always gets one consistent version of each question.
	CacheTTL time.Duration
	// AttemptLocks is set when this process is the only user of the database, as with the
	// embedded FerretDB, whose data directory is locked. Conditional writes of attempts then
	// read, check and write by _id under a per-attempt lock (see updateAttemptIf), which
	// FerretDB answers from an index instead of scanning every attempt. Services sharing a
	// database in one process must share the Map. Leave it nil with MongoDB.
	AttemptLocks *keylock.Map
	// Auditor records essay grades, accommodations and bank shares in the audit log
	// (audit.Log); nil records nothing.
	Auditor trail.Recorder
}

// Service is the assessment domain service. It is safe for concurrent use.
type Service struct {
	db             *mongo.Database
	banks          *mongo.Collection
	questions      *mongo.Collection
	versions       *mongo.Collection
	quizzes        *mongo.Collection
	accommodations *mongo.Collection
	attempts       *mongo.Collection
	papers         *mongo.Collection
	slots          *mongo.Collection
	due            *mongo.Collection
	locks          *keylock.Map // see Config.AttemptLocks

	now        clock.Clock
	enrolments Enrolments
	completion CompletionNotifier
	audit      trail.Recorder
	log        *slog.Logger
	grace      time.Duration
	ttl        time.Duration

	mu        sync.Mutex
	quizCache map[string]cachedQuiz
	quizLoads map[string]*quizLoad
	cacheGen  uint64 // grows with every invalidation of quizCache
	// recentAcc holds the accommodations this process wrote, by "quiz:user".
	recentAcc map[string]Accommodation
	// attemptCache holds the immutable part of attempts (owner, deadline, questions) so
	// that an autosave costs one database write. Status is never read from it.
	attemptCache map[string]*Attempt
	// snapshots caches question versions by "id:version"; they never change.
	snapshots map[string]Question
}

type cachedQuiz struct {
	quiz  Quiz
	pool  *questionPool
	until time.Time
}

// New returns a Service. It panics if DB, Clock or Enrolments is missing, which is a
// wiring mistake, not a runtime condition.
func New(cfg Config) *Service {
	if cfg.DB == nil || cfg.Clock == nil || cfg.Enrolments == nil {
		panic("assessment.New: DB, Clock and Enrolments are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 10 * time.Second
	}
	return &Service{
		db:             cfg.DB,
		banks:          cfg.DB.Collection(BanksCollection),
		questions:      cfg.DB.Collection(QuestionsCollection),
		versions:       cfg.DB.Collection(QuestionVersionsCollection),
		quizzes:        cfg.DB.Collection(QuizzesCollection),
		accommodations: cfg.DB.Collection(AccommodationsCollection),
		attempts:       cfg.DB.Collection(AttemptsCollection),
		papers:         cfg.DB.Collection(PapersCollection),
		slots:          cfg.DB.Collection(SlotsCollection),
		due:            cfg.DB.Collection(DueCollection),
		locks:          cfg.AttemptLocks,
		now:            cfg.Clock,
		enrolments:     cfg.Enrolments,
		completion:     cfg.Completion,
		audit:          cfg.Auditor,
		log:            cfg.Logger,
		grace:          cfg.Grace,
		ttl:            cfg.CacheTTL,
		quizCache:      map[string]cachedQuiz{},
		quizLoads:      map[string]*quizLoad{},
		recentAcc:      map[string]Accommodation{},
		attemptCache:   map[string]*Attempt{},
		snapshots:      map[string]Question{},
	}
}

// EnsureIndexes creates the indexes of the assessment collections and gives attempts
// stored before attempt_slots and attempt_due existed their slots and schedules. The unique ones carry rules: one bank
// per name, one attempt number per learner and quiz, and one open attempt per learner and
// quiz (sparse unique open_key).
func (s *Service) EnsureIndexes(ctx context.Context) error {
	type ix struct {
		c      *mongo.Collection
		name   string
		keys   bson.D
		unique bool
		sparse bool
	}
	list := []ix{
		{s.banks, "name_unique", bson.D{{Key: "name", Value: 1}}, true, false},
		{s.questions, "bank_category", bson.D{{Key: "bank", Value: 1}, {Key: "category", Value: 1}}, false, false},
		{s.questions, "bank_tags", bson.D{{Key: "bank", Value: 1}, {Key: "tags", Value: 1}}, false, false},
		{s.quizzes, "course", bson.D{{Key: "course_id", Value: 1}}, false, false},
		{s.accommodations, "quiz", bson.D{{Key: "quiz_id", Value: 1}}, false, false},
		{s.attempts, "quiz_user_number_unique", bson.D{{Key: "quiz_id", Value: 1}, {Key: "user_id", Value: 1}, {Key: "number", Value: 1}}, true, false},
		{s.attempts, "open_key_unique", bson.D{{Key: "open_key", Value: 1}}, true, true},
		{s.due, "due", bson.D{{Key: "due", Value: 1}}, false, false},
	}
	for _, i := range list {
		opts := options.Index().SetName(i.name)
		if i.unique {
			opts.SetUnique(true)
		}
		if i.sparse {
			opts.SetSparse(true)
		}
		if _, err := i.c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: i.keys, Options: opts}); err != nil {
			return fmt.Errorf("assessment: create index %s: %w", i.name, dbErr(err))
		}
	}
	if err := s.backfillSlots(ctx); err != nil {
		return err
	}
	return s.backfillDue(ctx)
}

// dbErr marks database failures that mean "could not reach it" as unavailable.
func dbErr(err error) error {
	if err == nil {
		return nil
	}
	if database.IsUnavailable(err) {
		return fmt.Errorf("%w: %w", errs.ErrUnavailable, err)
	}
	return err
}

func isAdmin(p accounts.Principal) bool    { return p.Has(accounts.RoleAdmin) }
func isLecturer(p accounts.Principal) bool { return p.Has(accounts.RoleLecturer) }

// learnerScope is whose results a caller may read on one quiz.
type learnerScope struct {
	all      bool            // admins and the quiz owner: every learner
	learners map[string]bool // trainers: the learners of the classes they train
}

func (l learnerScope) has(userID string) bool { return l.all || l.learners[userID] }

// resultScope says whose attempts of quiz q the caller may read and grade: everyone's for
// admins and the quiz owner; for a trainer of the course, only the learners of the
// classes they train (a trainer of another class of the same course sees none of ours).
// ok is false for anyone else.
func (s *Service) resultScope(ctx context.Context, actor accounts.Principal, q Quiz) (scope learnerScope, ok bool, err error) {
	if isAdmin(actor) || (isLecturer(actor) && q.OwnerID == actor.User.ID) {
		return learnerScope{all: true}, true, nil
	}
	if !actor.Has(accounts.RoleTrainer) {
		return learnerScope{}, false, nil
	}
	trains, err := s.enrolments.IsTrainerOfCourse(ctx, actor.User.ID, q.CourseID)
	if err != nil || !trains {
		return learnerScope{}, false, wrapTrainerErr(err)
	}
	taught, err := s.enrolments.LearnersTaughtBy(ctx, actor.User.ID, q.CourseID)
	if err != nil {
		return learnerScope{}, false, wrapTrainerErr(err)
	}
	scope.learners = make(map[string]bool, len(taught))
	for _, id := range taught {
		scope.learners[id] = true
	}
	return scope, true, nil
}

func wrapTrainerErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("assessment: check trainer: %w", err)
}

// quizForResults loads quiz quizID for a caller who reads its results (results, essays to
// grade, accommodations) and says which learners they see. Errors: ErrNotFound for an
// unknown quiz, ErrForbidden (naming what) for a caller who sees no results of it.
func (s *Service) quizForResults(ctx context.Context, actor accounts.Principal, quizID, what string) (Quiz, learnerScope, error) {
	q, err := s.findQuiz(ctx, quizID)
	if err != nil {
		return Quiz{}, learnerScope{}, err
	}
	scope, ok, err := s.resultScope(ctx, actor, q)
	if err != nil {
		return Quiz{}, learnerScope{}, err
	}
	if !ok {
		return Quiz{}, learnerScope{}, fmt.Errorf("assessment: %s: %w", what, errs.ErrForbidden)
	}
	return q, scope, nil
}

// canSeeResults reports whether the caller may open a quiz's results at all (admins, the
// quiz owner, trainers of the course); which learners they see is resultScope's answer.
func (s *Service) canSeeResults(ctx context.Context, actor accounts.Principal, q Quiz) (bool, error) {
	_, ok, err := s.resultScope(ctx, actor, q)
	return ok, err
}

// canSeeLearner reports whether the caller may read, grade or accommodate learner
// userID's attempts of quiz q.
func (s *Service) canSeeLearner(ctx context.Context, actor accounts.Principal, q Quiz, userID string) (bool, error) {
	scope, ok, err := s.resultScope(ctx, actor, q)
	return ok && scope.has(userID), err
}

func (s *Service) cacheAttempt(a *Attempt) {
	c := *a
	c.Answers, c.Result, c.EssayGrades = nil, nil, nil
	c.Questions = slices.Clone(a.Questions)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.attemptCache) >= 50_000 {
		clear(s.attemptCache) // crude bound; entries are refilled by the next read
	}
	s.attemptCache[a.ID] = &c
}

func (s *Service) cachedAttempt(id string) *Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attemptCache[id]
}

func (s *Service) invalidateQuiz(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.quizCache, id)
	s.cacheGen++
}

// invalidateQuizzes drops every cached quiz, after a question edit that any quiz's pool
// may include.
func (s *Service) invalidateQuizzes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.quizCache)
	s.cacheGen++
}
