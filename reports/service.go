package reports

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	CollTargets      = "targets"
	CollPlans        = "training_plans"
	CollCertificates = "certificates"
	CollCounters     = "certificate_counters"
)

// Config holds a Service's dependencies.
type Config struct {
	DB        *mongo.Database
	Clock     clock.Clock // clock.System when nil
	Directory Directory   // required: accounts
	Learning  Learning    // required: courses
	Quizzes   Quizzes     // may be nil: no quiz results
	Live      Attendance  // may be nil: no live attendance
	// PublicURL is where the site is reached from outside ("https://hoctap.example.gov.vn");
	// certificate QR codes point at PublicURL + "/verify/" + number.
	PublicURL string
	// CertificateIssuer is the organisation named on certificates; "Hoctap" when empty.
	CertificateIssuer string
	// CacheTTL bounds how long the directory and metric snapshots behind roll-ups are
	// reused as they are (see Invalidate); 30 s when zero, no caching when negative.
	CacheTTL time.Duration
	// MaxStale bounds how old a snapshot may be served while a newer one loads in the
	// background; 10 min when zero.
	MaxStale time.Duration
	// Auditor records certificates issued and revoked in the audit log (audit.Log); nil
	// records nothing.
	Auditor trail.Recorder
}

// Service is the reports domain: training targets and their roll-ups, yearly training
// plans, dashboards and charts, spreadsheet exports and certificates. It is safe for
// concurrent use.
type Service struct {
	dir    Directory
	learn  Learning
	quiz   Quizzes
	live   Attendance
	now    clock.Clock
	public string
	issuer string
	cache  *cache
	audit  trail.Recorder

	targets, plans, certs, counters *mongo.Collection
}

// New returns the reports service. It does not touch the database; call EnsureIndexes at
// start-up.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Directory == nil || cfg.Learning == nil {
		return nil, errors.New("reports: Config needs DB, Directory and Learning")
	}
	now := cfg.Clock
	if now == nil {
		now = clock.System
	}
	issuer := cfg.CertificateIssuer
	if issuer == "" {
		issuer = "Hoctap"
	}
	ttl := cfg.CacheTTL
	if ttl == 0 {
		ttl = 30 * time.Second
	}
	maxStale := cfg.MaxStale
	if maxStale <= 0 {
		maxStale = 10 * time.Minute
	}
	return &Service{
		cache:    newCache(ttl, maxStale),
		dir:      cfg.Directory,
		learn:    cfg.Learning,
		quiz:     cfg.Quizzes,
		live:     cfg.Live,
		now:      func() time.Time { return now().UTC().Truncate(time.Millisecond) },
		public:   strings.TrimRight(cfg.PublicURL, "/"),
		issuer:   issuer,
		audit:    cfg.Auditor,
		targets:  cfg.DB.Collection(CollTargets),
		plans:    cfg.DB.Collection(CollPlans),
		certs:    cfg.DB.Collection(CollCertificates),
		counters: cfg.DB.Collection(CollCounters),
	}, nil
}

// EnsureIndexes creates the indexes of targets, training_plans and certificates. It is
// idempotent and runs at start-up.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	specs := []struct {
		c      *mongo.Collection
		models []mongo.IndexModel
	}{
		{s.targets, []mongo.IndexModel{
			{Keys: bson.D{{Key: "unit_id", Value: 1}}, Options: options.Index().SetName("unit_id")},
		}},
		{s.plans, []mongo.IndexModel{
			{Keys: bson.D{{Key: "unit_id", Value: 1}, {Key: "year", Value: 1}}, Options: options.Index().SetUnique(true).SetName("unit_year_unique")},
			{Keys: bson.D{{Key: "year", Value: 1}}, Options: options.Index().SetName("year")},
		}},
		{s.certs, []mongo.IndexModel{
			// Exactly one certificate per learner and class, whoever inserts first.
			{Keys: bson.D{{Key: "class_id", Value: 1}, {Key: "user_id", Value: 1}}, Options: options.Index().SetUnique(true).SetName("class_user_unique")},
			// Sparse: a certificate holds no number for the instant between its insert
			// and the numbering update.
			{Keys: bson.D{{Key: "number", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true).SetName("number_unique")},
			{Keys: bson.D{{Key: "user_id", Value: 1}}, Options: options.Index().SetName("user_id")},
			{Keys: bson.D{{Key: "unit_id", Value: 1}}, Options: options.Index().SetName("unit_id")},
		}},
	}
	for _, sp := range specs {
		if err := database.EnsureIndexes(ctx, sp.c, sp.models...); err != nil {
			return fmt.Errorf("reports: indexes of %s: %w", sp.c.Name(), dbErr(err))
		}
	}
	return nil
}

// dbErr marks database errors that mean "try again later" as ErrUnavailable.
func dbErr(err error) error {
	if database.IsUnavailable(err) {
		return fmt.Errorf("%w: %w", errs.ErrUnavailable, err)
	}
	return err
}

func errInvalidField(field, reason string) error { return errs.Field(field, reason) }

// isOfficer reports whether the caller may use reports at all (admin or unit_admin).
func isOfficer(p accounts.Principal) bool {
	return p.Has(accounts.RoleAdmin) || p.Has(accounts.RoleUnitAdmin)
}

// adminRoots returns the roots of a unit_admin's scope: AdminUnitIDs, or their own unit
// when that is empty (the rule of accounts.Manages).
func adminRoots(u accounts.User) []string {
	if len(u.AdminUnitIDs) > 0 {
		return u.AdminUnitIDs
	}
	if u.UnitID == "" {
		return nil
	}
	return []string{u.UnitID}
}

// scope is what a caller may see of the unit tree.
type scope struct {
	all     bool            // admin
	managed map[string]bool // unit ids a unit_admin manages
}

func (sc scope) has(unitID string) bool { return sc.all || sc.managed[unitID] }

// scopeOf returns the caller's scope over units: everything for an admin, the managed
// subtrees for a unit_admin; ErrForbidden for anyone else.
func scopeOf(p accounts.Principal, units []accounts.Unit) (scope, error) {
	if p.Has(accounts.RoleAdmin) {
		return scope{all: true}, nil
	}
	if !p.Has(accounts.RoleUnitAdmin) {
		return scope{}, fmt.Errorf("reports are for personnel officers: %w", errs.ErrForbidden)
	}
	sc := scope{managed: map[string]bool{}}
	for _, u := range units {
		if accounts.Manages(p.User, u) {
			sc.managed[u.ID] = true
		}
	}
	return sc, nil
}

// unitsByID indexes units by id.
func unitsByID(units []accounts.Unit) map[string]accounts.Unit {
	m := make(map[string]accounts.Unit, len(units))
	for _, u := range units {
		m[u.ID] = u
	}
	return m
}

// covers reports whether a target or plan set on unit ancestorID applies to unit u.
func covers(ancestorID string, u accounts.Unit) bool {
	return u.ID == ancestorID || slices.Contains(u.Path, ancestorID)
}

// clip bounds a page.
func clip(limit, offset int) (int, int) {
	if limit <= 0 {
		limit = 50
	}
	if limit > 500 {
		limit = 500
	}
	return limit, max(offset, 0)
}
