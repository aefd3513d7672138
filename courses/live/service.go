package live

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/internal/clock"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// Collection names owned by this package.
const (
	CollSessions   = "live_sessions"
	CollEvents     = "live_events"
	CollVotes      = "live_votes"
	CollAttendance = "live_attendance"
	CollNodes      = "live_nodes"
)

// Service schedules sessions and reads their stored events and attendance. Rooms (the Hub)
// are built on top of it.
type Service struct {
	db      *mongo.Database
	now     clock.Clock
	members Membership

	sessions   *mongo.Collection
	events     *mongo.Collection
	votes      *mongo.Collection
	attendance *mongo.Collection
	nodes      *mongo.Collection

	// cache holds sessions by id: every join looks its session up, and FerretDB scans the
	// collection for each lookup. Sessions change only through EndSession, which updates
	// the entry here; an end on another process reaches this cache through a room's
	// session.ended event, or when a running session's entry is older than
	// sessionCacheTTL. Ended sessions never change again.
	mu    sync.Mutex
	cache map[string]cachedSession
}

// NewService returns a Service over db. now may be nil for the system clock.
func NewService(db *mongo.Database, now clock.Clock, members Membership) *Service {
	if now == nil {
		now = clock.System
	}
	return &Service{
		db: db, now: now, members: members,
		sessions:   db.Collection(CollSessions),
		events:     db.Collection(CollEvents),
		votes:      db.Collection(CollVotes),
		attendance: db.Collection(CollAttendance),
		nodes:      db.Collection(CollNodes),
		cache:      map[string]cachedSession{},
	}
}

// EnsureIndexes creates the package's indexes: live_events unique (session_id, seq) and
// unique sparse key; live_sessions (class_id, starts_at); live_votes (poll_id);
// live_attendance (session_id, user_id).
func (s *Service) EnsureIndexes(ctx context.Context) error {
	specs := []struct {
		c   *mongo.Collection
		idx mongo.IndexModel
	}{
		{s.events, mongo.IndexModel{Keys: bson.D{{Key: "session_id", Value: 1}, {Key: "seq", Value: 1}},
			Options: options.Index().SetName("session_seq").SetUnique(true)}},
		{s.events, mongo.IndexModel{Keys: bson.D{{Key: "key", Value: 1}},
			Options: options.Index().SetName("key").SetUnique(true).SetSparse(true)}},
		{s.sessions, mongo.IndexModel{Keys: bson.D{{Key: "class_id", Value: 1}, {Key: "starts_at", Value: 1}},
			Options: options.Index().SetName("class_starts")}},
		{s.votes, mongo.IndexModel{Keys: bson.D{{Key: "poll_id", Value: 1}},
			Options: options.Index().SetName("poll")}},
		{s.attendance, mongo.IndexModel{Keys: bson.D{{Key: "session_id", Value: 1}, {Key: "user_id", Value: 1}},
			Options: options.Index().SetName("session_user")}},
	}
	for _, sp := range specs {
		if _, err := sp.c.Indexes().CreateOne(ctx, sp.idx); err != nil {
			return fmt.Errorf("live: create index on %s: %w", sp.c.Name(), err)
		}
	}
	return nil
}

// classRole returns the actor's role in the class; admins count as trainers.
func (s *Service) classRole(ctx context.Context, a Actor, classID string) (string, error) {
	if a.Admin {
		return RoleTrainer, nil
	}
	if s.members == nil || a.ID == "" {
		return "", nil
	}
	role, err := s.members.ClassRole(ctx, classID, a.ID)
	if errors.Is(err, errs.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("live: class membership: %w", err)
	}
	if role != RoleLearner && role != RoleTrainer {
		return "", nil
	}
	return role, nil
}

// ValidateNewSession checks a NewSession and returns it normalised (title cleaned, times
// in UTC at millisecond precision); the error is an errs.FieldError.
func ValidateNewSession(in NewSession) (NewSession, error) {
	var f errs.Fields
	title, msg := CleanText(in.Title, 200)
	f.Check(msg != "", "title", "title "+msg)
	f.Check(in.StartsAt.IsZero(), "starts_at", "starts_at is required")
	in.StreamURL = strings.TrimSpace(in.StreamURL)
	if in.StreamURL != "" {
		u, err := url.Parse(in.StreamURL)
		f.Check(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(in.StreamURL) > 2000,
			"stream_url", "stream_url must be an http or https URL")
	}
	if err := f.Err(); err != nil {
		return NewSession{}, err
	}
	in.Title = title
	in.StartsAt = in.StartsAt.UTC().Truncate(time.Millisecond)
	return in, nil
}

// CreateSession schedules a session for a class. Only a trainer of the class or an admin
// may; others get errs.ErrForbidden. Invalid input returns an errs.FieldError.
func (s *Service) CreateSession(ctx context.Context, a Actor, classID string, in NewSession) (Session, error) {
	in, err := ValidateNewSession(in)
	if err != nil {
		return Session{}, err
	}
	role, err := s.classRole(ctx, a, classID)
	if err != nil {
		return Session{}, err
	}
	if role != RoleTrainer {
		return Session{}, fmt.Errorf("live: only a trainer of the class may schedule a session: %w", errs.ErrForbidden)
	}
	// Copies: callers may pass strings backed by a request buffer, and sessions are cached.
	classID, in.StreamURL = strings.Clone(classID), strings.Clone(in.StreamURL)
	sess := Session{
		ID: ids.New(), ClassID: classID, Title: in.Title, StartsAt: in.StartsAt, StreamURL: in.StreamURL,
		CreatedBy: a.ID, CreatedAt: s.now().UTC().Truncate(time.Millisecond),
	}
	if _, err := s.sessions.InsertOne(ctx, sess); err != nil {
		return Session{}, fmt.Errorf("live: insert session: %w", err)
	}
	s.remember(sess)
	return sess, nil
}

// cachedSession is a session and when it was read.
type cachedSession struct {
	Session
	at time.Time
}

// sessionCacheTTL bounds how long another process's end of a running session may go
// unnoticed by GetSession here.
const sessionCacheTTL = 5 * time.Second

func (s *Service) remember(sess Session) {
	s.mu.Lock()
	s.cache[sess.ID] = cachedSession{Session: sess, at: s.now()}
	s.mu.Unlock()
}

// findSession returns the session by id, from the cache when it can.
func (s *Service) findSession(ctx context.Context, id string) (Session, error) {
	s.mu.Lock()
	c, ok := s.cache[id]
	s.mu.Unlock()
	if ok && (c.Ended() || s.now().Sub(c.at) < sessionCacheTTL) {
		return c.Session, nil
	}
	var sess Session
	if !ids.Valid(id) {
		return Session{}, fmt.Errorf("live: session %q: %w", id, errs.ErrNotFound)
	}
	err := s.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&sess)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Session{}, fmt.Errorf("live: session %q: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("live: find session: %w", err)
	}
	s.remember(sess)
	return sess, nil
}

// sessionEnded records in the cache that a session ended (told by a room, possibly
// about an end on another process).
func (s *Service) sessionEnded(id string, at time.Time, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cache[id]; ok && c.EndedAt == nil {
		c.EndedAt, c.EndedBy = &at, by
		s.cache[id] = c
	}
}

// GetSession returns a session to a member of its class, an admin or a unit admin.
// It returns errs.ErrNotFound when there is no such session or the caller is a learner
// outside the class, and errs.ErrForbidden for other staff.
func (s *Service) GetSession(ctx context.Context, a Actor, id string) (Session, error) {
	sess, err := s.findSession(ctx, id)
	if err != nil {
		return Session{}, err
	}
	if a.UnitAdmin {
		return sess, nil
	}
	role, err := s.classRole(ctx, a, sess.ClassID)
	if err != nil {
		return Session{}, err
	}
	if role == "" {
		return Session{}, notMember(a, "the session's class")
	}
	return sess, nil
}

// ListSessions returns a class's sessions by start time to a member of the class, an admin
// or a unit admin; learners outside the class get errs.ErrNotFound, other staff
// errs.ErrForbidden.
func (s *Service) ListSessions(ctx context.Context, a Actor, classID string) ([]Session, error) {
	if !a.UnitAdmin {
		role, err := s.classRole(ctx, a, classID)
		if err != nil {
			return nil, err
		}
		if role == "" {
			return nil, notMember(a, "the class")
		}
	}
	cur, err := s.sessions.Find(ctx, bson.D{{Key: "class_id", Value: classID}},
		options.Find().SetSort(bson.D{{Key: "starts_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(1000))
	if err != nil {
		return nil, fmt.Errorf("live: list sessions: %w", err)
	}
	out := []Session{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("live: list sessions: %w", err)
	}
	return out, nil
}

// notMember refuses a caller who is not in the class: not found for a learner, so that
// the class's existence does not leak (classes answer them so too), forbidden for staff,
// who may know that classes exist.
func notMember(a Actor, what string) error {
	if a.OnlyLearner {
		return fmt.Errorf("live: not a member of %s: %w", what, errs.ErrNotFound)
	}
	return fmt.Errorf("live: not a member of %s: %w", what, errs.ErrForbidden)
}

// markEnded stores the end of a session once. It returns errs.ErrConflict when the
// session had already ended.
func (s *Service) markEnded(ctx context.Context, sess Session, by string, at time.Time) (Session, error) {
	res, err := s.sessions.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: sess.ID}, {Key: "ended_at", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "ended_at", Value: at}, {Key: "ended_by", Value: by}}}})
	if err != nil {
		return Session{}, fmt.Errorf("live: end session: %w", err)
	}
	if res.MatchedCount == 0 {
		// Another process may have ended it: refresh the cache from the store.
		s.mu.Lock()
		delete(s.cache, sess.ID)
		s.mu.Unlock()
		return Session{}, fmt.Errorf("live: the session has already ended: %w", errs.ErrConflict)
	}
	sess.EndedAt, sess.EndedBy = &at, by
	s.remember(sess)
	return sess, nil
}

// Events returns up to limit (1–500, default 100) stored events after since, in order,
// to a participant (a class member or an admin); learners outside the class get
// errs.ErrNotFound, other staff errs.ErrForbidden.
func (s *Service) Events(ctx context.Context, a Actor, sessionID string, since int64, limit int) (EventPage, error) {
	sess, err := s.findSession(ctx, sessionID)
	if err != nil {
		return EventPage{}, err
	}
	role, err := s.classRole(ctx, a, sess.ClassID)
	if err != nil {
		return EventPage{}, err
	}
	if role == "" {
		return EventPage{}, notMember(a, "the session's class")
	}
	if since < 0 {
		return EventPage{}, errs.Field("since", "since must be 0 or a sequence number")
	}
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 500)
	evs, err := s.loadEvents(ctx, sessionID, since, 0, limit+1)
	if err != nil {
		return EventPage{}, err
	}
	page := EventPage{Items: evs, Next: since}
	if len(evs) > limit {
		page.Items, page.More = evs[:limit], true
	}
	if n := len(page.Items); n > 0 {
		page.Next = page.Items[n-1].Seq
	}
	page.Total = len(page.Items)
	return page, nil
}

// loadEvents reads a session's events with since < seq ≤ upTo (upTo 0: no upper bound),
// in order, at most limit (0: all).
func (s *Service) loadEvents(ctx context.Context, sessionID string, since, upTo int64, limit int) ([]Event, error) {
	rng := bson.D{{Key: "$gt", Value: since}}
	if upTo > 0 {
		rng = append(rng, bson.E{Key: "$lte", Value: upTo})
	}
	opts := options.Find().SetSort(bson.D{{Key: "seq", Value: 1}})
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := s.events.Find(ctx, bson.D{{Key: "session_id", Value: sessionID}, {Key: "seq", Value: rng}}, opts)
	if err != nil {
		return nil, fmt.Errorf("live: read events: %w", err)
	}
	out := []Event{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("live: read events: %w", err)
	}
	for i := range out {
		out[i].At = out[i].At.UTC()
		if out[i].Until != nil {
			u := out[i].Until.UTC()
			out[i].Until = &u
		}
	}
	return out, nil
}

// eachEvent calls fn for every stored event of a session after since, in order, reading
// them one at a time from a cursor (a long session's history need not fit in memory twice).
func (s *Service) eachEvent(ctx context.Context, sessionID string, since int64, fn func(Event) error) error {
	cur, err := s.events.Find(ctx, bson.D{{Key: "session_id", Value: sessionID}, {Key: "seq", Value: bson.D{{Key: "$gt", Value: since}}}},
		options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}))
	if err != nil {
		return fmt.Errorf("live: read events: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var ev Event
		if err := cur.Decode(&ev); err != nil {
			return fmt.Errorf("live: read events: %w", err)
		}
		ev.At = ev.At.UTC()
		if ev.Until != nil {
			u := ev.Until.UTC()
			ev.Until = &u
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("live: read events: %w", err)
	}
	return nil
}
