package assessment

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"hoctap/audit/trail"
	"hoctap/audit/trail/trailtest"
	"hoctap/internal/errs"
)

func TestGradingAndAccommodationsAreRecorded(t *testing.T) {
	e := newEnv(t)
	rec := &trailtest.Recorder{}
	e.svc.audit = rec
	essay := e.question(t, QuestionInput{Type: TypeEssay, Text: "Trình bày", Points: f64(4)})
	quiz := e.quiz(t, QuizInput{Items: []Item{{QuestionID: essay.ID}}})
	l := e.learner()
	a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, answersOf(t, fmt.Sprintf(`{%q:"Bài làm"}`, essay.ID))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SubmitAttempt(e.ctx, l, a.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.GradeEssay(e.ctx, e.trainer, a.ID, essay.ID, 9, "") // refused: records nothing
	wantErr(t, err, errs.ErrInvalid)
	if _, err := e.svc.GradeEssay(e.ctx, e.trainer, a.ID, essay.ID, 2.5, "Được"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetAccommodation(e.ctx, e.lecturer, quiz.ID, l.User.ID, 600, 1); err != nil {
		t.Fatal(err)
	}
	got := rec.Entries()
	if len(got) != 2 {
		t.Fatalf("entries = %+v", got)
	}
	g := got[0]
	if g.Action != trail.GradeEssay || g.Actor != e.trainer.User.ID || g.Object != "attempt:"+a.ID || g.Details["score"] != "2.5" ||
		g.Details["points"] != "4" || g.Details["user_id"] != l.User.ID || len(g.UserIDs) != 1 || g.UserIDs[0] != l.User.ID {
		t.Errorf("grade entry = %+v", g)
	}
	if strings.Contains(fmt.Sprint(g.Details), "Được") {
		t.Errorf("the grader's comment is in the audit log: %v", g.Details)
	}
	acc := got[1]
	if acc.Action != trail.AccommodationSet || acc.Object != "quiz:"+quiz.ID || acc.Details["extra_time_s"] != "600" ||
		acc.Details["extra_attempts"] != "1" || acc.UserIDs[0] != l.User.ID {
		t.Errorf("accommodation entry = %+v", acc)
	}

	rec.Fail(fmt.Errorf("down: %w", errs.ErrUnavailable))
	_, err = e.svc.GradeEssay(e.ctx, e.trainer, a.ID, essay.ID, 3, "")
	if !errors.Is(err, errs.ErrUnavailable) || !strings.Contains(err.Error(), "grade.essay") {
		t.Fatalf("grading with a failing audit log = %v", err)
	}
	v, err := e.svc.GetAttempt(e.ctx, e.trainer, a.ID)
	if err != nil || v.Result == nil || v.Result.Score != 3 {
		t.Errorf("the grade did not stay: %+v, %v", v.Result, err)
	}
}

func TestBankShareIsRecorded(t *testing.T) {
	e := newEnv(t)
	rec := &trailtest.Recorder{}
	e.svc.audit = rec
	e.singleQ(t, "Câu") // creates the bank LLCT
	other := person()
	if _, err := e.svc.ShareBank(e.ctx, e.lecturer, "LLCT", []string{other.User.ID}); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("a lecturer sharing: %v", err)
	}
	if _, err := e.svc.ShareBank(e.ctx, e.admin, "LLCT", []string{other.User.ID}); err != nil {
		t.Fatal(err)
	}
	got := rec.Entries()
	if len(got) != 1 || got[0].Action != trail.BankShare || got[0].ObjectLabel != "LLCT" || got[0].Details["lecturers"] != other.User.ID {
		t.Errorf("entries = %+v", got)
	}
}
