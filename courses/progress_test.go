package courses

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"hoctap/accounts"
	"hoctap/internal/errs"
)

func (e *env) beat(p accounts.Principal, l Lesson, hb Heartbeat) LessonResult {
	e.t.Helper()
	r, err := e.svc.RecordProgress(e.ctx, p, l.ID, hb)
	e.must(err)
	return r
}

// storedProgress reads a progress document straight from the collection.
func (e *env) storedProgress(p accounts.Principal, l Lesson) (progressDoc, bool) {
	e.t.Helper()
	var d progressDoc
	err := e.db.Database.Collection(CollProgress).FindOne(e.ctx, bson.M{"_id": progressID(p.User.ID, l.ID)}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, false
	}
	e.must(err)
	return d, true
}

func (e *env) myEnrolment(p accounts.Principal, classID string) Enrolment {
	e.t.Helper()
	page, err := e.svc.ListMyEnrolments(e.ctx, p, EnrolmentFilter{})
	e.must(err)
	for _, en := range page.Items {
		if en.ClassID == classID {
			return en
		}
	}
	e.t.Fatalf("%s not enrolled in %s", p.User.FullName, classID)
	return Enrolment{}
}

func TestProgressAndCompletion(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("PRG")
	cl := e.class(c, 0)
	e.enrol(cl, e.learner, e.learner2)

	if r := e.beat(e.learner, c.video, Heartbeat{}); r != (LessonResult{0, false}) {
		t.Fatalf("open: %+v", r)
	}
	e.clk.Advance(5 * time.Minute)
	if r := e.beat(e.learner, c.video, Heartbeat{PositionS: 300, Watched: [][2]float64{{0, 300}}}); r != (LessonResult{50, false}) {
		t.Fatalf("half: %+v", r)
	}
	// Partial progress is buffered, not yet written.
	if _, ok := e.storedProgress(e.learner, c.video); ok {
		t.Fatal("partial progress written before a flush")
	}
	e.clk.Advance(5 * time.Minute)
	if r := e.beat(e.learner, c.video, Heartbeat{PositionS: 560, Watched: [][2]float64{{290, 560}}}); r != (LessonResult{93, true}) {
		t.Fatalf("complete: %+v", r)
	}
	// An acknowledged completion is already stored, with the enrolment's summary.
	d, ok := e.storedProgress(e.learner, c.video)
	if !ok || !d.Completed || d.CompletedAt == nil || d.Percent != 93 {
		t.Fatalf("stored %+v", d)
	}
	en := e.myEnrolment(e.learner, cl.ID)
	if en.Progress.CompletedLessons != 1 || en.Progress.TotalLessons != 3 || en.Progress.Percent != 33 || en.Progress.Completed {
		t.Fatalf("summary %+v", en.Progress)
	}
	// Repeating the heartbeat changes nothing.
	if r := e.beat(e.learner, c.video, Heartbeat{PositionS: 560, Watched: [][2]float64{{290, 560}}}); r != (LessonResult{93, true}) {
		t.Fatalf("repeat: %+v", r)
	}
	e.beat(e.learner, c.pdf, Heartbeat{PagesViewed: []int{1, 2}})
	if r := e.beat(e.learner, c.pdf, Heartbeat{PagesViewed: []int{4, 3}}); !r.Completed {
		t.Fatalf("pdf: %+v", r)
	}
	if r := e.beat(e.learner, c.text, Heartbeat{}); r != (LessonResult{100, true}) {
		t.Fatalf("text: %+v", r)
	}
	en = e.myEnrolment(e.learner, cl.ID)
	if !en.Progress.Completed || en.Progress.Percent != 100 || en.Progress.CompletedAt == nil || en.Progress.LastActivityAt == nil {
		t.Fatalf("course summary %+v", en.Progress)
	}
	cp, err := e.svc.MyClassProgress(e.ctx, e.learner, cl.ID)
	wantErr(t, err, nil)
	if !cp.Completed || cp.Percent != 100 || len(cp.Lessons) != 3 || !cp.Lessons[0].Completed || cp.Lessons[0].Percent != 93 || cp.Lessons[0].PositionS != 560 {
		t.Fatalf("class progress %+v", cp)
	}
	// Another learner of the class sees only their own progress.
	cp2, err := e.svc.MyClassProgress(e.ctx, e.learner2, cl.ID)
	wantErr(t, err, nil)
	if cp2.Percent != 0 || cp2.Lessons[0].Completed {
		t.Fatalf("learner2 sees %+v", cp2)
	}
	// Outsiders see nothing of the class and cannot record progress in it.
	_, err = e.svc.MyClassProgress(e.ctx, e.outsider, cl.ID)
	wantErr(t, err, errs.ErrNotFound)
	_, err = e.svc.RecordProgress(e.ctx, e.outsider, c.video.ID, Heartbeat{})
	wantErr(t, err, errs.ErrNotFound)
	_, err = e.svc.RecordProgress(e.ctx, e.learner, "no-such-lesson", Heartbeat{})
	wantErr(t, err, errs.ErrNotFound)
	// The trainer's list shows both, from the enrolment documents.
	list, err := e.svc.ListClassEnrolments(e.ctx, e.trainer, cl.ID, EnrolmentFilter{})
	wantErr(t, err, nil)
	for _, en := range list.Items {
		want := en.UserID == e.learner.User.ID
		if en.Progress.Completed != want {
			t.Fatalf("%s: %+v", en.FullName, en.Progress)
		}
	}
}

func TestHeartbeatsAreBufferedAndFlushed(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("BUF")
	cl := e.class(c, 0)
	e.enrol(cl, e.learner)
	e.beat(e.learner, c.video, Heartbeat{})
	e.clk.Advance(3 * time.Minute)
	e.beat(e.learner, c.video, Heartbeat{PositionS: 120, Watched: [][2]float64{{0, 120}}})
	e.beat(e.learner, c.pdf, Heartbeat{PagesViewed: []int{2}})
	e.must(e.svc.Flush(e.ctx))
	d, ok := e.storedProgress(e.learner, c.video)
	if !ok || !slices.Equal(d.Watched, []float64{0, 120}) || d.PositionS != 120 || d.Percent != 20 || d.Completed || !d.FirstSeenAt.Equal(t0) {
		t.Fatalf("stored %+v", d)
	}
	if d, ok := e.storedProgress(e.learner, c.pdf); !ok || !slices.Equal(d.Pages, []int{2}) {
		t.Fatalf("stored pdf %+v", d)
	}
	// Another Service on the same database (a restart) continues from what was stored;
	// the earlier first heartbeat still bounds how much may have been watched.
	svc2 := New(Config{DB: e.db.Database, Clock: e.clk.Now, Directory: e.dir, FlushInterval: time.Hour})
	r, err := svc2.RecordProgress(e.ctx, e.learner, c.video.ID, Heartbeat{PositionS: 300, Watched: [][2]float64{{120, 300}}})
	wantErr(t, err, nil)
	if r.Percent != 50 {
		t.Fatalf("after restart %+v", r)
	}
	_, err = svc2.RecordProgress(e.ctx, e.learner, c.video.ID, Heartbeat{Watched: [][2]float64{{300, 600}}})
	wantErr(t, err, errs.ErrInvalid) // 600 s watched in 3 minutes is more than double speed allows
	// The first heartbeat loaded the learner's other lessons too: the pdf goes on from page 2.
	r, err = svc2.RecordProgress(e.ctx, e.learner, c.pdf.ID, Heartbeat{PagesViewed: []int{3}})
	wantErr(t, err, nil)
	if r.Percent != 50 {
		t.Fatalf("pdf after restart %+v", r)
	}
	// Close writes what is buffered.
	e.must(svc2.Close(e.ctx))
	if d, _ := e.storedProgress(e.learner, c.video); WatchedSeconds(unflatten(d.Watched)) != 300 {
		t.Fatalf("after close %+v", d)
	}
	_, err = svc2.RecordProgress(e.ctx, e.learner, c.video.ID, Heartbeat{})
	wantErr(t, err, errs.ErrUnavailable)
}

func TestCompletionSurvivesACrash(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("CRASH")
	cl := e.class(c, 0)
	e.enrol(cl, e.learner)
	e.beat(e.learner, c.video, Heartbeat{})
	e.beat(e.learner, c.pdf, Heartbeat{PagesViewed: []int{1}})
	if r := e.beat(e.learner, c.text, Heartbeat{}); !r.Completed {
		t.Fatal("text not completed")
	}
	// The process dies without a flush: a new Service sees the completion, not the rest.
	svc2 := New(Config{DB: e.db.Database, Clock: e.clk.Now, Directory: e.dir, FlushInterval: time.Hour})
	defer svc2.Close(context.Background())
	cp, err := svc2.MyClassProgress(e.ctx, e.learner, cl.ID)
	wantErr(t, err, nil)
	if !cp.Lessons[2].Completed || cp.Lessons[1].Percent != 0 || cp.Percent != 33 {
		t.Fatalf("after crash %+v", cp)
	}
}

func TestBadHeartbeatsChangeNothing(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("BAD")
	cl := e.class(c, 0)
	e.enrol(cl, e.learner)
	e.beat(e.learner, c.video, Heartbeat{})
	e.clk.Advance(2 * time.Minute)
	e.beat(e.learner, c.video, Heartbeat{PositionS: 100, Watched: [][2]float64{{0, 100}}})
	e.beat(e.learner, c.pdf, Heartbeat{PagesViewed: []int{1}})
	e.must(e.svc.Flush(e.ctx))
	before, err := e.svc.MyClassProgress(e.ctx, e.learner, cl.ID)
	wantErr(t, err, nil)
	storedBefore, _ := e.storedProgress(e.learner, c.video)

	bad := []struct {
		lesson Lesson
		hb     Heartbeat
	}{
		{c.video, Heartbeat{Watched: [][2]float64{{-1, 10}}}},
		{c.video, Heartbeat{Watched: [][2]float64{{50, 40}}}},
		{c.video, Heartbeat{Watched: [][2]float64{{500, 700}}}},
		{c.video, Heartbeat{Watched: [][2]float64{{100, 500}}}}, // more than 2 minutes allow
		{c.video, Heartbeat{PositionS: -3}},
		{c.video, Heartbeat{PagesViewed: []int{1}}},
		{c.pdf, Heartbeat{PagesViewed: []int{5}}},
		{c.pdf, Heartbeat{PagesViewed: []int{0, 2}}},
		{c.pdf, Heartbeat{Watched: [][2]float64{{0, 1}}}},
		{c.text, Heartbeat{PagesViewed: []int{1}}},
	}
	for _, b := range bad {
		_, err := e.svc.RecordProgress(e.ctx, e.learner, b.lesson.ID, b.hb)
		if !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("%s %+v: err = %v, want invalid", b.lesson.Kind, b.hb, err)
		}
	}
	e.must(e.svc.Flush(e.ctx))
	after, err := e.svc.MyClassProgress(e.ctx, e.learner, cl.ID)
	wantErr(t, err, nil)
	for i := range before.Lessons {
		b, a := before.Lessons[i], after.Lessons[i]
		if b.Percent != a.Percent || b.Completed != a.Completed || b.PositionS != a.PositionS || !slices.Equal(b.PagesViewed, a.PagesViewed) {
			t.Fatalf("lesson %d changed: %+v → %+v", i, b, a)
		}
	}
	if _, ok := e.storedProgress(e.learner, c.text); ok {
		t.Fatal("a refused heartbeat opened the text lesson")
	}
	storedAfter, _ := e.storedProgress(e.learner, c.video)
	if !slices.Equal(storedBefore.Watched, storedAfter.Watched) || !storedBefore.LastAt.Equal(storedAfter.LastAt) {
		t.Fatalf("stored video progress changed: %+v → %+v", storedBefore, storedAfter)
	}
}

func TestRevisionChangeWhileLearnersAreMidCourse(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("REV")
	cl := e.class(c, 0)
	e.enrol(cl, e.learner, e.learner2)
	e.beat(e.learner, c.video, Heartbeat{})
	e.clk.Advance(10 * time.Minute)
	e.beat(e.learner, c.video, Heartbeat{Watched: [][2]float64{{0, 600}}})
	e.beat(e.learner2, c.pdf, Heartbeat{PagesViewed: []int{1, 2, 3, 4}})

	// The lecturer drops the pdf, adds a lesson and publishes revision 2.
	e.must(e.svc.DeleteLesson(e.ctx, e.lecturer, c.ID, c.pdf.ID))
	extra, err := e.svc.AddLesson(e.ctx, e.lecturer, c.ID, c.mod2.ID, LessonInput{Title: "Bài mới", Kind: KindSlides, MediaID: "m9", Pages: 2})
	wantErr(t, err, nil)
	// Not yet published: the new lesson is in no revision, so nobody can record it.
	_, err = e.svc.RecordProgress(e.ctx, e.learner, extra.ID, Heartbeat{})
	wantErr(t, err, errs.ErrInvalid)
	_, err = e.svc.PublishCourse(e.ctx, e.lecturer, c.ID)
	wantErr(t, err, nil)

	// The class stays on revision 1: the pdf still counts, the new lesson is refused.
	_, err = e.svc.RecordProgress(e.ctx, e.learner, extra.ID, Heartbeat{})
	wantErr(t, err, errs.ErrInvalid)
	e.beat(e.learner, c.pdf, Heartbeat{PagesViewed: []int{1}})
	cp, err := e.svc.MyClassProgress(e.ctx, e.learner, cl.ID)
	wantErr(t, err, nil)
	if cp.Revision != 1 || len(cp.Lessons) != 3 || cp.Lessons[1].LessonID != c.pdf.ID {
		t.Fatalf("class moved by itself: %+v", cp)
	}
	// A new class starts on revision 2.
	cl2 := e.class(c, 0)
	if cl2.Revision != 2 {
		t.Fatalf("new class on %d", cl2.Revision)
	}

	// Moved on purpose: shared lessons keep their progress, summaries are recomputed.
	moved, err := e.svc.MoveClassToRevision(e.ctx, e.trainer, cl.ID, 2)
	wantErr(t, err, nil)
	if moved.Revision != 2 {
		t.Fatalf("moved %+v", moved)
	}
	cp, err = e.svc.MyClassProgress(e.ctx, e.learner, cl.ID)
	wantErr(t, err, nil)
	if cp.Revision != 2 || len(cp.Lessons) != 3 || !cp.Lessons[0].Completed || cp.Lessons[2].LessonID != extra.ID || cp.Percent != 33 {
		t.Fatalf("after move %+v", cp)
	}
	en := e.myEnrolment(e.learner, cl.ID)
	if en.Progress.CompletedLessons != 1 || en.Progress.TotalLessons != 3 || en.Progress.Percent != 33 {
		t.Fatalf("learner summary %+v", en.Progress)
	}
	// learner2 had completed only the pdf, which revision 2 no longer has.
	en2 := e.myEnrolment(e.learner2, cl.ID)
	if en2.Progress.CompletedLessons != 0 || en2.Progress.Percent != 0 {
		t.Fatalf("learner2 summary %+v", en2.Progress)
	}
	// Now the pdf is refused and the new lesson accepted.
	_, err = e.svc.RecordProgress(e.ctx, e.learner, c.pdf.ID, Heartbeat{PagesViewed: []int{2}})
	wantErr(t, err, errs.ErrInvalid)
	e.beat(e.learner, extra, Heartbeat{PagesViewed: []int{1, 2}})
	e.beat(e.learner, c.text, Heartbeat{})
	en = e.myEnrolment(e.learner, cl.ID)
	if !en.Progress.Completed || en.Progress.Percent != 100 {
		t.Fatalf("learner completes revision 2: %+v", en.Progress)
	}
}

func TestRequiredQuizzesGateCompletion(t *testing.T) {
	e := newEnv(t)
	g := &gate{passed: map[string]bool{}}
	e.svc.SetQuizGate(g)
	c := e.publishedCourse("QUIZ")
	cl := e.class(c, 0)
	e.enrol(cl, e.learner)
	e.beat(e.learner, c.video, Heartbeat{})
	e.clk.Advance(10 * time.Minute)
	e.beat(e.learner, c.video, Heartbeat{Watched: [][2]float64{{0, 600}}})
	e.beat(e.learner, c.pdf, Heartbeat{PagesViewed: []int{1, 2, 3, 4}})
	e.beat(e.learner, c.text, Heartbeat{})
	en := e.myEnrolment(e.learner, cl.ID)
	if en.Progress.Completed || en.Progress.Percent != 99 || en.Progress.CompletedLessons != 3 {
		t.Fatalf("completed without the quiz: %+v", en.Progress)
	}
	g.pass(c.ID, e.learner.User.ID)
	e.must(e.svc.RecomputeCompletion(e.ctx, e.learner.User.ID, c.ID))
	en = e.myEnrolment(e.learner, cl.ID)
	if !en.Progress.Completed || en.Progress.Percent != 100 || en.Progress.CompletedAt == nil {
		t.Fatalf("after the quiz: %+v", en.Progress)
	}
}

func TestSecondClassKeepsEarlierProgress(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("TWO")
	cl := e.class(c, 0)
	e.enrol(cl, e.learner)
	e.beat(e.learner, c.text, Heartbeat{})
	cl2 := e.class(c, 0)
	e.enrol(cl2, e.learner)
	en := e.myEnrolment(e.learner, cl2.ID)
	if en.Progress.CompletedLessons != 1 || en.Progress.Percent != 33 {
		t.Fatalf("second class %+v", en.Progress)
	}
}

func TestConcurrentHeartbeats(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("RACE")
	cl := e.class(c, 0)
	e.enrol(cl, e.learner)
	e.beat(e.learner, c.video, Heartbeat{})
	e.clk.Advance(time.Hour)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			from := float64(i * 30)
			if _, err := e.svc.RecordProgress(e.ctx, e.learner, c.video.ID, Heartbeat{Watched: [][2]float64{{from, from + 30}}}); err != nil {
				t.Error(err)
			}
			if i%5 == 0 {
				if err := e.svc.Flush(e.ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	e.must(e.svc.Flush(e.ctx))
	d, _ := e.storedProgress(e.learner, c.video)
	if !d.Completed || !slices.Equal(d.Watched, []float64{0, 600}) {
		t.Fatalf("stored %+v", d)
	}
	en := e.myEnrolment(e.learner, cl.ID)
	if en.Progress.CompletedLessons != 1 {
		t.Fatalf("summary %+v", en.Progress)
	}
}

// failingGate fails while broken is set, like an assessment service that is down.
type failingGate struct {
	mu     sync.Mutex
	broken bool
}

func (g *failingGate) RequiredQuizStatus(context.Context, string, string) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.broken {
		return false, errs.ErrUnavailable
	}
	return true, nil
}

func TestCompletionIsAcknowledgedOnlyOnceSummarised(t *testing.T) {
	e := newEnv(t)
	g := &failingGate{broken: true}
	e.svc.SetQuizGate(g)
	c := e.publishedCourse("ACK")
	cl := e.class(c, 0)
	e.enrol(cl, e.learner)
	e.beat(e.learner, c.video, Heartbeat{})
	e.clk.Advance(10 * time.Minute)
	e.beat(e.learner, c.video, Heartbeat{Watched: [][2]float64{{0, 600}}})
	e.beat(e.learner, c.pdf, Heartbeat{PagesViewed: []int{1, 2, 3, 4}})
	// The last lesson completes the course, but the quiz gate cannot answer: the
	// heartbeat fails and is not acknowledged as completed.
	_, err := e.svc.RecordProgress(e.ctx, e.learner, c.text.ID, Heartbeat{})
	wantErr(t, err, errs.ErrUnavailable)
	// The flusher finishes the job once the gate is back, without another heartbeat.
	g.mu.Lock()
	g.broken = false
	g.mu.Unlock()
	e.clk.Advance(10 * time.Second)
	e.must(e.svc.Flush(e.ctx))
	en := e.myEnrolment(e.learner, cl.ID)
	if !en.Progress.Completed || en.Progress.CompletedLessons != 3 {
		t.Fatalf("summary %+v", en.Progress)
	}
	if r := e.beat(e.learner, c.text, Heartbeat{}); !r.Completed {
		t.Fatalf("text %+v", r)
	}
}

func TestEnrolmentOnAnotherNodeIsSeenByHeartbeats(t *testing.T) {
	e := newEnv(t)
	c := e.publishedCourse("NODE")
	cl := e.class(c, 0)
	e.enrol(cl, e.learner2) // loads this node's enrolment index
	_, err := e.svc.RecordProgress(e.ctx, e.learner, c.text.ID, Heartbeat{})
	wantErr(t, err, errs.ErrNotFound)
	other := New(Config{DB: e.db.Database, Clock: e.clk.Now, Directory: e.dir, FlushInterval: time.Hour})
	defer other.Close(context.Background())
	_, err = other.EnrolUsers(e.ctx, e.trainer, cl.ID, []string{e.learner.User.ID})
	wantErr(t, err, nil)
	e.clk.Advance(6 * time.Second)
	if r := e.beat(e.learner, c.text, Heartbeat{}); !r.Completed {
		t.Fatalf("%+v", r)
	}
}
