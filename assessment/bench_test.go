package assessment

import (
	"fmt"
	"testing"
)

// BenchmarkStartSaveSubmit measures one learner's whole sitting: start (draw and store
// the attempt), two autosaves, submit (close, grade, store the result). Run with
// -benchtime to see how throughput changes as the attempts collection grows.
func BenchmarkStartSaveSubmit(b *testing.B) {
	e := newEnv(b)
	var items []Item
	var qs []Question
	for i := range 20 {
		q := e.singleQ(b, fmt.Sprintf("Câu %d", i), "pool")
		qs = append(qs, q)
		if i < 10 {
			items = append(items, Item{QuestionID: q.ID})
		}
	}
	items = append(items, Item{Random: &RandomDraw{Bank: "LLCT", Tags: []string{"pool"}, Count: 10}})
	quiz := e.quiz(b, QuizInput{TimeLimitS: 3600, Shuffle: true, Items: items})
	sit := func() {
		l := e.learner()
		a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
		if err != nil {
			b.Fatal(err)
		}
		half := map[string]Answer{}
		for i, q := range a.Questions {
			if i%2 == 0 {
				half[q.ID] = Answer{Text: q.Choices[0].ID}
			}
		}
		if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, half); err != nil {
			b.Fatal(err)
		}
		if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, map[string]Answer{a.Questions[1].ID: {Text: "a"}}); err != nil {
			b.Fatal(err)
		}
		if _, err := e.svc.SubmitAttempt(e.ctx, l, a.ID); err != nil {
			b.Fatal(err)
		}
	}
	sit() // creates the collections, which then get the server's _id index
	if err := e.db.IndexIDLookups(e.ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		sit()
	}
	_ = qs
}

// BenchmarkSaveAnswers measures the autosave alone on one open attempt.
func BenchmarkSaveAnswers(b *testing.B) {
	e := newEnv(b)
	var items []Item
	for i := range 30 {
		items = append(items, Item{QuestionID: e.singleQ(b, fmt.Sprintf("Câu %d", i)).ID})
	}
	quiz := e.quiz(b, QuizInput{TimeLimitS: 3600, Items: items})
	l := e.learner()
	a, err := e.svc.StartAttempt(e.ctx, l, quiz.ID)
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		q := a.Questions[i%len(a.Questions)]
		i++
		if _, err := e.svc.SaveAnswers(e.ctx, l, a.ID, map[string]Answer{q.ID: {Text: q.Choices[i%3].ID}}); err != nil {
			b.Fatal(err)
		}
	}
}
