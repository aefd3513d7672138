package assessment

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"hoctap/accounts"
	"hoctap/audit/trail"
	"hoctap/internal/errs"
)

// QuizResults is what trainers see of a quiz: every attempt, each learner's grade by
// the quiz's grading method, and the distribution of those grades.
type QuizResults struct {
	QuizID        string           `json:"quiz_id"`
	Grading       GradingMethod    `json:"grading"`
	PassPercent   float64          `json:"pass_percent"`
	Attempts      []AttemptSummary `json:"attempts"`
	Learners      []Grade          `json:"learners"`
	Histogram     []Bucket         `json:"histogram"`
	Passed        int              `json:"passed"`
	PendingEssays int              `json:"pending_essays"`
}

// QuizResults returns a quiz's results. Admins, the quiz owner and trainers of the
// course may read them. Errors: ErrNotFound, ErrForbidden.
func (s *Service) QuizResults(ctx context.Context, actor accounts.Principal, quizID string) (QuizResults, error) {
	q, scope, err := s.quizForResults(ctx, actor, quizID, "quiz results")
	if err != nil {
		return QuizResults{}, err
	}
	list, err := s.listAttempts(ctx, bson.M{"quiz_id": quizID})
	if err != nil {
		return QuizResults{}, err
	}
	list = slices.DeleteFunc(list, func(a Attempt) bool { return !scope.has(a.UserID) })
	r := QuizResults{QuizID: q.ID, Grading: q.Grading, PassPercent: q.PassPercent, Attempts: []AttemptSummary{}, Learners: []Grade{}}
	byUser := map[string][]Attempt{}
	var users []string
	for _, a := range list {
		r.Attempts = append(r.Attempts, attemptSummary(a))
		if _, ok := byUser[a.UserID]; !ok {
			users = append(users, a.UserID)
		}
		byUser[a.UserID] = append(byUser[a.UserID], a)
		if a.Result != nil {
			r.PendingEssays += a.Result.Pending
		}
	}
	var percents []float64
	for _, u := range users {
		g := QuizGradeOf(q.Grading, q.PassPercent, byUser[u])
		if g.Attempts == 0 {
			continue
		}
		g.UserID = u
		r.Learners = append(r.Learners, g)
		percents = append(percents, g.Percent)
		if g.Passed {
			r.Passed++
		}
	}
	r.Histogram = Histogram(percents)
	return r, nil
}

// QuizGrade returns one learner's grade for a quiz: to the learner themself (when the
// review options show scores) or to whoever may read the quiz's results. Errors:
// ErrNotFound.
func (s *Service) QuizGrade(ctx context.Context, actor accounts.Principal, quizID, userID string) (Grade, error) {
	q, err := s.findQuiz(ctx, quizID)
	if err != nil {
		return Grade{}, err
	}
	if userID != actor.User.ID {
		if ok, err := s.canSeeLearner(ctx, actor, q, userID); err != nil {
			return Grade{}, err
		} else if !ok {
			return Grade{}, fmt.Errorf("assessment: grade: %w", errs.ErrNotFound)
		}
	} else if !reviewFor(q, s.now()).Score {
		return Grade{UserID: userID, Method: q.Grading}, nil
	}
	list, err := s.learnerAttempts(ctx, quizID, userID)
	if err != nil {
		return Grade{}, err
	}
	g := QuizGradeOf(q.Grading, q.PassPercent, list)
	g.UserID = userID
	return g, nil
}

// RequiredQuizStatus reports whether the learner has passed every quiz of the course
// marked required (true when there are none). Courses calls it to decide completion.
func (s *Service) RequiredQuizStatus(ctx context.Context, courseID, userID string) (bool, error) {
	cur, err := s.quizzes.Find(ctx, bson.M{"course_id": courseID, "required": true})
	if err != nil {
		return false, fmt.Errorf("assessment: required quizzes: %w", dbErr(err))
	}
	var quizzes []Quiz
	if err := cur.All(ctx, &quizzes); err != nil {
		return false, fmt.Errorf("assessment: required quizzes: %w", dbErr(err))
	}
	if len(quizzes) == 0 {
		return true, nil
	}
	for _, q := range quizzes {
		mine, err := s.learnerAttempts(ctx, q.ID, userID)
		if err != nil {
			return false, err
		}
		if !QuizGradeOf(q.Grading, q.PassPercent, mine).Passed {
			return false, nil
		}
	}
	return true, nil
}

// PendingEssay is one essay answer waiting for a grader.
type PendingEssay struct {
	AttemptID  string     `json:"attempt_id"`
	UserID     string     `json:"user_id"`
	QuestionID string     `json:"question_id"`
	Question   string     `json:"question"`
	Answer     string     `json:"answer"`
	MaxScore   float64    `json:"max_score"`
	Submitted  *time.Time `json:"submitted_at"`
}

// PendingEssays lists the essay answers of a quiz that nobody has graded yet, oldest
// submission first. Errors: ErrNotFound, ErrForbidden.
func (s *Service) PendingEssays(ctx context.Context, actor accounts.Principal, quizID string) ([]PendingEssay, error) {
	_, scope, err := s.quizForResults(ctx, actor, quizID, "pending essays")
	if err != nil {
		return nil, err
	}
	cur, err := s.attempts.Find(ctx, bson.M{"quiz_id": quizID, "status": StatusSubmitted, "result.pending": bson.M{"$gt": 0}})
	if err != nil {
		return nil, fmt.Errorf("assessment: pending essays: %w", dbErr(err))
	}
	var list []Attempt
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("assessment: pending essays: %w", dbErr(err))
	}
	for i := range list {
		if err := s.hydrate(ctx, &list[i]); err != nil {
			return nil, err
		}
	}
	out := []PendingEssay{}
	for _, a := range list {
		if !scope.has(a.UserID) {
			continue
		}
		for _, r := range a.Result.Questions {
			if r.Status != ResultPending {
				continue
			}
			i := slices.IndexFunc(a.Questions, func(aq AttemptQuestion) bool { return aq.Question.ID == r.QuestionID })
			out = append(out, PendingEssay{AttemptID: a.ID, UserID: a.UserID, QuestionID: r.QuestionID, Question: a.Questions[i].Question.Text,
				Answer: a.Answers[r.QuestionID].Text, MaxScore: r.MaxScore, Submitted: a.SubmittedAt})
		}
	}
	slices.SortStableFunc(out, func(x, y PendingEssay) int {
		if x.Submitted == nil || y.Submitted == nil {
			return 0
		}
		return x.Submitted.Compare(*y.Submitted)
	})
	return out, nil
}

// GradeEssay sets the mark and comment for one essay of a submitted attempt (grading
// again replaces the mark) and recomputes the attempt's result with a compare-and-set on
// its result revision. Admins, the quiz owner and trainers of the course may. Errors:
// ErrNotFound, ErrForbidden, ErrInvalid (not an essay, score outside 0..points),
// ErrConflict (the attempt is still open).
func (s *Service) GradeEssay(ctx context.Context, actor accounts.Principal, attemptID, questionID string, score float64, comment string) (Result, error) {
	for range 5 {
		a, err := s.findAttempt(ctx, attemptID)
		if err != nil {
			return Result{}, err
		}
		q, err := s.findQuiz(ctx, a.QuizID)
		if err != nil {
			return Result{}, err
		}
		if ok, err := s.canSeeResults(ctx, actor, q); err != nil {
			return Result{}, err
		} else if !ok {
			return Result{}, fmt.Errorf("assessment: grade essay: %w", errs.ErrForbidden)
		}
		if ok, err := s.canSeeLearner(ctx, actor, q, a.UserID); err != nil {
			return Result{}, err
		} else if !ok {
			return Result{}, fmt.Errorf("assessment: attempt %s: %w", attemptID, errs.ErrNotFound)
		}
		if a.Status != StatusSubmitted {
			return Result{}, fmt.Errorf("assessment: the attempt is not submitted yet: %w", errs.ErrConflict)
		}
		if !a.Graded {
			if err := s.storeResult(ctx, a); err != nil {
				return Result{}, err
			}
		}
		i := slices.IndexFunc(a.Questions, func(aq AttemptQuestion) bool { return aq.Question.ID == questionID })
		if i < 0 || a.Questions[i].Question.Type != TypeEssay {
			return Result{}, errs.Field("question_id", "is not an essay question of this attempt")
		}
		pts := a.Questions[i].Points
		if math.IsNaN(score) || score < 0 || score > pts {
			return Result{}, errs.Field("score", fmt.Sprintf("must be between 0 and %g", pts))
		}
		comment = strings.TrimSpace(comment)
		if len(comment) > maxTextLen {
			return Result{}, errs.Field("comment", "is too long")
		}
		g := EssayGrade{Score: round2(score), Comment: comment, GradedBy: actor.User.ID, GradedAt: s.now()}
		if a.EssayGrades == nil {
			a.EssayGrades = map[string]EssayGrade{}
		}
		a.EssayGrades[questionID] = g
		r := ComputeResult(a)
		before, err := s.updateAttemptIf(ctx, a.ID, atResultRev(a.ResultRev),
			bson.M{"$set": bson.M{"essay_grades." + questionID: g, "result": r}, "$inc": bson.M{"result_rev": 1}})
		if err != nil {
			return Result{}, fmt.Errorf("assessment: grade essay: %w", err)
		}
		if before == nil {
			continue // another grader changed the result meanwhile: start over
		}
		a.Result = &r
		s.notifyCompletion(ctx, a)
		e := actor.AuditActor().Did(trail.GradeEssay, "attempt:"+a.ID, q.Title).About(a.UserID).
			With("quiz_id", q.ID).With("question_id", questionID).With("user_id", a.UserID).
			With("score", strconv.FormatFloat(g.Score, 'f', -1, 64)).With("points", strconv.FormatFloat(pts, 'f', -1, 64))
		if err := trail.Record(ctx, s.audit, e); err != nil {
			return Result{}, err
		}
		return r, nil
	}
	return Result{}, fmt.Errorf("assessment: the attempt's result keeps changing, try again: %w", errs.ErrConflict)
}
