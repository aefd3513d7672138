package courses

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/internal/database"
)

// cache keeps the reads that every heartbeat needs out of the database: revisions (immutable,
// kept for ever), classes and each learner's enrolments (kept for the Service's CacheTTL and
// dropped at once when this Service changes them).
type cache struct {
	mu         sync.Mutex
	revisions  map[string]*revisionEntry // courseID:revision
	classes    map[string]timed[Class]
	enrolments map[string]timed[[]enrolmentRef] // by user id
	// enrolIndexAt is when every enrolment was last read into enrolments.
	enrolIndexAt time.Time
	indexMu      sync.Mutex // one reader of the whole index at a time
}

type timed[T any] struct {
	v  T
	at time.Time
}

// revisionEntry is a revision with its lessons indexed by id.
type revisionEntry struct {
	rev     *Revision
	lessons map[string]lessonRef
	order   []string
}

type lessonRef struct {
	Lesson
	ModuleID string
}

// enrolmentRef is the part of an enrolment a heartbeat needs. ID lets the enrolment be
// read and written by _id alone, which embedded FerretDB answers from an index where a
// filter on class and user scans every enrolment.
type enrolmentRef struct {
	ID       string `bson:"_id"`
	ClassID  string `bson:"class_id"`
	CourseID string `bson:"course_id"`
}

func newCache() *cache {
	return &cache{
		revisions:  map[string]*revisionEntry{},
		classes:    map[string]timed[Class]{},
		enrolments: map[string]timed[[]enrolmentRef]{},
	}
}

func revKey(courseID string, rev int) string { return courseID + ":" + strconv.Itoa(rev) }

func indexRevision(r *Revision) *revisionEntry {
	e := &revisionEntry{rev: r, lessons: map[string]lessonRef{}}
	for _, m := range r.Modules {
		for _, l := range m.Lessons {
			e.lessons[l.ID] = lessonRef{Lesson: l, ModuleID: m.ID}
			e.order = append(e.order, l.ID)
		}
	}
	return e
}

// revision returns revision rev of a course, from the cache when it was read before;
// an error wrapping errs.ErrNotFound when there is no such revision.
func (s *Service) revision(ctx context.Context, courseID string, rev int) (*revisionEntry, error) {
	key := revKey(courseID, rev)
	s.cache.mu.Lock()
	e := s.cache.revisions[key]
	s.cache.mu.Unlock()
	if e != nil {
		return e, nil
	}
	var r Revision
	err := s.revisions.FindOne(ctx, bson.M{"course_id": courseID, "revision": rev}).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, notFound(fmt.Sprintf("revision %d of course %s", rev, courseID))
	}
	if err != nil {
		return nil, fmt.Errorf("courses: read revision: %w", dbErr(err))
	}
	e = indexRevision(&r)
	s.cache.mu.Lock()
	s.cache.revisions[key] = e
	s.cache.mu.Unlock()
	return e, nil
}

// classCached returns a class, from the cache when read within the TTL.
func (s *Service) classCached(ctx context.Context, id string) (Class, error) {
	now := s.now()
	s.cache.mu.Lock()
	c, ok := s.cache.classes[id]
	s.cache.mu.Unlock()
	if ok && now.Sub(c.at) < s.ttl {
		return c.v, nil
	}
	cl, err := s.findClass(ctx, id)
	if err != nil {
		return Class{}, err
	}
	s.cache.mu.Lock()
	s.cache.classes[id] = timed[Class]{cl, now}
	s.cache.mu.Unlock()
	return cl, nil
}

func (s *Service) forgetClass(id string) {
	s.cache.mu.Lock()
	delete(s.cache.classes, id)
	s.cache.mu.Unlock()
}

// enrolIndexTTL is how often the whole enrolment index is read again. Enrolments made
// through this Service enter it at once; those made on another node are found by the
// per-user read that a miss triggers (at most every few seconds per user).
const enrolIndexTTL = 5 * time.Minute

// userEnrolments returns the classes a user is enrolled in, from an in-memory index of
// every enrolment that is read in one find (rather than one find per learner, which on
// FerretDB scans the collection each time). fresh re-reads the user's own enrolments when
// the index's answer is more than a few seconds old: a heartbeat for a lesson the index
// does not know may follow an enrolment made on another node.
func (s *Service) userEnrolments(ctx context.Context, userID string, fresh bool) ([]enrolmentRef, error) {
	now := s.now()
	if err := s.loadEnrolIndex(ctx, now); err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	c, ok := s.cache.enrolments[userID]
	s.cache.mu.Unlock()
	switch {
	case ok && (!fresh || now.Sub(c.at) < 5*time.Second):
		return c.v, nil
	case !ok && !fresh:
		return nil, nil
	}
	refs, err := s.findEnrolmentRefs(ctx, bson.M{"user_id": userID})
	if err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	s.cache.enrolments[userID] = timed[[]enrolmentRef]{refs[userID], now}
	s.cache.mu.Unlock()
	return refs[userID], nil
}

// loadEnrolIndex reads every enrolment into the index when it is older than
// enrolIndexTTL; one caller reads while the others wait for its answer.
func (s *Service) loadEnrolIndex(ctx context.Context, now time.Time) error {
	s.cache.mu.Lock()
	stale := now.Sub(s.cache.enrolIndexAt) >= enrolIndexTTL
	s.cache.mu.Unlock()
	if !stale {
		return nil
	}
	s.cache.indexMu.Lock()
	defer s.cache.indexMu.Unlock()
	s.cache.mu.Lock()
	stale = now.Sub(s.cache.enrolIndexAt) >= enrolIndexTTL
	s.cache.mu.Unlock()
	if !stale {
		return nil
	}
	all, err := s.findEnrolmentRefs(ctx, bson.M{})
	if err != nil {
		return err
	}
	idx := make(map[string]timed[[]enrolmentRef], len(all))
	for u, refs := range all {
		idx[u] = timed[[]enrolmentRef]{refs, now}
	}
	s.cache.mu.Lock()
	s.cache.enrolments, s.cache.enrolIndexAt = idx, now
	s.cache.mu.Unlock()
	return nil
}

func (s *Service) findEnrolmentRefs(ctx context.Context, filter bson.M) (map[string][]enrolmentRef, error) {
	cur, err := s.enrolments.Find(ctx, filter,
		options.Find().SetProjection(bson.M{"_id": 1, "user_id": 1, "class_id": 1, "course_id": 1}))
	if err != nil {
		return nil, fmt.Errorf("courses: read enrolments: %w", dbErr(err))
	}
	var rows []struct {
		ID       string `bson:"_id"`
		UserID   string `bson:"user_id"`
		ClassID  string `bson:"class_id"`
		CourseID string `bson:"course_id"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("courses: read enrolments: %w", dbErr(err))
	}
	out := map[string][]enrolmentRef{}
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], enrolmentRef{ID: r.ID, ClassID: r.ClassID, CourseID: r.CourseID})
	}
	return out, nil
}

// addEnrolments puts enrolments this Service just made into the index, by user id.
func (s *Service) addEnrolments(refs map[string]enrolmentRef) {
	now := s.now()
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	for userID, ref := range refs {
		c := s.cache.enrolments[userID]
		if !slices.Contains(c.v, ref) {
			c.v = append(slices.Clone(c.v), ref)
		}
		c.at = now
		s.cache.enrolments[userID] = c
	}
}

// enrolmentsWhere returns the learner's enrolments that keep accepts, read by _id,
// reading the enrolment index again when it lists none (an enrolment made by another
// process). Errors wrap errs.ErrUnavailable.
func (s *Service) enrolmentsWhere(ctx context.Context, userID string, keep func(enrolmentRef) bool) ([]enrolmentDoc, error) {
	var ids []string
	for _, fresh := range []bool{false, true} {
		refs, err := s.userEnrolments(ctx, userID, fresh)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			if keep(r) {
				ids = append(ids, r.ID)
			}
		}
		if len(ids) > 0 {
			break
		}
	}
	docs, err := database.FindByIDs[enrolmentDoc](ctx, s.enrolments, ids)
	if err != nil {
		return nil, fmt.Errorf("courses: read enrolments: %w", dbErr(err))
	}
	return docs, nil
}
