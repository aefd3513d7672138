package courses

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/internal/database"
	"hoctap/internal/errs"
)

const (
	// activityEvery is how often, at most, a learner's last activity is copied to their
	// enrolments; every heartbeat would be hundreds of enrolment writes a second.
	activityEvery = 15 * time.Minute
	// idleEviction is how long a clean in-memory lesson state is kept after its last
	// heartbeat.
	idleEviction = 15 * time.Minute
)

// progressDoc is a learner's progress in one lesson as stored in the progress collection.
type progressDoc struct {
	ID       string `bson:"_id"` // user_id:lesson_id
	UserID   string `bson:"user_id"`
	LessonID string `bson:"lesson_id"`
	CourseID string `bson:"course_id"`
	Kind     Kind   `bson:"kind"`
	// Watched holds the watched ranges flattened, [from0, to0, from1, to1, …]: FerretDB
	// does not store nested arrays.
	Watched     []float64  `bson:"watched"`
	Pages       []int      `bson:"pages"`
	PositionS   float64    `bson:"position_s"`
	Opened      bool       `bson:"opened"`
	Percent     int        `bson:"percent"`
	Completed   bool       `bson:"completed"`
	CompletedAt *time.Time `bson:"completed_at,omitempty"`
	FirstSeenAt time.Time  `bson:"first_seen_at"`
	LastAt      time.Time  `bson:"last_at"`
}

func (d *progressDoc) state() LessonState {
	return LessonState{
		Watched: unflatten(d.Watched), Pages: d.Pages, PositionS: d.PositionS, Opened: d.Opened,
		FirstSeenAt: d.FirstSeenAt, LastAt: d.LastAt, Completed: d.Completed, CompletedAt: d.CompletedAt,
	}
}

// progressBuffer holds the state of every (learner, lesson) that sent heartbeats
// recently. Heartbeats change it in memory; the flusher writes what changed in one bulk
// write a second. Lock order: writeMu before an entry's mu.
type progressBuffer struct {
	mu      sync.Mutex
	entries map[string]*progEntry
	// writeMu serialises writes of progress documents, each made from the entry's state
	// read while holding it, so a later write always carries a later state.
	writeMu sync.Mutex
	closed  bool
}

type progEntry struct {
	mu        sync.Mutex
	userID    string
	lessonID  string
	courseID  string
	lesson    Lesson
	loaded    bool
	evicted   bool
	st        LessonState
	version   uint64 // bumped by every accepted heartbeat
	written   uint64 // the version last written
	writtenAt time.Time
	// durable is true once the completion is written and the enrolment summaries updated;
	// until then every heartbeat retries that, and none reports completed.
	durable       bool
	activityAt    time.Time // last time last_activity_at went to the enrolments
	lastHeartbeat time.Time
}

func newProgressBuffer() *progressBuffer {
	return &progressBuffer{entries: map[string]*progEntry{}}
}

func progressID(userID, lessonID string) string { return userID + ":" + lessonID }

func (b *progressBuffer) get(userID, lessonID string) (*progEntry, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, false
	}
	key := progressID(userID, lessonID)
	e := b.entries[key]
	if e == nil {
		e = &progEntry{userID: userID, lessonID: lessonID}
		b.entries[key] = e
	}
	return e, true
}

func (b *progressBuffer) peek(userID, lessonID string) *progEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.entries[progressID(userID, lessonID)]
}

func (b *progressBuffer) all() []*progEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*progEntry, 0, len(b.entries))
	for _, e := range b.entries {
		out = append(out, e)
	}
	return out
}

// RecordProgress applies a heartbeat from learner p for a lesson of a class they are
// enrolled in and returns the lesson's percent and completion, recomputed on the server.
// It is idempotent and cheap: state is kept in memory and written in batches, except that
// a heartbeat completing a lesson is written, and the learner's enrolment summaries
// updated, before it is answered. Errors wrap errs.ErrNotFound (no such lesson in the
// learner's classes), errs.ErrInvalid (a bad heartbeat, or a lesson that the learner's
// class revision does not contain; nothing changes), errs.ErrUnavailable (closing).
func (s *Service) RecordProgress(ctx context.Context, p accounts.Principal, lessonID string, hb Heartbeat) (LessonResult, error) {
	lesson, courseID, rev, err := s.lessonFor(ctx, p.User.ID, lessonID)
	if err != nil {
		return LessonResult{}, err
	}
	for {
		e, ok := s.prog.get(p.User.ID, lessonID)
		if !ok {
			return LessonResult{}, fmt.Errorf("courses: shutting down: %w", errs.ErrUnavailable)
		}
		e.mu.Lock()
		if e.evicted {
			e.mu.Unlock()
			continue
		}
		res, sync, err := s.applyLocked(ctx, e, lesson, courseID, rev, hb)
		e.mu.Unlock()
		if err != nil {
			return LessonResult{}, err
		}
		if sync {
			if err := s.persistCompletion(ctx, e); err != nil {
				return LessonResult{}, err
			}
			res.Completed = true
		}
		return res, nil
	}
}

// applyLocked applies hb to e, which the caller holds locked. sync reports that the
// lesson is complete but not yet durably so.
func (s *Service) applyLocked(ctx context.Context, e *progEntry, lesson Lesson, courseID string, rev *revisionEntry, hb Heartbeat) (LessonResult, bool, error) {
	now := s.now()
	if !e.loaded {
		docs, err := s.readProgress(ctx, e.userID, rev)
		if err != nil {
			return LessonResult{}, false, err
		}
		if d, ok := docs[e.lessonID]; ok {
			e.st = d.state()
			e.durable = d.Completed
		}
		e.loaded = true
		s.prime(e, courseID, rev, docs, now)
	}
	next, err := ApplyHeartbeat(lesson, e.st, hb, now)
	if err != nil {
		return LessonResult{}, false, err
	}
	e.st, e.lesson, e.courseID, e.lastHeartbeat = next, lesson, courseID, now
	e.version++
	res := LessonResult{Percent: LessonPercent(lesson, next), Completed: next.Completed && e.durable}
	return res, next.Completed && !e.durable, nil
}

// readProgress returns a learner's stored progress in the lessons of a revision, by
// lesson id: the first heartbeat of a course loads the lot. Each document is read by its
// _id (user:lesson), so the cost does not grow with the progress of everyone else, which
// is the largest collection; a find by user and course would scan it on the embedded
// database.
func (s *Service) readProgress(ctx context.Context, userID string, re *revisionEntry) (map[string]progressDoc, error) {
	ids := make([]string, len(re.order))
	for i, lessonID := range re.order {
		ids[i] = progressID(userID, lessonID)
	}
	docs, err := database.FindEachByID[progressDoc](ctx, s.progress, ids)
	if err != nil {
		return nil, fmt.Errorf("courses: read progress: %w", dbErr(err))
	}
	out := make(map[string]progressDoc, len(docs))
	for _, d := range docs {
		out[d.LessonID] = d
	}
	return out, nil
}

// prime gives the other lessons of the revision their state from docs, so that the
// learner's next lessons need no read. Entries someone else holds are left alone (they
// load themselves); the caller holds e.mu, and TryLock keeps lock order safe.
func (s *Service) prime(e *progEntry, courseID string, rev *revisionEntry, docs map[string]progressDoc, now time.Time) {
	for _, id := range rev.order {
		if id == e.lessonID {
			continue
		}
		o, ok := s.prog.get(e.userID, id)
		if !ok || !o.mu.TryLock() {
			continue
		}
		if !o.loaded && !o.evicted {
			if d, ok := docs[id]; ok {
				o.st = d.state()
				o.durable = d.Completed
			}
			o.loaded, o.courseID, o.lesson, o.lastHeartbeat = true, courseID, rev.lessons[id].Lesson, now
		}
		o.mu.Unlock()
	}
}

// persistCompletion writes e's state now and updates the learner's enrolment summaries;
// only then may the completion be acknowledged.
func (s *Service) persistCompletion(ctx context.Context, e *progEntry) error {
	s.prog.writeMu.Lock()
	e.mu.Lock()
	m, v := e.writeModel()
	courseID := e.courseID
	e.mu.Unlock()
	_, err := s.progress.BulkWrite(ctx, []mongo.WriteModel{m})
	s.prog.writeMu.Unlock()
	if err != nil {
		return fmt.Errorf("courses: write progress: %w", dbErr(err))
	}
	e.mu.Lock()
	e.written = max(e.written, v)
	e.writtenAt = s.now()
	e.mu.Unlock()
	if err := s.lessonCompleted(ctx, e.userID, courseID, e.lessonID); err != nil {
		return err
	}
	e.mu.Lock()
	e.durable = true
	e.activityAt = s.now()
	e.mu.Unlock()
	return nil
}

// writeModel returns the upsert that stores e's state, and the version it holds. The
// caller holds e.mu. Completion only ever moves forward ($max, $min), so even a stale
// write could not take one back.
func (e *progEntry) writeModel() (mongo.WriteModel, uint64) {
	st := e.st
	set := bson.M{
		"user_id": e.userID, "lesson_id": e.lessonID, "course_id": e.courseID, "kind": e.lesson.Kind,
		"watched": flatten(st.Watched), "pages": nonNil(st.Pages), "position_s": st.PositionS, "opened": st.Opened,
		"percent": LessonPercent(e.lesson, st), "last_at": st.LastAt,
	}
	upd := bson.M{"$set": set, "$max": bson.M{"completed": st.Completed}, "$min": bson.M{"first_seen_at": st.FirstSeenAt}}
	if st.CompletedAt != nil {
		upd["$min"].(bson.M)["completed_at"] = *st.CompletedAt
	}
	return mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": progressID(e.userID, e.lessonID)}).SetUpdate(upd).SetUpsert(true), e.version
}

func flatten(ranges [][2]float64) []float64 {
	out := make([]float64, 0, 2*len(ranges))
	for _, r := range ranges {
		out = append(out, r[0], r[1])
	}
	return out
}

func unflatten(flat []float64) [][2]float64 {
	out := make([][2]float64, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		out = append(out, [2]float64{flat[i], flat[i+1]})
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// lessonCompleted records a completed lesson on the learner's enrolments in classes of
// the course and updates their summaries (percent, completed lessons, course completion).
func (s *Service) lessonCompleted(ctx context.Context, userID, courseID, lessonID string) error {
	refs, err := s.userEnrolments(ctx, userID, false)
	if err != nil {
		return err
	}
	now := s.now()
	for _, r := range refs {
		if r.CourseID != courseID {
			continue
		}
		var d enrolmentDoc
		err := s.enrolments.FindOneAndUpdate(ctx, bson.M{"_id": r.ID}, bson.M{
			"$addToSet": bson.M{"done_lessons": lessonID},
			"$max":      bson.M{"progress.last_activity_at": now},
		}, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return fmt.Errorf("courses: update enrolment: %w", dbErr(err))
		}
		if err := s.updateSummary(ctx, &d); err != nil {
			return err
		}
	}
	return nil
}

// updateSummary recomputes and stores the summary of enrolment d against its class's
// revision. Counts only grow here ($max) so that two completions racing cannot store an
// older count over a newer one.
func (s *Service) updateSummary(ctx context.Context, d *enrolmentDoc) error {
	c, err := s.classCached(ctx, d.ClassID)
	if err != nil {
		return err
	}
	re, err := s.revision(ctx, c.CourseID, c.Revision)
	if err != nil {
		return err
	}
	sum, err := s.summarise(ctx, c.CourseID, d.UserID, re, d.DoneLessons, d.Progress)
	if err != nil {
		return err
	}
	upd := bson.M{
		"$max": bson.M{"progress.percent": sum.Percent, "progress.completed_lessons": sum.CompletedLessons, "progress.completed": sum.Completed},
		"$set": bson.M{"progress.total_lessons": sum.TotalLessons},
	}
	if sum.CompletedAt != nil {
		upd["$min"] = bson.M{"progress.completed_at": *sum.CompletedAt}
	}
	if _, err := s.enrolments.UpdateOne(ctx, bson.M{"_id": d.ID}, upd); err != nil {
		return fmt.Errorf("courses: update enrolment: %w", dbErr(err))
	}
	if sum.Completed {
		s.tellCompleted(ctx, d.ClassID, d.UserID)
	}
	return nil
}

// CompletionListener hears that a learner completed a class; the reports service issues
// the certificate. It must be idempotent: it hears again whenever the summary of a
// completed enrolment is recomputed.
type CompletionListener interface {
	ClassCompleted(ctx context.Context, classID, userID string) error
}

// SetCompletionListener plugs in the listener, which is built after this service.
func (s *Service) SetCompletionListener(l CompletionListener) { s.completion.Store(&l) }

// tellCompleted passes a stored completion on. A failure is logged, not returned: the
// completion itself is stored and acknowledged, and the learner's certificate list issues
// what is missing when it is next read.
func (s *Service) tellCompleted(ctx context.Context, classID, userID string) {
	l := s.completion.Load()
	if l == nil {
		return
	}
	if err := (*l).ClassCompleted(ctx, classID, userID); err != nil {
		s.log.Warn("a completed class could not be passed on; it will be caught up", "class_id", classID, "user_id", userID, "err", err.Error())
	}
}

// RecomputeCompletion recomputes a learner's summaries in every class of a course; the
// assessment package calls it when the learner passes a quiz, since a required quiz may
// be what completes the course. Errors wrap errs.ErrUnavailable or the quiz gate's.
func (s *Service) RecomputeCompletion(ctx context.Context, userID, courseID string) error {
	ds, err := s.enrolmentsWhere(ctx, userID, func(r enrolmentRef) bool { return r.CourseID == courseID })
	if err != nil {
		return err
	}
	for i := range ds {
		if err := s.updateSummary(ctx, &ds[i]); err != nil {
			return err
		}
	}
	return nil
}

// lessonFor finds lesson lessonID in the revision of a class the user is enrolled in.
// A lesson of an enrolled course that the class's revision lacks is invalid input; any
// other unknown lesson is not found.
func (s *Service) lessonFor(ctx context.Context, userID, lessonID string) (Lesson, string, *revisionEntry, error) {
	var refs []enrolmentRef
	for _, fresh := range []bool{false, true} {
		var err error
		if refs, err = s.userEnrolments(ctx, userID, fresh); err != nil {
			return Lesson{}, "", nil, err
		}
		for _, r := range refs {
			c, err := s.classCached(ctx, r.ClassID)
			if errors.Is(err, errs.ErrNotFound) {
				continue
			}
			if err != nil {
				return Lesson{}, "", nil, err
			}
			re, err := s.revision(ctx, c.CourseID, c.Revision)
			if err != nil {
				return Lesson{}, "", nil, err
			}
			if l, ok := re.lessons[lessonID]; ok {
				return l.Lesson, c.CourseID, re, nil
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range refs {
		if seen[r.CourseID] {
			continue
		}
		seen[r.CourseID] = true
		c, err := s.findCourse(ctx, r.CourseID)
		if errors.Is(err, errs.ErrNotFound) {
			continue
		}
		if err != nil {
			return Lesson{}, "", nil, err
		}
		if mi, _ := findLesson(&c, lessonID); mi >= 0 {
			return Lesson{}, "", nil, errs.Field("lesson_id", "the lesson is not part of your class's revision of the course")
		}
		for rev := c.Revision; rev > 0; rev-- {
			re, err := s.revision(ctx, c.ID, rev)
			if err != nil {
				return Lesson{}, "", nil, err
			}
			if _, ok := re.lessons[lessonID]; ok {
				return Lesson{}, "", nil, errs.Field("lesson_id", "the lesson is not part of your class's revision of the course")
			}
		}
	}
	return Lesson{}, "", nil, notFound("lesson " + lessonID)
}

// Flush writes every heartbeat accepted so far; Close calls it once more. It returns the
// first write error; the states it could not write stay pending for the next flush.
func (s *Service) Flush(ctx context.Context) error { return s.flush(ctx, true) }

// flush writes the lesson states that changed: all of them with force, otherwise those
// not written for the Service's WriteEvery (a lost partial state costs nothing: players
// resend the ranges watched since the lesson opened). Each chunk is snapshotted and
// written under writeMu, so completions, which write synchronously, slip in between
// chunks and a later write always carries a later state.
func (s *Service) flush(ctx context.Context, force bool) error {
	now := s.now()
	var due, unfinished []*progEntry
	for _, e := range s.prog.all() {
		e.mu.Lock()
		if e.st.Completed && !e.durable && now.Sub(e.lastHeartbeat) > 5*time.Second {
			// A completion whose write or summary update failed and whose learner sent
			// nothing since: finish it here rather than wait for their next heartbeat.
			unfinished = append(unfinished, e)
		}
		switch {
		case e.version > e.written && (force || now.Sub(e.writtenAt) >= s.writeEvery):
			due = append(due, e)
		case e.version == e.written && now.Sub(e.lastHeartbeat) > idleEviction && (e.durable || !e.st.Completed):
			s.prog.mu.Lock()
			delete(s.prog.entries, progressID(e.userID, e.lessonID))
			s.prog.mu.Unlock()
			e.evicted = true
		}
		e.mu.Unlock()
	}
	var activity []activityMark
	for start := 0; start < len(due); start += bulkChunk {
		chunk := due[start:min(start+bulkChunk, len(due))]
		if err := s.writeChunk(ctx, chunk, now, &activity); err != nil {
			return err
		}
	}
	models, err := s.activityModels(ctx, activity)
	if err != nil {
		return err
	}
	if err := s.bulk(ctx, s.enrolments, models); err != nil {
		return err
	}
	for _, e := range unfinished {
		if err := s.persistCompletion(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// activityMark says a learner was active in a course at a time.
type activityMark struct {
	userID, courseID string
	at               time.Time
}

// activityModels turns marks into updates of the learners' enrolments in those courses,
// one by the unique (class_id, user_id) key each, from the enrolment index.
func (s *Service) activityModels(ctx context.Context, marks []activityMark) ([]mongo.WriteModel, error) {
	var models []mongo.WriteModel
	for _, m := range marks {
		refs, err := s.userEnrolments(ctx, m.userID, false)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			if r.CourseID == m.courseID {
				models = append(models, mongo.NewUpdateOneModel().
					SetFilter(bson.M{"class_id": r.ClassID, "user_id": m.userID}).
					SetUpdate(bson.M{"$max": bson.M{"progress.last_activity_at": m.at}}))
			}
		}
	}
	return models, nil
}

func (s *Service) writeChunk(ctx context.Context, chunk []*progEntry, now time.Time, activity *[]activityMark) error {
	s.prog.writeMu.Lock()
	defer s.prog.writeMu.Unlock()
	models := make([]mongo.WriteModel, 0, len(chunk))
	versions := make([]uint64, 0, len(chunk))
	entries := make([]*progEntry, 0, len(chunk))
	for _, e := range chunk {
		e.mu.Lock()
		if e.version > e.written {
			m, v := e.writeModel()
			models, versions, entries = append(models, m), append(versions, v), append(entries, e)
			if now.Sub(e.activityAt) >= activityEvery {
				e.activityAt = now
				*activity = append(*activity, activityMark{e.userID, e.courseID, e.st.LastAt})
			}
		}
		e.mu.Unlock()
	}
	if len(models) == 0 {
		return nil
	}
	if _, err := s.progress.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("courses: write progress: %w", dbErr(err))
	}
	for i, e := range entries {
		e.mu.Lock()
		e.written = max(e.written, versions[i])
		e.writtenAt = now
		e.mu.Unlock()
	}
	return nil
}

func (s *Service) flushLoop(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			s.prog.mu.Lock()
			s.prog.closed = true
			s.prog.mu.Unlock()
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := s.flush(ctx, false); err != nil {
				// Nothing is lost: unwritten states stay pending and the next tick retries.
				s.log.Error("courses: flush progress", "err", err)
			}
			cancel()
		}
	}
}

// MyClassProgress returns the caller's progress in a class they are enrolled in: every
// lesson of the class's revision and the course. Errors wrap errs.ErrNotFound when the
// class does not exist or the caller is not enrolled in it.
func (s *Service) MyClassProgress(ctx context.Context, p accounts.Principal, classID string) (ClassProgress, error) {
	ds, err := s.enrolmentsWhere(ctx, p.User.ID, func(r enrolmentRef) bool { return r.ClassID == classID })
	if err != nil {
		return ClassProgress{}, err
	}
	if len(ds) == 0 {
		return ClassProgress{}, notFound("class " + classID)
	}
	d := ds[0]
	c, err := s.classCached(ctx, classID)
	if err != nil {
		return ClassProgress{}, err
	}
	re, err := s.revision(ctx, c.CourseID, c.Revision)
	if err != nil {
		return ClassProgress{}, err
	}
	docs, err := s.readProgress(ctx, p.User.ID, re)
	if err != nil {
		return ClassProgress{}, err
	}
	states := map[string]LessonState{}
	for id, d := range docs {
		states[id] = d.state()
	}
	out := ClassProgress{ClassID: classID, CourseID: c.CourseID, Revision: c.Revision, Lessons: []LessonProgress{}}
	done := 0
	for _, id := range re.order {
		l := re.lessons[id]
		st := states[id]
		if e := s.prog.peek(p.User.ID, id); e != nil {
			e.mu.Lock()
			if e.loaded {
				st = e.st
				st.Completed = st.Completed && e.durable
			}
			e.mu.Unlock()
		}
		lp := LessonProgress{
			LessonID: id, ModuleID: l.ModuleID, Title: l.Title, Kind: l.Kind, Percent: LessonPercent(l.Lesson, st),
			Completed: st.Completed, PositionS: st.PositionS, PagesViewed: st.Pages,
		}
		if st.Completed {
			lp.CompletedAt = st.CompletedAt
			done++
		}
		out.Lessons = append(out.Lessons, lp)
	}
	sum := d.Progress
	out.Completed, out.CompletedAt = sum.Completed, sum.CompletedAt
	out.Percent = sum.Percent
	if !sum.Completed {
		out.Percent = CoursePercent(done, len(re.order), false)
		if done == len(re.order) && done > 0 {
			out.Percent = sum.Percent
		}
	}
	return out, nil
}
