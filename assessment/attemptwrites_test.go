package assessment

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

func TestAttemptConditionsAgreeWithTheirFilters(t *testing.T) {
	deadline := t0.Add(dur(600))
	open := &Attempt{Status: StatusOpen, Deadline: &deadline}
	openNoDeadline := &Attempt{Status: StatusOpen}
	submitted := &Attempt{Status: StatusSubmitted, Deadline: &deadline, Graded: true, ResultRev: 2}
	cases := []struct {
		name string
		cond attemptCond
		a    *Attempt
		want bool
	}{
		{"open before its deadline", whileOpen(true, t0), open, true},
		{"open at its deadline", whileOpen(true, deadline), open, true},
		{"open past its deadline", whileOpen(true, deadline.Add(time.Millisecond)), open, false},
		{"less than a millisecond past (stored times have milliseconds)", whileOpen(true, deadline.Add(time.Microsecond)), open, true},
		{"submitted", whileOpen(true, t0), submitted, false},
		{"no deadline", whileOpen(false, t0), openNoDeadline, true},
		{"isOpen, submitted", isOpen(), submitted, false},
		{"notGraded, graded", notGraded(), submitted, false},
		{"notGraded, open", notGraded(), open, true},
		{"atResultRev, same", atResultRev(2), submitted, true},
		{"atResultRev, moved on", atResultRev(1), submitted, false},
	}
	for _, c := range cases {
		if got := c.cond.holds(c.a); got != c.want {
			t.Errorf("%s: holds = %v, want %v", c.name, got, c.want)
		}
	}
	// The same conditions, as filters, on stored documents.
	e := newEnv(t)
	for i, c := range cases {
		doc := *c.a
		doc.ID = ids.New()
		doc.QuizID, doc.UserID, doc.Number = "q", fmt.Sprint(i), 1
		if _, err := e.svc.attempts.InsertOne(e.ctx, doc); err != nil {
			t.Fatal(err)
		}
		filter := bson.M{"_id": doc.ID}
		for k, v := range c.cond.filter {
			filter[k] = v
		}
		n, err := e.svc.attempts.CountDocuments(e.ctx, filter)
		if err != nil {
			t.Fatal(err)
		}
		if (n == 1) != c.want {
			t.Errorf("%s: filter matched %d, want %v", c.name, n, c.want)
		}
	}
}

// A start that claimed its slot and stopped before storing the attempt (a crash) leaves
// a slot without an attempt; the learner's next start makes that attempt, number 1, and
// does not spend another.
func TestStartCompletesAClaimedSlotWithoutAttempt(t *testing.T) {
	bothWriteModes(t, func(t *testing.T, e *env) {
		q := e.singleQ(t, "Câu")
		quiz := e.quiz(t, QuizInput{TimeLimitS: 600, MaxAttempts: 1, Items: []Item{{QuestionID: q.ID}}})
		l := e.learner()
		orphan := ids.New()
		if claimed, err := e.svc.claimSlot(e.ctx, quiz.ID, l.User.ID, 1, orphan); err != nil || !claimed {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
		if err != nil || a.ID != orphan || a.Number != 1 {
			t.Fatalf("start: %+v %v, want attempt %s number 1", a, err, orphan)
		}
		again, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
		if err != nil || again.ID != orphan || !again.Resumed {
			t.Fatalf("second start: %+v %v", again, err)
		}
	})
}

// Attempts stored before attempt_slots existed get their slots at start-up, so that the
// attempt limit still counts them and an open one is resumed.
func TestBackfilledSlotsCountOlderAttempts(t *testing.T) {
	e := newEnv(t)
	q := e.singleQ(t, "Câu")
	quiz := e.quiz(t, QuizInput{TimeLimitS: 600, MaxAttempts: 2, Items: []Item{{QuestionID: q.ID}}})
	l := e.learner()
	first, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SubmitAttempt(e.ctx, l, first.ID); err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Back to a database from before slots.
	if _, err := e.svc.slots.DeleteMany(e.ctx, bson.M{}); err != nil {
		t.Fatal(err)
	}
	fresh := New(Config{DB: e.svc.db, Clock: e.clk.Now, Enrolments: e.enrol, AttemptLocks: e.locks})
	for range 2 { // the second run finds the marker and does nothing
		if err := fresh.EnsureIndexes(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := fresh.slots.CountDocuments(e.ctx, bson.M{}); n != 3 {
		t.Fatalf("%d slot documents, want 2 slots and the marker", n)
	}
	resumed, err := fresh.StartAttempt(e.ctx, l, quiz.ID)
	if err != nil || resumed.ID != second.ID || !resumed.Resumed {
		t.Fatalf("start after backfill: %+v %v, want to resume %s", resumed, err, second.ID)
	}
	if _, err := fresh.SubmitAttempt(e.ctx, l, second.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.StartAttempt(e.ctx, l, quiz.ID); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("a third attempt of two: %v, want ErrConflict", err)
	}
}
