package assessment

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"hoctap/internal/textfold"
)

// round2 keeps two decimals, so scores add up the same in Go and in reports.
func round2(f float64) float64 { return math.Round(f*100) / 100 }

// GradeAnswer returns the share (0 to 1) of a question's points that an answer earns and
// the resulting status. Essays return ResultPending (a person grades them), descriptions
// ResultUngraded. The answer is assumed to have passed CheckAnswer for the question;
// anything malformed earns nothing.
//
// Rules: single and true_false earn the chosen choice's fraction (never below 0); multiple
// adds the fractions of the chosen choices (each correct choice earns its share, each
// wrong one takes its share off), clamped to 0..1; short_answer earns the best fraction
// among matching accepted answers, compared without case and diacritics unless the
// question is case or accent sensitive; numerical the best fraction among answers within
// tolerance; matching and ordering the share of rows (positions) that are right.
func GradeAnswer(q Question, a Answer) (float64, string) {
	switch q.Type {
	case TypeDescription:
		return 0, ResultUngraded
	case TypeEssay:
		if strings.TrimSpace(a.Text) == "" {
			return 0, ResultUnanswered
		}
		return 0, ResultPending
	}
	if a.IsEmpty() || (a.IsList && len(a.List) == 0) {
		return 0, ResultUnanswered
	}
	f := 0.0
	switch q.Type {
	case TypeSingle, TypeTrueFalse:
		id := a.Text
		if len(a.List) == 1 {
			id = a.List[0]
		}
		if a.Bool != nil {
			id = strconv.FormatBool(*a.Bool)
		}
		for _, c := range q.Choices {
			if c.ID == id {
				f = max(0, c.Fraction)
			}
		}
	case TypeMultiple:
		chosen := map[string]bool{}
		for _, id := range a.List {
			chosen[id] = true
		}
		for _, c := range q.Choices {
			if chosen[c.ID] {
				f += c.Fraction
			}
		}
		f = min(1, max(0, f))
	case TypeShortAnswer:
		for _, acc := range q.Answers {
			if shortAnswerMatches(q, acc.Text, a.Text) {
				f = max(f, acc.Fraction)
			}
		}
	case TypeNumerical:
		v, ok := answerNumber(a)
		if ok {
			for _, n := range q.Numeric {
				if math.Abs(v-n.Value) <= n.Tolerance+1e-9*math.Max(1, math.Abs(n.Value)) {
					f = max(f, n.Fraction)
				}
			}
		}
	case TypeMatching:
		total, right := 0, 0
		for _, p := range q.Pairs {
			if p.Left == "" {
				continue
			}
			total++
			if got, ok := a.Pairs[p.ID]; ok && strings.TrimSpace(got) == strings.TrimSpace(p.Right) {
				right++
			}
		}
		if total > 0 {
			f = float64(right) / float64(total)
		}
	case TypeOrdering:
		right := 0
		for i, c := range q.Choices {
			if i < len(a.List) && a.List[i] == c.ID {
				right++
			}
		}
		if len(q.Choices) > 0 {
			f = float64(right) / float64(len(q.Choices))
		}
	}
	// Fractions are stored with seven decimals (1/3 is 0.3333333), so sums are rounded
	// to six before comparing.
	f = min(1, max(0, math.Round(f*1e6)/1e6))
	switch {
	case f >= 1-1e-9:
		return 1, ResultCorrect
	case f > 0:
		return f, ResultPartial
	}
	return 0, ResultWrong
}

func answerNumber(a Answer) (float64, bool) {
	if a.Number != nil {
		return *a.Number, true
	}
	s := strings.TrimSpace(a.Text)
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1) // Vietnamese decimal comma
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// shortAnswerKey folds text the way the question compares answers.
func shortAnswerKey(q Question, s string) string {
	switch {
	case q.CaseSensitive && q.AccentSensitive:
		return strings.Join(strings.Fields(norm.NFC.String(s)), " ")
	case q.AccentSensitive:
		return textfold.Lower(s)
	case q.CaseSensitive:
		return stripAccents(s)
	}
	return textfold.Fold(s)
}

// stripAccents removes diacritics (đ becomes d, Đ becomes D) but keeps case.
func stripAccents(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ':
			r = 'd'
		case r == 'Đ':
			r = 'D'
		}
		b.WriteRune(r)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func shortAnswerMatches(q Question, accepted, given string) bool {
	g := shortAnswerKey(q, given)
	if g == "" {
		return false
	}
	if !strings.Contains(accepted, "*") {
		return shortAnswerKey(q, accepted) == g
	}
	parts := strings.Split(accepted, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(shortAnswerKey(q, p))
	}
	re, err := regexp.Compile("^" + strings.Join(parts, ".*") + "$")
	return err == nil && re.MatchString(g)
}

// ComputeResult grades every question of a submitted attempt from its saved answers and
// essay grades. It is a pure function of the stored attempt, so any process computing it
// gets the same result.
func ComputeResult(a *Attempt) Result {
	r := Result{Questions: make([]QuestionResult, 0, len(a.Questions))}
	for _, aq := range a.Questions {
		q := aq.Question
		qr := QuestionResult{QuestionID: q.ID, MaxScore: round2(aq.Points)}
		if q.Type == TypeDescription {
			qr.MaxScore, qr.Status = 0, ResultUngraded
			r.Questions = append(r.Questions, qr)
			continue
		}
		f, status := GradeAnswer(q, a.Answers[q.ID])
		qr.Score, qr.Status = round2(f*aq.Points), status
		if q.Type == TypeEssay {
			if g, ok := a.EssayGrades[q.ID]; ok {
				qr.Score = round2(min(aq.Points, max(0, g.Score)))
				switch {
				case qr.Score >= qr.MaxScore:
					qr.Status = ResultCorrect
				case qr.Score > 0:
					qr.Status = ResultPartial
				default:
					qr.Status = ResultWrong
				}
			} else if status == ResultPending {
				r.Pending++
			}
		}
		r.Score += qr.Score
		r.MaxScore += qr.MaxScore
		r.Questions = append(r.Questions, qr)
	}
	r.Score, r.MaxScore = round2(r.Score), round2(r.MaxScore)
	if r.MaxScore > 0 {
		r.Percent = round2(r.Score / r.MaxScore * 100)
	} else {
		r.Percent = 100
	}
	r.Passed = r.Pending == 0 && r.Percent >= a.PassPercent
	return r
}

// Grade is one learner's grade for a quiz over their graded attempts.
type Grade struct {
	UserID   string        `json:"user_id"`
	Method   GradingMethod `json:"method"`
	Percent  float64       `json:"percent"`
	Passed   bool          `json:"passed"`
	Attempts int           `json:"attempts"`
	// Pending is true while an attempt that counts still has essays to grade.
	Pending bool `json:"pending"`
}

// QuizGradeOf combines a learner's submitted attempts (in any order) by the grading
// method: the highest percent, the last attempt's, or the average. Passed compares the
// grade with passPercent and is false while a counted attempt has ungraded essays.
func QuizGradeOf(method GradingMethod, passPercent float64, attempts []Attempt) Grade {
	g := Grade{Method: method}
	var done []Attempt
	for _, a := range attempts {
		if a.Status == StatusSubmitted && a.Result != nil {
			done = append(done, a)
			g.UserID = a.UserID
		}
	}
	g.Attempts = len(done)
	if len(done) == 0 {
		return g
	}
	switch method {
	case GradeLast:
		last := done[0]
		for _, a := range done[1:] {
			if a.Number > last.Number {
				last = a
			}
		}
		g.Percent, g.Pending = last.Result.Percent, last.Result.Pending > 0
	case GradeAverage:
		sum := 0.0
		for _, a := range done {
			sum += a.Result.Percent
			g.Pending = g.Pending || a.Result.Pending > 0
		}
		g.Percent = round2(sum / float64(len(done)))
	default:
		best := -1.0
		for _, a := range done {
			if a.Result.Percent > best {
				best = a.Result.Percent
			}
			g.Pending = g.Pending || a.Result.Pending > 0
		}
		g.Percent = best
		// A pending essay can only raise a highest grade; an attempt that already
		// passes counts as passed.
		for _, a := range done {
			if a.Result.Pending == 0 && a.Result.Percent >= passPercent {
				g.Pending = false
			}
		}
	}
	g.Passed = !g.Pending && g.Percent >= passPercent
	return g
}

// Bucket is one bar of a score histogram: learners whose percent is in [From, To)
// (the last bucket includes 100).
type Bucket struct {
	From  float64 `json:"from"`
	To    float64 `json:"to"`
	Count int     `json:"count"`
}

// Histogram counts percents into ten buckets of ten points.
func Histogram(percents []float64) []Bucket {
	b := make([]Bucket, 10)
	for i := range b {
		b[i] = Bucket{From: float64(i * 10), To: float64(i*10 + 10)}
	}
	for _, p := range percents {
		i := int(math.Floor(p / 10))
		b[min(9, max(0, i))].Count++
	}
	return b
}
