package assessment

import (
	"encoding/json"
	"testing"
)

func f64(v float64) *float64 { return &v }

func mustBuild(t *testing.T, in QuestionInput) Question {
	t.Helper()
	if in.Bank == "" {
		in.Bank = "b"
	}
	if in.Text == "" {
		in.Text = "Q?"
	}
	q, err := buildQuestion(in)
	if err != nil {
		t.Fatalf("build %s: %v", in.Type, err)
	}
	return q
}

func ans(t *testing.T, js string) Answer {
	t.Helper()
	var a Answer
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		t.Fatalf("answer %s: %v", js, err)
	}
	return a
}

func TestGradeAnswer(t *testing.T) {
	single := mustBuild(t, QuestionInput{Type: TypeSingle, Choices: []ChoiceInput{{ID: "a", Text: "A", Correct: true}, {ID: "b", Text: "B"}, {ID: "c", Text: "C", Fraction: f64(0.5)}, {ID: "d", Text: "D", Fraction: f64(-0.5)}}})
	// Multiple: a, b correct (1/2 each); c, d, e wrong (-1/3 each).
	multi := mustBuild(t, QuestionInput{Type: TypeMultiple, Choices: []ChoiceInput{{ID: "a", Text: "A", Correct: true}, {ID: "b", Text: "B", Correct: true}, {ID: "c", Text: "C"}, {ID: "d", Text: "D"}, {ID: "e", Text: "E"}}})
	allRight := mustBuild(t, QuestionInput{Type: TypeMultiple, Choices: []ChoiceInput{{ID: "a", Text: "A", Correct: true}, {ID: "b", Text: "B", Correct: true}}})
	weighted := mustBuild(t, QuestionInput{Type: TypeMultiple, Choices: []ChoiceInput{{ID: "a", Text: "A", Fraction: f64(0.5)}, {ID: "b", Text: "B", Fraction: f64(0.5)}, {ID: "c", Text: "C", Fraction: f64(-1)}}})
	tf := mustBuild(t, QuestionInput{Type: TypeTrueFalse, Answers: []AcceptedAnswer{{Text: "false", Fraction: 1}}})
	short := mustBuild(t, QuestionInput{Type: TypeShortAnswer, Answers: []AcceptedAnswer{{Text: "Hồ Chí Minh", Fraction: 1}, {Text: "Bác Hồ", Fraction: 0.5}, {Text: "Nguyễn * Thành", Fraction: 0.8}}})
	caseS := mustBuild(t, QuestionInput{Type: TypeShortAnswer, CaseSensitive: true, Answers: []AcceptedAnswer{{Text: "HĐND", Fraction: 1}}})
	accentS := mustBuild(t, QuestionInput{Type: TypeShortAnswer, AccentSensitive: true, Answers: []AcceptedAnswer{{Text: "Hà Nội", Fraction: 1}}})
	bothS := mustBuild(t, QuestionInput{Type: TypeShortAnswer, AccentSensitive: true, CaseSensitive: true, Answers: []AcceptedAnswer{{Text: "Hà Nội", Fraction: 1}}})
	num := mustBuild(t, QuestionInput{Type: TypeNumerical, Numeric: []NumericAnswer{{Value: 3.14, Tolerance: 0.01, Fraction: 1}, {Value: 3, Tolerance: 0.5, Fraction: 0.5}}})
	numStr := mustBuild(t, QuestionInput{Type: TypeNumerical, Answers: []AcceptedAnswer{{Text: "1940..1950", Fraction: 1}}})
	match := mustBuild(t, QuestionInput{Type: TypeMatching, Pairs: []Pair{{ID: "p1", Left: "VNeID", Right: "Bộ Công an"}, {ID: "p2", Left: "DVCQG", Right: "VPCP"}, {ID: "p3", Left: "Hiến pháp", Right: "Quốc hội"}, {ID: "p4", Right: "Bộ Y tế"}}})
	order := mustBuild(t, QuestionInput{Type: TypeOrdering, Choices: []ChoiceInput{{ID: "x", Text: "1"}, {ID: "y", Text: "2"}, {ID: "z", Text: "3"}, {ID: "w", Text: "4"}}})
	essay := mustBuild(t, QuestionInput{Type: TypeEssay})
	desc := mustBuild(t, QuestionInput{Type: TypeDescription})

	cases := []struct {
		name   string
		q      Question
		answer string
		want   float64
		status string
	}{
		{"single right", single, `"a"`, 1, ResultCorrect},
		{"single wrong", single, `"b"`, 0, ResultWrong},
		{"single partial choice", single, `"c"`, 0.5, ResultPartial},
		{"single negative choice never below zero", single, `"d"`, 0, ResultWrong},
		{"single as list", single, `["a"]`, 1, ResultCorrect},
		{"single unknown id", single, `"zz"`, 0, ResultWrong},
		{"single unanswered", single, `null`, 0, ResultUnanswered},
		{"multiple all correct", multi, `["a","b"]`, 1, ResultCorrect},
		{"multiple half", multi, `["a"]`, 0.5, ResultPartial},
		{"multiple one right one wrong", multi, `["a","c"]`, 0.5 - 1.0/3, ResultPartial},
		{"multiple everything chosen", multi, `["a","b","c","d","e"]`, 0, ResultWrong},
		{"multiple only wrong never below zero", multi, `["c","d"]`, 0, ResultWrong},
		{"multiple empty list", multi, `[]`, 0, ResultUnanswered},
		{"multiple with no wrong choices", allRight, `["a","b"]`, 1, ResultCorrect},
		{"multiple weights from GIFT", weighted, `["a","b"]`, 1, ResultCorrect},
		{"multiple weights with -100%", weighted, `["a","b","c"]`, 0, ResultWrong},
		{"true_false bool", tf, `false`, 1, ResultCorrect},
		{"true_false id", tf, `"false"`, 1, ResultCorrect},
		{"true_false wrong", tf, `true`, 0, ResultWrong},
		{"short exact", short, `"Hồ Chí Minh"`, 1, ResultCorrect},
		{"short no accents, other case", short, `"ho chi  MINH"`, 1, ResultCorrect},
		{"short decomposed unicode", short, "\"Ho\u0302\u0300 Chi\u0301 Minh\"", 1, ResultCorrect},
		{"short partial answer", short, `"bac ho"`, 0.5, ResultPartial},
		{"short wildcard", short, `"Nguyễn Tất Thành"`, 0.8, ResultPartial},
		{"short wrong", short, `"Lê Lợi"`, 0, ResultWrong},
		{"short blank", short, `"  "`, 0, ResultWrong},
		{"case sensitive right", caseS, `"HDND"`, 1, ResultCorrect},
		{"case sensitive wrong case", caseS, `"hđnd"`, 0, ResultWrong},
		{"accent sensitive right case-insensitively", accentS, `"hà nội"`, 1, ResultCorrect},
		{"accent sensitive missing accents", accentS, `"Ha Noi"`, 0, ResultWrong},
		{"both sensitive", bothS, `"hà nội"`, 0, ResultWrong},
		{"numerical within tolerance", num, `3.145`, 1, ResultCorrect},
		{"numerical second answer", num, `3.3`, 0.5, ResultPartial},
		{"numerical as text with comma", num, `"3,14"`, 1, ResultCorrect},
		{"numerical wrong", num, `10`, 0, ResultWrong},
		{"numerical not a number", num, `"abc"`, 0, ResultWrong},
		{"numerical range", numStr, `1945`, 1, ResultCorrect},
		{"numerical range edge", numStr, `1950`, 1, ResultCorrect},
		{"numerical range outside", numStr, `1951`, 0, ResultWrong},
		{"matching all", match, `{"p1":"Bộ Công an","p2":"VPCP","p3":"Quốc hội"}`, 1, ResultCorrect},
		{"matching two of three", match, `{"p1":"Bộ Công an","p2":"VPCP","p3":"Bộ Y tế"}`, 2.0 / 3, ResultPartial},
		{"matching none", match, `{"p1":"VPCP"}`, 0, ResultWrong},
		{"ordering right", order, `["x","y","z","w"]`, 1, ResultCorrect},
		{"ordering half", order, `["x","y","w","z"]`, 0.5, ResultPartial},
		{"ordering reversed", order, `["w","z","y","x"]`, 0, ResultWrong},
		{"essay answered waits for a grader", essay, `"Bài làm"`, 0, ResultPending},
		{"essay blank", essay, `""`, 0, ResultUnanswered},
		{"description", desc, `null`, 0, ResultUngraded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, status := GradeAnswer(c.q, ans(t, c.answer))
			if diff := got - c.want; diff > 1e-6 || diff < -1e-6 || status != c.status {
				t.Errorf("got %v %s, want %v %s", got, status, c.want, c.status)
			}
		})
	}
}

func TestComputeResultAndGrades(t *testing.T) {
	single := mustBuild(t, QuestionInput{Type: TypeSingle, Choices: []ChoiceInput{{ID: "a", Text: "A", Correct: true}, {ID: "b", Text: "B"}}})
	single.ID = "q1"
	multi := mustBuild(t, QuestionInput{Type: TypeMultiple, Choices: []ChoiceInput{{ID: "a", Text: "A", Correct: true}, {ID: "b", Text: "B", Correct: true}, {ID: "c", Text: "C"}}})
	multi.ID = "q2"
	essay := mustBuild(t, QuestionInput{Type: TypeEssay})
	essay.ID = "q3"
	a := &Attempt{PassPercent: 50, Questions: []AttemptQuestion{{Question: single, Points: 2}, {Question: multi, Points: 3}, {Question: essay, Points: 5}},
		Answers: map[string]Answer{"q1": ans(t, `"a"`), "q2": ans(t, `["a"]`), "q3": ans(t, `"Bài luận"`)}}
	r := ComputeResult(a)
	if r.Score != 3.5 || r.MaxScore != 10 || r.Percent != 35 || r.Pending != 1 || r.Passed {
		t.Fatalf("before essay grading: %+v", r)
	}
	a.EssayGrades = map[string]EssayGrade{"q3": {Score: 4}}
	r = ComputeResult(a)
	if r.Score != 7.5 || r.Percent != 75 || r.Pending != 0 || !r.Passed || r.Questions[2].Status != ResultPartial {
		t.Fatalf("after essay grading: %+v", r)
	}

	att := func(n int, pct float64, pending int) Attempt {
		return Attempt{UserID: "u", Number: n, Status: StatusSubmitted, Result: &Result{Percent: pct, Pending: pending}}
	}
	open := Attempt{Number: 4, Status: StatusOpen}
	list := []Attempt{att(1, 40, 0), att(2, 90, 0), att(3, 60, 0), open}
	for _, c := range []struct {
		m       GradingMethod
		list    []Attempt
		pct     float64
		passed  bool
		pending bool
	}{
		{GradeHighest, list, 90, true, false},
		{GradeLast, list, 60, true, false},
		{GradeAverage, list, 63.33, true, false},
		{GradeLast, []Attempt{att(1, 90, 0), att(2, 40, 0)}, 40, false, false},
		{GradeHighest, []Attempt{att(1, 30, 1)}, 30, false, true},
		{GradeHighest, []Attempt{att(1, 80, 0), att(2, 30, 1)}, 80, true, false},
		{GradeAverage, []Attempt{att(1, 80, 0), att(2, 30, 1)}, 55, false, true},
		{GradeHighest, []Attempt{open}, 0, false, false},
	} {
		g := QuizGradeOf(c.m, 50, c.list)
		if g.Percent != c.pct || g.Passed != c.passed || g.Pending != c.pending {
			t.Errorf("%s over %d attempts: %+v, want %v passed=%v pending=%v", c.m, len(c.list), g, c.pct, c.passed, c.pending)
		}
	}
	h := Histogram([]float64{0, 9.99, 10, 55, 99, 100, 100})
	want := []int{2, 1, 0, 0, 0, 1, 0, 0, 0, 3}
	for i, b := range h {
		if b.Count != want[i] {
			t.Errorf("bucket %v: %d, want %d", b, b.Count, want[i])
		}
	}
}

func TestBuildQuestionRejectsBadInput(t *testing.T) {
	cases := map[string]QuestionInput{
		"no bank":             {Type: TypeSingle, Text: "Q", Choices: []ChoiceInput{{Text: "a", Correct: true}, {Text: "b"}}},
		"unknown type":        {Bank: "b", Type: "cloze", Text: "Q"},
		"no text":             {Bank: "b", Type: TypeEssay},
		"single no correct":   {Bank: "b", Type: TypeSingle, Text: "Q", Choices: []ChoiceInput{{Text: "a"}, {Text: "b"}}},
		"single one choice":   {Bank: "b", Type: TypeSingle, Text: "Q", Choices: []ChoiceInput{{Text: "a", Correct: true}}},
		"empty choice":        {Bank: "b", Type: TypeSingle, Text: "Q", Choices: []ChoiceInput{{Text: "a", Correct: true}, {Text: " "}}},
		"duplicate ids":       {Bank: "b", Type: TypeSingle, Text: "Q", Choices: []ChoiceInput{{ID: "x", Text: "a", Correct: true}, {ID: "x", Text: "b"}}},
		"hostile id":          {Bank: "b", Type: TypeSingle, Text: "Q", Choices: []ChoiceInput{{ID: "$x.y", Text: "a", Correct: true}, {Text: "b"}}},
		"multiple no correct": {Bank: "b", Type: TypeMultiple, Text: "Q", Choices: []ChoiceInput{{Text: "a"}, {Text: "b"}}},
		"tf no key":           {Bank: "b", Type: TypeTrueFalse, Text: "Q"},
		"short no answers":    {Bank: "b", Type: TypeShortAnswer, Text: "Q"},
		"numerical bad":       {Bank: "b", Type: TypeNumerical, Text: "Q", Answers: []AcceptedAnswer{{Text: "abc", Fraction: 1}}},
		"matching one pair":   {Bank: "b", Type: TypeMatching, Text: "Q", Pairs: []Pair{{Left: "a", Right: "b"}}},
		"negative points":     {Bank: "b", Type: TypeEssay, Text: "Q", Points: f64(-1)},
		"bad format":          {Bank: "b", Type: TypeEssay, Text: "Q", Format: "rtf"},
		"control in bank":     {Bank: "a\x00b", Type: TypeEssay, Text: "Q"},
	}
	for name, in := range cases {
		if _, err := buildQuestion(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAnswerJSON(t *testing.T) {
	for _, js := range []string{`"a"`, `["a","b"]`, `[]`, `3.5`, `true`, `{"p1":"x"}`, `null`} {
		a := ans(t, js)
		b, err := json.Marshal(a)
		if err != nil || string(b) != js {
			t.Errorf("%s round-trips to %s (%v)", js, b, err)
		}
	}
	var a Answer
	if err := json.Unmarshal([]byte(`[1,2]`), &a); err == nil {
		t.Error("a list of numbers was accepted")
	}
	if err := json.Unmarshal([]byte(`{"a":1}`), &a); err == nil {
		t.Error("an object of numbers was accepted")
	}
}
