package assessment

import (
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// attempt_due holds exactly the attempts still in play: an open attempt from its start,
// none once graded.
func TestDueHoldsOnlyAttemptsInPlay(t *testing.T) {
	e := newEnv(t)
	q := e.singleQ(t, "Câu")
	quiz := e.quiz(t, QuizInput{TimeLimitS: 60, Items: []Item{{QuestionID: q.ID}}})
	l := e.learner()
	a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	if err != nil {
		t.Fatal(err)
	}
	var d dueDoc
	if err := e.svc.due.FindOne(e.ctx, bson.M{"_id": a.ID}).Decode(&d); err != nil || !d.Due.Equal(t0.Add(dur(60)).Add(e.svc.grace)) {
		t.Fatalf("schedule of an open attempt: %+v %v, want its deadline plus grace", d, err)
	}
	if _, err := e.svc.SubmitAttempt(e.ctx, l, a.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.svc.due.CountDocuments(e.ctx, bson.M{"_id": a.ID}); n != 0 {
		t.Fatal("a graded attempt is still scheduled")
	}
}

// A process that stops between closing an attempt and storing its result (a crash)
// leaves it submitted and ungraded; the sweeper grades it with its saved answers.
func TestSweeperGradesAnAttemptClosedByACrashedProcess(t *testing.T) {
	bothWriteModes(t, func(t *testing.T, e *env) {
		q := e.singleQ(t, "Câu")
		quiz := e.quiz(t, QuizInput{Items: []Item{{QuestionID: q.ID}}}) // no deadline
		l := e.learner()
		a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, answersOf(t, fmt.Sprintf(`{%q:"a"}`, q.ID))); err != nil {
			t.Fatal(err)
		}
		// What closeAttempt writes before it grades, and no more.
		if err := e.svc.setDue(e.ctx, a.ID, e.clk.Now()); err != nil {
			t.Fatal(err)
		}
		if before, err := e.svc.updateAttemptIf(e.ctx, a.ID, isOpen(), bson.M{"$set": bson.M{"status": StatusSubmitted, "closed_by": closedByUser}, "$unset": bson.M{"open_key": ""}}); err != nil || before == nil {
			t.Fatalf("close: %v %v", before, err)
		}
		e.clk.Advance(dur(1))
		if n, err := e.svc.SweepOnce(e.ctx); err != nil || n != 0 {
			t.Fatalf("sweep: closed %d, %v (it was closed already)", n, err)
		}
		// Read as stored: GetAttempt would grade it itself.
		stored := storedAttempt(t, e, a.ID)
		if !stored.Graded || stored.Result == nil || stored.Result.Score != 1 {
			t.Fatalf("after the sweep: graded %v, result %+v, want graded 1 from the saved answer", stored.Graded, stored.Result)
		}
		if n, _ := e.svc.due.CountDocuments(e.ctx, bson.M{"_id": a.ID}); n != 0 {
			t.Fatal("the graded attempt is still scheduled")
		}
	})
}

// Attempts stored before attempt_due existed get their schedules at start-up: an open
// one is closed by the sweeper after its deadline, an ungraded closed one graded.
func TestBackfilledScheduleSweepsOlderAttempts(t *testing.T) {
	e := newEnv(t)
	q := e.singleQ(t, "Câu")
	quiz := e.quiz(t, QuizInput{TimeLimitS: 60, Items: []Item{{QuestionID: q.ID}}})
	open, closed := e.learner(), e.learner()
	a1, err := e.svc.StartAttempt(e.ctx, open, quiz.ID)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := e.svc.StartAttempt(e.ctx, closed, quiz.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.attempts.UpdateOne(e.ctx, bson.M{"_id": a2.ID}, bson.M{"$set": bson.M{"status": StatusSubmitted}, "$unset": bson.M{"open_key": ""}}); err != nil {
		t.Fatal(err)
	}
	// Back to a database from before attempt_due.
	if _, err := e.svc.due.DeleteMany(e.ctx, bson.M{}); err != nil {
		t.Fatal(err)
	}
	fresh := New(Config{DB: e.svc.db, Clock: e.clk.Now, Enrolments: e.enrol, AttemptLocks: e.locks})
	for range 2 { // the second run finds the marker and does nothing
		if err := fresh.EnsureIndexes(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := fresh.due.CountDocuments(e.ctx, bson.M{}); n != 3 {
		t.Fatalf("%d schedule documents, want the two attempts and the marker", n)
	}
	if n, err := fresh.SweepOnce(e.ctx); err != nil || n != 0 {
		t.Fatalf("sweep before the deadline: closed %d, %v", n, err)
	}
	e.clk.Advance(dur(60) + fresh.grace + dur(1))
	if n, err := fresh.SweepOnce(e.ctx); err != nil || n != 1 {
		t.Fatalf("sweep after the deadline: closed %d, %v, want the open one", n, err)
	}
	for _, id := range []string{a1.ID, a2.ID} {
		if a := storedAttempt(t, e, id); a.Status != StatusSubmitted || !a.Graded {
			t.Fatalf("attempt %s after the sweep: status %s, graded %v", id, a.Status, a.Graded)
		}
	}
	if n, _ := fresh.due.CountDocuments(e.ctx, bson.M{}); n != 1 {
		t.Fatalf("%d schedule documents left, want the marker alone", n)
	}
}

// storedAttempt reads an attempt's document as it is stored, changing nothing.
func storedAttempt(t *testing.T, e *env, id string) Attempt {
	t.Helper()
	var a Attempt
	if err := e.svc.attempts.FindOne(e.ctx, bson.M{"_id": id}).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}
