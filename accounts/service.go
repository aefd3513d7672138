package accounts

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/audit/trail"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// Collection names owned by this package.
const (
	UsersCollection    = "users"
	UnitsCollection    = "units"
	SessionsCollection = "sessions"
)

// Config tunes sessions and login throttling. Zero fields take the defaults noted.
type Config struct {
	SessionTTL         time.Duration // how long a login lasts; default 12h
	MaxFailuresPerUser int           // failed logins per username per window; default 10
	MaxFailuresPerIP   int           // failed logins per client address per window; default 200
	FailureWindow      time.Duration // default 15m

	// Argon2 sets the cost of new password hashes; zero means DefaultArgon2. Tests lower it.
	Argon2 Argon2Params
	// AuthCacheTTL bounds how long Authenticate trusts a cached session; default (and
	// maximum) 30s, so a change made on another node shows within that time.
	AuthCacheTTL time.Duration
	// AuthCacheSize bounds the number of cached sessions; default 10,000.
	AuthCacheSize int
}

func (c Config) withDefaults() Config {
	if c.SessionTTL <= 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.MaxFailuresPerUser <= 0 {
		c.MaxFailuresPerUser = 10
	}
	if c.MaxFailuresPerIP <= 0 {
		c.MaxFailuresPerIP = 200
	}
	if c.FailureWindow <= 0 {
		c.FailureWindow = 15 * time.Minute
	}
	if c.Argon2 == (Argon2Params{}) {
		c.Argon2 = DefaultArgon2
	}
	if c.AuthCacheTTL <= 0 || c.AuthCacheTTL > 30*time.Second {
		c.AuthCacheTTL = 30 * time.Second
	}
	if c.AuthCacheSize <= 0 {
		c.AuthCacheSize = 10_000
	}
	return c
}

// Service is the accounts domain: users, units, sessions. It is safe for concurrent use.
type Service struct {
	db       *mongo.Database
	users    *mongo.Collection
	units    *mongo.Collection
	sessions *mongo.Collection
	cfg      Config
	now      clock.Clock

	// hashSlots bounds how many argon2 hashes run at once: each takes Argon2.Memory KiB,
	// and a burst of logins must not exhaust memory.
	hashSlots chan struct{}
	// dummyHash is a hash of a random password with the current parameters, verified
	// against when a username is unknown so that unknown users and wrong passwords take
	// the same time.
	dummyHash string

	throttle  *throttle
	cache     *authCache
	usernames *usernameIndex

	// treeMu serialises unit moves within this process, so two concurrent moves cannot
	// together create a cycle.
	treeMu sync.Mutex

	// audit records administrative actions; set once by SetAuditor before serving.
	audit trail.Recorder
}

// NewService returns the accounts service over db. now is the time source (clock.System in
// production).
func NewService(db *mongo.Database, cfg Config, now clock.Clock) *Service {
	cfg = cfg.withDefaults()
	if now == nil {
		now = clock.System
	}
	return &Service{
		db:        db,
		users:     db.Collection(UsersCollection),
		units:     db.Collection(UnitsCollection),
		sessions:  db.Collection(SessionsCollection),
		cfg:       cfg,
		now:       func() time.Time { return now().UTC().Truncate(time.Millisecond) },
		hashSlots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		throttle:  newThrottle(cfg.FailureWindow),
		cache:     newAuthCache(cfg.AuthCacheSize),
		usernames: newUsernameIndex(),
		dummyHash: HashPassword(ids.Secret(16), cfg.Argon2),
	}
}

// SetAuditor plugs in the audit log, which is built after this service (it reads unit
// paths from it). Call it once, before the service is used concurrently. Without it,
// administrative actions are not recorded (tests of other concerns).
func (s *Service) SetAuditor(r trail.Recorder) { s.audit = r }

// record stores the audit entries of an action that succeeded (see trail.Record).
func (s *Service) record(ctx context.Context, entries ...trail.Entry) error {
	return trail.Record(ctx, s.audit, entries...)
}

// EnsureIndexes creates the indexes of users, units and sessions. It is idempotent and
// runs at start-up.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	specs := []struct {
		c      *mongo.Collection
		models []mongo.IndexModel
	}{
		{s.users, []mongo.IndexModel{
			{Keys: bson.D{{Key: "username", Value: 1}}, Options: options.Index().SetUnique(true).SetName("username_unique")},
			{Keys: bson.D{{Key: "unit_id", Value: 1}}, Options: options.Index().SetName("unit_id")},
			{Keys: bson.D{{Key: "name_fold", Value: 1}}, Options: options.Index().SetName("name_fold")},
		}},
		{s.units, []mongo.IndexModel{
			{Keys: bson.D{{Key: "code", Value: 1}}, Options: options.Index().SetUnique(true).SetName("code_unique")},
			{Keys: bson.D{{Key: "path", Value: 1}}, Options: options.Index().SetName("path")},
			{Keys: bson.D{{Key: "parent_id", Value: 1}}, Options: options.Index().SetName("parent_id")},
		}},
		{s.sessions, []mongo.IndexModel{
			{Keys: bson.D{{Key: "expires_at", Value: 1}}, Options: options.Index().SetName("expires_at")},
			{Keys: bson.D{{Key: "user_id", Value: 1}}, Options: options.Index().SetName("user_id")},
		}},
	}
	for _, sp := range specs {
		if err := database.EnsureIndexes(ctx, sp.c, sp.models...); err != nil {
			return fmt.Errorf("accounts: indexes of %s: %w", sp.c.Name(), dbErr(err))
		}
	}
	return nil
}

// hash runs HashPassword with the configured cost inside a hash slot.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	return s.hashWith(ctx, password, s.cfg.Argon2)
}

func (s *Service) hashWith(ctx context.Context, password string, p Argon2Params) (string, error) {
	if err := s.acquireHashSlot(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashSlots }()
	return HashPassword(password, p), nil
}

// verify runs VerifyPassword inside a hash slot.
func (s *Service) verify(ctx context.Context, password, encoded string) (bool, error) {
	if err := s.acquireHashSlot(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashSlots }()
	return VerifyPassword(password, encoded)
}

func (s *Service) acquireHashSlot(ctx context.Context) error {
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("accounts: waiting to hash a password: %w: %w", errs.ErrUnavailable, ctx.Err())
	}
}

// dbErr marks database errors that mean "try again later" as ErrUnavailable and leaves
// the rest as they are (internal).
func dbErr(err error) error {
	if database.IsUnavailable(err) {
		return fmt.Errorf("%w: %w", errs.ErrUnavailable, err)
	}
	return err
}
