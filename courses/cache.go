package courses

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// cache keeps the reads that every heartbeat needs out of the database: revisions (immutable,
// kept for ever), classes and each learner's enrolments (kept for the Service's CacheTTL and
// dropped at once when this Service changes them).
type cache struct {
	mu         sync.Mutex
	revisions  map[string]*revisionEntry // courseID:revision
	classes    map[string]timed[Class]
	enrolments map[string]timed[[]enrolmentRef] // by user id
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

// enrolmentRef is the part of an enrolment a heartbeat needs.
type enrolmentRef struct {
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

// userEnrolments returns the classes a user is enrolled in. fresh forces a read when the
// cached answer is older than a few seconds (a heartbeat for a lesson the cache does not
// know may follow an enrolment made on another node).
func (s *Service) userEnrolments(ctx context.Context, userID string, fresh bool) ([]enrolmentRef, error) {
	now := s.now()
	s.cache.mu.Lock()
	c, ok := s.cache.enrolments[userID]
	s.cache.mu.Unlock()
	age := now.Sub(c.at)
	if ok && age < s.ttl && (!fresh || age < 5*time.Second) {
		return c.v, nil
	}
	cur, err := s.enrolments.Find(ctx, bson.M{"user_id": userID},
		options.Find().SetProjection(bson.M{"class_id": 1, "course_id": 1}))
	if err != nil {
		return nil, fmt.Errorf("courses: read enrolments: %w", dbErr(err))
	}
	var refs []enrolmentRef
	if err := cur.All(ctx, &refs); err != nil {
		return nil, fmt.Errorf("courses: read enrolments: %w", dbErr(err))
	}
	s.cache.mu.Lock()
	s.cache.enrolments[userID] = timed[[]enrolmentRef]{refs, now}
	s.cache.mu.Unlock()
	return refs, nil
}

func (s *Service) forgetUsers(userIDs []string) {
	s.cache.mu.Lock()
	for _, id := range userIDs {
		delete(s.cache.enrolments, id)
	}
	s.cache.mu.Unlock()
}
