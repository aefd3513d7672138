package assessment

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"hoctap/accounts"
	"hoctap/internal/errs"
)

func answersOf(t *testing.T, js string) map[string]Answer {
	t.Helper()
	var m map[string]Answer
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func dur(s int) time.Duration { return time.Duration(s) * time.Second }

func TestAttemptLifecycleAndLearnerView(t *testing.T) {
	e := newEnv(t)
	q1 := e.singleQ(t, "Câu một")
	q2 := e.question(t, QuestionInput{Type: TypeMultiple, Text: "Chọn nhiều", Choices: []ChoiceInput{{ID: "a", Text: "A", Correct: true}, {ID: "b", Text: "B", Correct: true}, {ID: "c", Text: "C"}}})
	q3 := e.question(t, QuestionInput{Type: TypeMatching, Text: "Ghép", Pairs: []Pair{{ID: "p1", Left: "VNeID", Right: "Bộ Công an"}, {ID: "p2", Left: "DVCQG", Right: "VPCP"}}})
	q4 := e.question(t, QuestionInput{Type: TypeOrdering, Text: "Sắp xếp", Choices: []ChoiceInput{{ID: "s1", Text: "Một"}, {ID: "s2", Text: "Hai"}, {ID: "s3", Text: "Ba"}}})
	q5 := e.question(t, QuestionInput{Type: TypeShortAnswer, Text: "Thủ đô?", Answers: []AcceptedAnswer{{Text: "Hà Nội", Fraction: 1}}})
	for i := range 6 {
		e.singleQ(t, fmt.Sprintf("Ngẫu nhiên %d", i), "random")
	}
	quiz := e.quiz(t, QuizInput{TimeLimitS: 600, MaxAttempts: 2, Shuffle: true, PassPercent: f64(60), Items: []Item{
		{QuestionID: q1.ID}, {QuestionID: q2.ID, Points: 2}, {QuestionID: q3.ID}, {QuestionID: q4.ID}, {QuestionID: q5.ID},
		{Random: &RandomDraw{Bank: "LLCT", Tags: []string{"random"}, Count: 3}}}})
	l := e.learner()

	a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Questions) != 8 || a.Deadline == nil || !a.Deadline.Equal(t0.Add(10*time.Minute)) || a.Status != StatusOpen || a.Number != 1 {
		t.Fatalf("attempt %+v", a)
	}
	js := mustJSON(t, a)
	for _, leak := range []string{`"correct"`, `"fraction"`, `"correct_answer"`, `"Bộ Công an":`, `"right"`, `"left"`, `"numeric"`, `"Hà Nội"`} {
		if strings.Contains(js, leak) {
			t.Errorf("learner view leaks %s: %s", leak, js)
		}
	}
	var ord QuestionView
	for _, qv := range a.Questions {
		if qv.ID == q4.ID {
			ord = qv
		}
	}
	if len(ord.Choices) != 3 || (ord.Choices[0].ID == "s1" && ord.Choices[1].ID == "s2") {
		t.Errorf("ordering items shown in the correct order: %+v", ord.Choices)
	}

	save := answersOf(t, fmt.Sprintf(`{%q:"a", %q:["a"], %q:{"p1":"Bộ Công an","p2":"Bộ Công an"}, %q:["s1","s2","s3"], %q:"ha noi"}`, q1.ID, q2.ID, q3.ID, q4.ID, q5.ID))
	if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, save); err != nil {
		t.Fatal(err)
	}
	// Last write wins per question; saving the same again is harmless.
	fix := answersOf(t, fmt.Sprintf(`{%q:["a","b"], %q:{"p1":"Bộ Công an","p2":"VPCP"}}`, q2.ID, q3.ID))
	for range 2 {
		if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, fix); err != nil {
			t.Fatal(err)
		}
	}

	// Bad answers change nothing.
	for _, bad := range []string{
		`{"nope":"a"}`,
		fmt.Sprintf(`{%q:"zz"}`, q1.ID),
		fmt.Sprintf(`{%q:"a"}`, q2.ID),
		fmt.Sprintf(`{%q:["s1"]}`, q4.ID),
		fmt.Sprintf(`{%q:{"p1":"Không có"}}`, q3.ID),
		fmt.Sprintf(`{%q:{"$where":"x"}}`, q3.ID),
		fmt.Sprintf(`{%q:"b", "x.y":"a"}`, q1.ID),
	} {
		_, err := e.svc.SaveAnswers(e.ctx, l, a.ID, answersOf(t, bad))
		wantErr(t, err, errs.ErrInvalid)
	}

	// Resume: same attempt, same order, saved answers.
	e.clk.Advance(time.Minute)
	r, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != a.ID || !reflect.DeepEqual(r.Questions, a.Questions) || len(r.Answers) != 5 {
		t.Fatalf("resume changed the attempt: %v vs %v, %d answers", r.ID, a.ID, len(r.Answers))
	}
	if got := mustJSON(t, r.Answers[q1.ID]); got != `"a"` {
		t.Errorf("q1 answer after bad saves: %s", got)
	}

	// Another learner sees nothing; trainers of the course see everything.
	other := e.learner()
	_, err = e.svc.GetAttempt(e.ctx, other, a.ID)
	wantErr(t, err, errs.ErrNotFound)
	_, err = e.svc.SaveAnswers(e.ctx, other, a.ID, save)
	wantErr(t, err, errs.ErrNotFound)
	_, err = e.svc.SubmitAttempt(e.ctx, other, a.ID)
	wantErr(t, err, errs.ErrNotFound)
	_, err = e.svc.GetAttempt(e.ctx, person(accounts.RoleTrainer), a.ID)
	wantErr(t, err, errs.ErrNotFound)
	tv, err := e.svc.GetAttempt(e.ctx, e.trainer, a.ID)
	if err != nil || !strings.Contains(mustJSON(t, tv), `"correct_answer"`) {
		t.Fatalf("trainer view: %v", err)
	}

	sum, err := e.svc.SubmitAttempt(e.ctx, l, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	// q1 1/1, q2 2/2, q3 1/1, q4 1/1, q5 1/1, random 0/3 → 6/9.
	if sum.Score != 6 || sum.MaxScore != 9 || sum.Percent != 66.67 || !sum.Passed || sum.Status != StatusSubmitted {
		t.Fatalf("summary %+v", sum)
	}
	again, err := e.svc.SubmitAttempt(e.ctx, l, a.ID)
	if err != nil || again != sum {
		t.Fatalf("second submit %+v %v", again, err)
	}
	_, err = e.svc.SaveAnswers(e.ctx, l, a.ID, save)
	wantErr(t, err, errs.ErrConflict)

	// Default review after submit: score and responses, no keys until the quiz closes.
	v, err := e.svc.GetAttempt(e.ctx, l, a.ID)
	if err != nil || v.Result == nil || v.Result.Score != 6 || v.Answers == nil {
		t.Fatalf("review %+v %v", v, err)
	}
	if js := mustJSON(t, v); strings.Contains(js, `"correct_answer"`) || strings.Contains(js, `"correct":`) {
		t.Errorf("keys shown before the quiz closed: %s", js)
	}

	// A second attempt draws afresh; a third is refused.
	b, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	if err != nil || b.ID == a.ID || b.Number != 2 || len(b.Answers) != 0 {
		t.Fatalf("second attempt %+v %v", b, err)
	}
	if _, err := e.svc.SubmitAttempt(e.ctx, l, b.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.StartAttempt(e.ctx, l, quiz.ID)
	wantErr(t, err, errs.ErrConflict)
	if _, err := e.svc.SetAccommodation(e.ctx, e.trainer, quiz.ID, l.User.ID, 0, 1); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	if err != nil || c.Number != 3 {
		t.Fatalf("extra attempt %+v %v", c, err)
	}

	// Not enrolled, unknown quiz.
	_, err = e.svc.StartAttempt(e.ctx, person(accounts.RoleLearner), quiz.ID)
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.svc.StartAttempt(e.ctx, l, "0123456789abcdef01234567")
	wantErr(t, err, errs.ErrNotFound)

	g, err := e.svc.QuizGrade(e.ctx, l, quiz.ID, l.User.ID)
	if err != nil || g.Percent != 66.67 || !g.Passed || g.Attempts != 2 {
		t.Fatalf("grade %+v %v", g, err)
	}
	res, err := e.svc.QuizResults(e.ctx, e.trainer, quiz.ID)
	if err != nil || len(res.Attempts) != 3 || len(res.Learners) != 1 || res.Histogram[6].Count != 1 || res.Passed != 1 {
		t.Fatalf("results %+v %v", res, err)
	}
	_, err = e.svc.QuizResults(e.ctx, l, quiz.ID)
	wantErr(t, err, errs.ErrForbidden)
}

func TestEditingAQuestionDoesNotChangeAStartedAttempt(t *testing.T) {
	e := newEnv(t)
	q := e.singleQ(t, "Câu gốc")
	quiz := e.quiz(t, QuizInput{TimeLimitS: 600, Items: []Item{{QuestionID: q.ID}}})
	l := e.learner()
	a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, answersOf(t, fmt.Sprintf(`{%q:"a"}`, q.ID))); err != nil {
		t.Fatal(err)
	}
	// The lecturer makes "b" the right answer.
	_, err = e.svc.UpdateQuestion(e.ctx, e.lecturer, q.ID, QuestionInput{Type: TypeSingle, Text: "Câu đã sửa", Choices: []ChoiceInput{
		{ID: "a", Text: "Đúng"}, {ID: "b", Text: "Sai 1", Correct: true}}})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.svc.SubmitAttempt(e.ctx, l, a.ID)
	if err != nil || sum.Score != 1 {
		t.Fatalf("graded against the edited question: %+v %v", sum, err)
	}
	v, _ := e.svc.GetAttempt(e.ctx, e.trainer, a.ID)
	if v.Questions[0].Text != "Câu gốc" || v.Questions[0].Version != 1 {
		t.Errorf("attempt shows %q v%d", v.Questions[0].Text, v.Questions[0].Version)
	}
	// A new learner gets version 2 (after the cache is refreshed by the edit).
	l2 := e.learner()
	b, err := e.svc.StartAttempt(e.ctx, l2, quiz.ID)
	if err != nil || b.Questions[0].Version != 2 {
		t.Fatalf("new attempt: %+v %v", b.Questions, err)
	}
}

func TestDeadlineGraceAndLateSubmit(t *testing.T) {
	bothWriteModes(t, func(t *testing.T, e *env) {
		q := e.singleQ(t, "Câu")
		quiz := e.quiz(t, QuizInput{TimeLimitS: 60, Items: []Item{{QuestionID: q.ID}}})
		l := e.learner()
		a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(dur(64)) // 4 s into the 5 s grace
		if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, answersOf(t, fmt.Sprintf(`{%q:"a"}`, q.ID))); err != nil {
			t.Fatalf("save within grace: %v", err)
		}
		e.clk.Advance(dur(2))
		_, err = e.svc.SaveAnswers(e.ctx, l, a.ID, answersOf(t, fmt.Sprintf(`{%q:"b"}`, q.ID)))
		wantErr(t, err, errs.ErrConflict)
		// Resuming past the deadline closes the old attempt and (no max) starts a new one.
		sum, err := e.svc.SubmitAttempt(e.ctx, l, a.ID)
		if err != nil || sum.Score != 1 {
			t.Fatalf("late submit %+v %v", sum, err)
		}
		v, _ := e.svc.GetAttempt(e.ctx, l, a.ID)
		if v.ClosedBy != closedByTime {
			t.Errorf("closed by %q", v.ClosedBy)
		}
	})
}

func TestDeadlineCappedByCloseTimeAndExtraTime(t *testing.T) {
	e := newEnv(t)
	q := e.singleQ(t, "Câu")
	closes := t0.Add(30 * time.Minute)
	opens := t0.Add(-time.Hour)
	quiz := e.quiz(t, QuizInput{TimeLimitS: 3600, OpensAt: &opens, ClosesAt: &closes, Items: []Item{{QuestionID: q.ID}}})
	l, slow := e.learner(), e.learner()
	a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	if err != nil || !a.Deadline.Equal(closes) {
		t.Fatalf("deadline %v, want the close time %v (%v)", a.Deadline, closes, err)
	}
	quiz2 := e.quiz(t, QuizInput{TimeLimitS: 600, Items: []Item{{QuestionID: q.ID}}})
	if _, err := e.svc.SetAccommodation(e.ctx, e.lecturer, quiz2.ID, slow.User.ID, 300, 0); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.SetAccommodation(e.ctx, l, quiz2.ID, slow.User.ID, 300, 0)
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.svc.SetAccommodation(e.ctx, e.lecturer, quiz2.ID, slow.User.ID, -1, 0)
	wantErr(t, err, errs.ErrInvalid)
	b, err := e.svc.StartAttempt(e.ctx, slow, quiz2.ID)
	if err != nil || !b.Deadline.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("extra time deadline %v (%v)", b.Deadline, err)
	}
	// Extra time never goes past the close time.
	if _, err := e.svc.SetAccommodation(e.ctx, e.lecturer, quiz.ID, slow.User.ID, 7200, 0); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.StartAttempt(e.ctx, slow, quiz.ID)
	if err != nil || !c.Deadline.Equal(closes) {
		t.Fatalf("extra time past close: %v (%v)", c.Deadline, err)
	}
	// Before opening and after closing nobody starts.
	later := t0.Add(time.Hour)
	notYet := e.quiz(t, QuizInput{OpensAt: &later, Items: []Item{{QuestionID: q.ID}}})
	_, err = e.svc.StartAttempt(e.ctx, l, notYet.ID)
	wantErr(t, err, errs.ErrConflict)
	e.clk.Advance(31 * time.Minute)
	_, err = e.svc.StartAttempt(e.ctx, e.learner(), quiz.ID)
	wantErr(t, err, errs.ErrConflict)
	// After close the review shows the correct answers.
	if _, err := e.svc.SubmitAttempt(e.ctx, l, a.ID); err != nil {
		t.Fatal(err)
	}
	v, err := e.svc.GetAttempt(e.ctx, l, a.ID)
	if err != nil || v.Questions[0].CorrectAnswer != "a" || !v.Review.CorrectAnswers {
		t.Fatalf("after close review: %+v %v", v.Questions[0], err)
	}
}

func TestConcurrentStartsMakeOneAttempt(t *testing.T) {
	bothWriteModes(t, func(t *testing.T, e *env) {
		q := e.singleQ(t, "Câu")
		quiz := e.quiz(t, QuizInput{TimeLimitS: 600, MaxAttempts: 1, Items: []Item{{QuestionID: q.ID}}})
		l := e.learner()
		const n = 8
		got := make([]string, n)
		errList := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
				got[i], errList[i] = a.ID, err
			})
		}
		wg.Wait()
		for i := range n {
			if errList[i] != nil || got[i] != got[0] {
				t.Fatalf("start %d: %s %v (first %s)", i, got[i], errList[i], got[0])
			}
		}
		if c, _ := e.svc.attempts.CountDocuments(e.ctx, map[string]any{"user_id": l.User.ID}); c != 1 {
			t.Fatalf("%d attempts stored", c)
		}
	})
}

func TestOpenKeyIndexRefusesASecondOpenAttempt(t *testing.T) {
	e := newEnv(t)
	doc := func(id string, number int) map[string]any {
		return map[string]any{"_id": id, "quiz_id": "q", "user_id": "u", "number": number, "status": StatusOpen, "open_key": "q|u"}
	}
	if _, err := e.svc.attempts.InsertOne(e.ctx, doc("a1", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.attempts.InsertOne(e.ctx, doc("a2", 2)); err == nil {
		t.Fatal("a second open attempt with another number was stored")
	}
	// Closed attempts carry no open_key and do not collide.
	for i, id := range []string{"c1", "c2"} {
		if _, err := e.svc.attempts.InsertOne(e.ctx, map[string]any{"_id": id, "quiz_id": "q", "user_id": "u", "number": 10 + i, "status": StatusSubmitted}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentSubmitGradesOnce(t *testing.T) {
	bothWriteModes(t, func(t *testing.T, e *env) {
		q := e.singleQ(t, "Câu")
		quiz := e.quiz(t, QuizInput{TimeLimitS: 600, Required: true, Items: []Item{{QuestionID: q.ID}}})
		l := e.learner()
		a, _ := e.svc.StartAttempt(e.ctx, l, quiz.ID)
		if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, answersOf(t, fmt.Sprintf(`{%q:"a"}`, q.ID))); err != nil {
			t.Fatal(err)
		}
		const n = 8
		sums := make([]Summary, n)
		errList := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { sums[i], errList[i] = e.svc.SubmitAttempt(e.ctx, l, a.ID) })
		}
		wg.Wait()
		for i := range n {
			if errList[i] != nil || sums[i] != sums[0] || sums[i].Score != 1 {
				t.Fatalf("submit %d: %+v %v", i, sums[i], errList[i])
			}
		}
		if c := e.completion.count(); c != 1 {
			t.Errorf("completion notified %d times", c)
		}
		ok, err := e.svc.RequiredQuizStatus(e.ctx, e.course, l.User.ID)
		if err != nil || !ok {
			t.Errorf("required quiz status %v %v", ok, err)
		}
		ok, _ = e.svc.RequiredQuizStatus(e.ctx, e.course, e.learner().User.ID)
		if ok {
			t.Error("a learner without attempts passed the required quiz")
		}
	})
}

func TestSweeperClosesAbandonedAttemptsOnce(t *testing.T) {
	bothWriteModes(t, func(t *testing.T, e *env) {
		q := e.singleQ(t, "Câu")
		quiz := e.quiz(t, QuizInput{TimeLimitS: 60, Items: []Item{{QuestionID: q.ID}}})
		const n = 6
		var attempts []AttemptView
		for i := range n {
			l := e.learner()
			a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
			if err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, answersOf(t, fmt.Sprintf(`{%q:"a"}`, q.ID))); err != nil {
					t.Fatal(err)
				}
			}
			attempts = append(attempts, a)
		}
		// One attempt without a deadline problem: started later.
		e.clk.Advance(dur(30))
		late := e.learner()
		if _, err := e.svc.StartAttempt(e.ctx, late, quiz.ID); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(dur(34)) // first ones: 64 s, inside the grace
		if c, err := e.svc.SweepOnce(e.ctx); err != nil || c != 0 {
			t.Fatalf("sweep inside grace closed %d (%v)", c, err)
		}
		e.clk.Advance(dur(2))
		// Two sweepers (two server processes) at once.
		other := New(Config{DB: e.svc.db, Clock: e.clk.Now, Enrolments: e.enrol, AttemptLocks: e.locks})
		var c1, c2 int
		var err1, err2 error
		var wg sync.WaitGroup
		wg.Go(func() { c1, err1 = e.svc.SweepOnce(e.ctx) })
		wg.Go(func() { c2, err2 = other.SweepOnce(e.ctx) })
		wg.Wait()
		if err1 != nil || err2 != nil || c1+c2 != n {
			t.Fatalf("sweepers closed %d + %d, want %d (%v %v)", c1, c2, n, err1, err2)
		}
		for i, a := range attempts {
			v, err := e.svc.GetAttempt(e.ctx, e.trainer, a.ID)
			if err != nil || v.Status != StatusSubmitted || v.ClosedBy != closedByTime || v.Result == nil {
				t.Fatalf("attempt %d: %+v %v", i, v, err)
			}
			want := 0.0
			if i%2 == 0 {
				want = 1
			}
			if v.Result.Score != want {
				t.Errorf("attempt %d graded %v, want %v from its saved answers", i, v.Result.Score, want)
			}
		}
		if c, _ := e.svc.SweepOnce(e.ctx); c != 0 {
			t.Errorf("a second sweep closed %d", c)
		}
		if c, _ := e.svc.attempts.CountDocuments(e.ctx, map[string]any{"status": StatusOpen}); c != 1 {
			t.Errorf("%d open attempts left, want the late one", c)
		}
	})
}

func TestSubmitRacingTheSweeper(t *testing.T) {
	bothWriteModes(t, func(t *testing.T, e *env) {
		q := e.singleQ(t, "Câu")
		quiz := e.quiz(t, QuizInput{TimeLimitS: 60, Items: []Item{{QuestionID: q.ID}}})
		for range 5 {
			l := e.learner()
			a, _ := e.svc.StartAttempt(e.ctx, l, quiz.ID)
			if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, answersOf(t, fmt.Sprintf(`{%q:"a"}`, q.ID))); err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(dur(70))
			var sum Summary
			var closed int
			var errS, errW error
			var wg sync.WaitGroup
			wg.Go(func() { sum, errS = e.svc.SubmitAttempt(e.ctx, l, a.ID) })
			wg.Go(func() { closed, errW = e.svc.SweepOnce(e.ctx) })
			wg.Wait()
			if errS != nil || errW != nil || sum.Score != 1 || closed > 1 {
				t.Fatalf("submit %+v %v, sweeper closed %d %v", sum, errS, closed, errW)
			}
			v, _ := e.svc.GetAttempt(e.ctx, l, a.ID)
			if v.Result == nil || v.Result.Score != 1 {
				t.Fatalf("stored result %+v", v.Result)
			}
		}
	})
}

func TestEssayGradingAndPendingList(t *testing.T) {
	e := newEnv(t)
	q := e.singleQ(t, "Câu")
	essay := e.question(t, QuestionInput{Type: TypeEssay, Text: "Trình bày", Points: f64(4)})
	quiz := e.quiz(t, QuizInput{Required: true, PassPercent: f64(50), Review: &Review{AfterSubmit: ReviewOptions{Score: true, Feedback: true}},
		Items: []Item{{QuestionID: q.ID}, {QuestionID: essay.ID}}})
	l := e.learner()
	a, _ := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	if a.Deadline != nil {
		t.Errorf("a quiz without limit or close time has deadline %v", a.Deadline)
	}
	if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, answersOf(t, fmt.Sprintf(`{%q:"b", %q:"Bài làm của tôi"}`, q.ID, essay.ID))); err != nil {
		t.Fatal(err)
	}
	sum, err := e.svc.SubmitAttempt(e.ctx, l, a.ID)
	if err != nil || sum.Pending != 1 || sum.Passed || sum.MaxScore != 5 {
		t.Fatalf("submit %+v %v", sum, err)
	}
	if ok, _ := e.svc.RequiredQuizStatus(e.ctx, e.course, l.User.ID); ok {
		t.Error("passed with an essay waiting")
	}
	pend, err := e.svc.PendingEssays(e.ctx, e.trainer, quiz.ID)
	if err != nil || len(pend) != 1 || pend[0].Answer != "Bài làm của tôi" || pend[0].MaxScore != 4 {
		t.Fatalf("pending %+v %v", pend, err)
	}
	_, err = e.svc.GradeEssay(e.ctx, e.trainer, a.ID, essay.ID, 5, "")
	wantErr(t, err, errs.ErrInvalid)
	_, err = e.svc.GradeEssay(e.ctx, e.trainer, a.ID, q.ID, 1, "")
	wantErr(t, err, errs.ErrInvalid)
	_, err = e.svc.GradeEssay(e.ctx, l, a.ID, essay.ID, 4, "")
	wantErr(t, err, errs.ErrForbidden)
	r, err := e.svc.GradeEssay(e.ctx, e.trainer, a.ID, essay.ID, 3, "Khá tốt")
	if err != nil || r.Score != 3 || r.Pending != 0 || !r.Passed {
		t.Fatalf("graded %+v %v", r, err)
	}
	if ok, _ := e.svc.RequiredQuizStatus(e.ctx, e.course, l.User.ID); !ok {
		t.Error("not passed after grading")
	}
	if e.completion.count() != 2 {
		t.Errorf("completion notified %d times, want at submit and at grading", e.completion.count())
	}
	v, _ := e.svc.GetAttempt(e.ctx, l, a.ID)
	if v.Questions[1].Comment != "Khá tốt" || v.Answers != nil {
		t.Errorf("learner review: comment %q, answers %v (responses are hidden)", v.Questions[1].Comment, v.Answers)
	}
	if pend, _ := e.svc.PendingEssays(e.ctx, e.trainer, quiz.ID); len(pend) != 0 {
		t.Errorf("still pending: %+v", pend)
	}
}

func TestReviewCanHideTheScore(t *testing.T) {
	e := newEnv(t)
	q := e.singleQ(t, "Câu")
	quiz := e.quiz(t, QuizInput{Review: &Review{}, Items: []Item{{QuestionID: q.ID}}})
	l := e.learner()
	a, _ := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	sum, err := e.svc.SubmitAttempt(e.ctx, l, a.ID)
	if err != nil || !sum.ScoreHidden || sum.MaxScore != 0 {
		t.Fatalf("summary %+v %v", sum, err)
	}
	v, _ := e.svc.GetAttempt(e.ctx, l, a.ID)
	if js := mustJSON(t, v); strings.Contains(js, `"score":`) && !strings.Contains(js, `"score":0`) || v.Questions[0].Score != nil {
		t.Errorf("score shown: %s", js)
	}
	tv, _ := e.svc.GetAttempt(e.ctx, e.trainer, a.ID)
	if tv.Result == nil || tv.Result.ScoreHidden {
		t.Errorf("trainer does not see the score")
	}
}

func TestQuizValidation(t *testing.T) {
	e := newEnv(t)
	q := e.singleQ(t, "Câu", "t")
	bad := map[string]QuizInput{
		"no items":        {CourseID: e.course, Title: "x"},
		"bad course":      {CourseID: "x", Title: "x", Items: []Item{{QuestionID: q.ID}}},
		"no title":        {CourseID: e.course, Items: []Item{{QuestionID: q.ID}}},
		"both":            {CourseID: e.course, Title: "x", Items: []Item{{QuestionID: q.ID, Random: &RandomDraw{Bank: "LLCT", Count: 1}}}},
		"duplicate":       {CourseID: e.course, Title: "x", Items: []Item{{QuestionID: q.ID}, {QuestionID: q.ID}}},
		"unknown":         {CourseID: e.course, Title: "x", Items: []Item{{QuestionID: "0123456789abcdef01234567"}}},
		"draw too many":   {CourseID: e.course, Title: "x", Items: []Item{{Random: &RandomDraw{Bank: "LLCT", Tags: []string{"t"}, Count: 2}}}},
		"draw no bank":    {CourseID: e.course, Title: "x", Items: []Item{{Random: &RandomDraw{Bank: "Không", Count: 1}}}},
		"closes<opens":    {CourseID: e.course, Title: "x", OpensAt: &t0, ClosesAt: &t0, Items: []Item{{QuestionID: q.ID}}},
		"pass > 100":      {CourseID: e.course, Title: "x", PassPercent: f64(101), Items: []Item{{QuestionID: q.ID}}},
		"bad grading":     {CourseID: e.course, Title: "x", Grading: "best", Items: []Item{{QuestionID: q.ID}}},
		"negative limit":  {CourseID: e.course, Title: "x", TimeLimitS: -1, Items: []Item{{QuestionID: q.ID}}},
		"negative points": {CourseID: e.course, Title: "x", Items: []Item{{QuestionID: q.ID, Points: -1}}},
	}
	for name, in := range bad {
		_, err := e.svc.CreateQuiz(e.ctx, e.lecturer, in)
		if !strings.Contains(fmt.Sprint(err), "invalid") {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err := e.svc.CreateQuiz(e.ctx, e.learner(), QuizInput{CourseID: e.course, Title: "x", Items: []Item{{QuestionID: q.ID}}})
	wantErr(t, err, errs.ErrForbidden)
	if n, _ := e.svc.quizzes.CountDocuments(e.ctx, map[string]any{}); n != 0 {
		t.Errorf("%d quizzes stored", n)
	}
	quiz := e.quiz(t, QuizInput{Items: []Item{{QuestionID: q.ID}}})
	_, err = e.svc.UpdateQuiz(e.ctx, person(accounts.RoleLecturer), quiz.ID, QuizInput{CourseID: e.course, Title: "y", Items: []Item{{QuestionID: q.ID}}})
	wantErr(t, err, errs.ErrForbidden)
	up, err := e.svc.UpdateQuiz(e.ctx, e.lecturer, quiz.ID, QuizInput{CourseID: e.course, Title: "Đã sửa", Items: []Item{{QuestionID: q.ID}}})
	if err != nil || up.Title != "Đã sửa" || up.CreatedAt != quiz.CreatedAt {
		t.Fatalf("update %+v %v", up, err)
	}
	l := e.learner()
	lv, err := e.svc.GetQuiz(e.ctx, l, quiz.ID)
	if err != nil || lv.Items != nil {
		t.Errorf("learner quiz view %+v %v", lv, err)
	}
	_, err = e.svc.GetQuiz(e.ctx, person(accounts.RoleLearner), quiz.ID)
	wantErr(t, err, errs.ErrNotFound)
	list, err := e.svc.ListQuizzes(e.ctx, l, e.course)
	if err != nil || len(list) != 1 {
		t.Errorf("list %v %v", list, err)
	}
}

func TestRandomDrawIsFreshPerAttemptAndStable(t *testing.T) {
	e := newEnv(t)
	for i := range 20 {
		e.question(t, QuestionInput{Type: TypeEssay, Category: "LLCT/Chương 1", Text: fmt.Sprintf("Câu %d", i)})
	}
	e.question(t, QuestionInput{Type: TypeEssay, Category: "LLCT/Chương 2", Text: "Ngoài phạm vi"})
	quiz := e.quiz(t, QuizInput{Shuffle: true, Items: []Item{{Random: &RandomDraw{Bank: "LLCT", Category: "LLCT/Chương 1", Count: 5}}}})
	seen := map[string]bool{}
	for range 4 {
		l := e.learner()
		a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
		if err != nil || len(a.Questions) != 5 {
			t.Fatalf("%v %v", len(a.Questions), err)
		}
		ids := map[string]bool{}
		for _, q := range a.Questions {
			if q.Text == "Ngoài phạm vi" || ids[q.ID] {
				t.Fatalf("bad draw %+v", a.Questions)
			}
			ids[q.ID] = true
			seen[q.ID] = true
		}
		again, _ := e.svc.StartAttempt(e.ctx, l, quiz.ID)
		if !reflect.DeepEqual(again.Questions, a.Questions) {
			t.Fatal("reload changed the draw")
		}
	}
	if len(seen) <= 5 {
		t.Errorf("four attempts drew only %d distinct questions", len(seen))
	}
}

func TestManyLearnersStartTheSameExamAtOnce(t *testing.T) {
	e := newEnv(t)
	for i := range 12 {
		e.singleQ(t, fmt.Sprintf("Câu %d", i), "thi")
	}
	quiz := e.quiz(t, QuizInput{TimeLimitS: 1800, Shuffle: true, Items: []Item{{Random: &RandomDraw{Bank: "LLCT", Tags: []string{"thi"}, Count: 10}}}})
	const n = 20
	learners := make([]accounts.Principal, n)
	for i := range learners {
		learners[i] = e.learner()
	}
	got := make([]AttemptView, n)
	errList := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errList[i] = e.svc.StartAttempt(e.ctx, learners[i], quiz.ID) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errList[i] != nil || len(got[i].Questions) != 10 || seen[got[i].ID] || got[i].UserID != learners[i].User.ID {
			t.Fatalf("learner %d: %v %v", i, got[i].ID, errList[i])
		}
		seen[got[i].ID] = true
	}
}
