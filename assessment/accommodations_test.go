package assessment

import (
	"testing"
	"time"

	"hoctap/accounts"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

func TestAccommodationsReadBack(t *testing.T) {
	e := newEnv(t)
	q := e.singleQ(t, "Câu")
	quiz := e.quiz(t, QuizInput{TimeLimitS: 600, MaxAttempts: 1, Items: []Item{{QuestionID: q.ID}}})
	other := e.quiz(t, QuizInput{Items: []Item{{QuestionID: q.ID}}})
	slow, again, gone := e.learner(), e.learner(), e.learner()
	// Not enrolled in the course: the course's trainer does not teach them.
	outsider := person(accounts.RoleLearner)

	list := func(p accounts.Principal, quizID string) []Accommodation {
		t.Helper()
		got, err := e.svc.Accommodations(e.ctx, p, quizID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := list(e.lecturer, quiz.ID); got == nil || len(got) != 0 {
		t.Fatalf("a quiz without accommodations lists %#v, want an empty list", got)
	}

	set := func(p accounts.Principal, userID string, extraS, extraAttempts int) {
		t.Helper()
		if _, err := e.svc.SetAccommodation(e.ctx, p, quiz.ID, userID, extraS, extraAttempts); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Minute)
	}
	set(e.lecturer, slow.User.ID, 900, 0)
	set(e.trainer, again.User.ID, 0, 2)
	set(e.lecturer, gone.User.ID, 300, 1)
	set(e.admin, outsider.User.ID, 600, 0)
	set(e.trainer, gone.User.ID, 0, 0) // removing is setting both to zero
	set(e.lecturer, slow.User.ID, 1200, 1)
	if _, err := e.svc.SetAccommodation(e.ctx, e.lecturer, other.ID, slow.User.ID, 60, 0); err != nil {
		t.Fatal(err)
	}

	// Newest change first; the removed one is gone; another quiz's stays there.
	got := list(e.lecturer, quiz.ID)
	want := []struct {
		user             string
		extraS, attempts int
		by               string
	}{
		{slow.User.ID, 1200, 1, e.lecturer.User.ID},
		{outsider.User.ID, 600, 0, e.admin.User.ID},
		{again.User.ID, 0, 2, e.trainer.User.ID},
	}
	if len(got) != len(want) {
		t.Fatalf("owner sees %d accommodations, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		a := got[i]
		if a.UserID != w.user || a.ExtraTimeS != w.extraS || a.ExtraAttempts != w.attempts || a.QuizID != quiz.ID || a.UpdatedBy != w.by {
			t.Errorf("accommodation %d is %+v, want %+v", i, a, w)
		}
	}
	if got := list(e.admin, quiz.ID); len(got) != 3 {
		t.Errorf("admin sees %d accommodations, want 3", len(got))
	}
	// The trainer sees the learners of their own classes only.
	if got := list(e.trainer, quiz.ID); len(got) != 2 || got[0].UserID != slow.User.ID || got[1].UserID != again.User.ID {
		t.Errorf("trainer sees %+v, want the two enrolled learners", got)
	}
	if got := list(e.lecturer, other.ID); len(got) != 1 || got[0].ExtraTimeS != 60 {
		t.Errorf("the other quiz lists %+v", got)
	}

	// Whoever may not set them may not read them.
	for _, p := range []accounts.Principal{slow, outsider, person(accounts.RoleLecturer), person(accounts.RoleTrainer), person(accounts.RoleUnitAdmin)} {
		_, err := e.svc.Accommodations(e.ctx, p, quiz.ID)
		wantErr(t, err, errs.ErrForbidden)
	}
	for _, id := range []string{ids.New(), "not-an-id", ""} {
		_, err := e.svc.Accommodations(e.ctx, e.admin, id)
		wantErr(t, err, errs.ErrNotFound)
	}
}
