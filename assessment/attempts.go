package assessment

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

const (
	maxEssayLen  = 50_000
	closedByUser = "learner"
	closedByTime = "deadline"
)

// ChoiceView is a choice as a learner sees it: no fraction, and whether it is correct
// only once review allows it.
type ChoiceView struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Correct  *bool  `json:"correct,omitempty"`
	Feedback string `json:"feedback,omitempty"`
}

// QuestionView is a question as a learner sees it in an attempt: text, choices in this
// attempt's order, and, after submission and only as the quiz's review options allow,
// the score, correct answer and feedback. It never carries a key before that.
type QuestionView struct {
	ID      string       `json:"id"`
	Version int          `json:"version"`
	Type    Type         `json:"type"`
	Title   string       `json:"title,omitempty"`
	Format  string       `json:"format,omitempty"`
	Text    string       `json:"text"`
	Points  float64      `json:"points"`
	Choices []ChoiceView `json:"choices,omitempty"`
	// Items are the left-hand rows of a matching question (id and text), Options the
	// right-hand texts to match them with.
	Items   []ChoiceView `json:"items,omitempty"`
	Options []string     `json:"options,omitempty"`

	Score         *float64 `json:"score,omitempty"`
	Status        string   `json:"status,omitempty"`
	CorrectAnswer any      `json:"correct_answer,omitempty"`
	Feedback      string   `json:"feedback,omitempty"`
	Comment       string   `json:"comment,omitempty"`
}

// Summary is the grade of one attempt without per-question detail.
type Summary struct {
	AttemptID string  `json:"attempt_id"`
	Status    string  `json:"status"`
	Score     float64 `json:"score"`
	MaxScore  float64 `json:"max_score"`
	Percent   float64 `json:"percent"`
	Passed    bool    `json:"passed"`
	Pending   int     `json:"pending"`
	// ScoreHidden is true when the quiz's review options do not show the score yet.
	ScoreHidden bool `json:"score_hidden,omitempty"`
}

// AttemptView is an attempt as its learner (or, with everything shown, staff) sees it.
type AttemptView struct {
	ID          string     `json:"id"`
	QuizID      string     `json:"quiz_id"`
	UserID      string     `json:"user_id"`
	Number      int        `json:"number"`
	Status      string     `json:"status"`
	StartedAt   time.Time  `json:"started_at"`
	Deadline    *time.Time `json:"deadline"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	ClosedBy    string     `json:"closed_by,omitempty"`
	// ServerTime lets a client with a wrong clock count down to Deadline correctly.
	ServerTime time.Time         `json:"server_time"`
	Questions  []QuestionView    `json:"questions"`
	Answers    map[string]Answer `json:"answers,omitempty"`
	Result     *Summary          `json:"result,omitempty"`
	Review     ReviewOptions     `json:"review"`
	// Resumed is true when StartAttempt returned the learner's open attempt.
	Resumed bool `json:"resumed"`
}

// SaveResult acknowledges an autosave.
type SaveResult struct {
	SavedAt    time.Time  `json:"saved_at"`
	Deadline   *time.Time `json:"deadline"`
	ServerTime time.Time  `json:"server_time"`
}

var everything = ReviewOptions{Score: true, Responses: true, CorrectAnswers: true, Feedback: true}

// reviewFor returns what the learner may see of a submitted attempt now.
func reviewFor(q Quiz, now time.Time) ReviewOptions {
	if q.ClosesAt != nil && !now.Before(*q.ClosesAt) {
		return q.Review.AfterClose
	}
	return q.Review.AfterSubmit
}

func summaryOf(a *Attempt, showScore bool) Summary {
	s := Summary{AttemptID: a.ID, Status: a.Status}
	if a.Result == nil {
		return s
	}
	if !showScore {
		s.ScoreHidden = true
		return s
	}
	s.Score, s.MaxScore, s.Percent, s.Passed, s.Pending = a.Result.Score, a.Result.MaxScore, a.Result.Percent, a.Result.Passed, a.Result.Pending
	return s
}

// viewOf builds the view of an attempt showing what rv allows once it is submitted.
func viewOf(a *Attempt, rv ReviewOptions, now time.Time) AttemptView {
	v := AttemptView{ID: a.ID, QuizID: a.QuizID, UserID: a.UserID, Number: a.Number, Status: a.Status, StartedAt: a.StartedAt,
		Deadline: a.Deadline, SubmittedAt: a.SubmittedAt, ClosedBy: a.ClosedBy, ServerTime: now, Questions: make([]QuestionView, 0, len(a.Questions))}
	open := a.Status == StatusOpen
	if open && rv != everything {
		rv = ReviewOptions{} // a learner sees no keys while the attempt runs; staff do
	}
	if !open || rv == everything {
		v.Review = rv
	}
	if open || rv.Responses {
		v.Answers = a.Answers
		if v.Answers == nil {
			v.Answers = map[string]Answer{}
		}
	}
	results := map[string]QuestionResult{}
	if a.Result != nil {
		for _, r := range a.Result.Questions {
			results[r.QuestionID] = r
		}
	}
	for _, aq := range a.Questions {
		q := aq.Question
		qv := QuestionView{ID: q.ID, Version: q.Version, Type: q.Type, Title: q.Title, Format: q.Format, Text: q.Text, Points: aq.Points}
		ans := a.Answers[q.ID]
		chosen := map[string]bool{}
		for _, id := range ans.List {
			chosen[id] = true
		}
		if ans.Text != "" {
			chosen[ans.Text] = true
		}
		byID := map[string]Choice{}
		for _, c := range q.Choices {
			byID[c.ID] = c
		}
		for _, id := range aq.ChoiceOrder {
			c := byID[id]
			cv := ChoiceView{ID: c.ID, Text: c.Text}
			if rv.CorrectAnswers && q.Type != TypeOrdering {
				correct := c.Correct
				cv.Correct = &correct
			}
			if rv.Feedback && chosen[c.ID] {
				cv.Feedback = c.Feedback
			}
			qv.Choices = append(qv.Choices, cv)
		}
		if q.Type == TypeMatching {
			for _, p := range q.Pairs {
				if p.Left != "" {
					qv.Items = append(qv.Items, ChoiceView{ID: p.ID, Text: p.Left})
				}
			}
			qv.Options = aq.OptionOrder
		}
		if !open || rv == everything {
			if r, ok := results[q.ID]; ok && rv.Score {
				score := r.Score
				qv.Score, qv.Status = &score, r.Status
			}
			if rv.CorrectAnswers {
				qv.CorrectAnswer = correctAnswer(q)
			}
			if rv.Feedback {
				qv.Feedback = q.Feedback
				if g, ok := a.EssayGrades[q.ID]; ok {
					qv.Comment = g.Comment
				}
			}
		}
		v.Questions = append(v.Questions, qv)
	}
	if !open && a.Result != nil {
		s := summaryOf(a, rv.Score)
		v.Result = &s
	}
	return v
}

// correctAnswer is the key of a question in the shape of an answer to it.
func correctAnswer(q Question) any {
	switch q.Type {
	case TypeSingle:
		for _, c := range q.Choices {
			if c.Fraction >= 1 {
				return c.ID
			}
		}
	case TypeTrueFalse:
		for _, c := range q.Choices {
			if c.Correct {
				return c.ID == "true"
			}
		}
	case TypeMultiple:
		var out []string
		for _, c := range q.Choices {
			if c.Correct {
				out = append(out, c.ID)
			}
		}
		return out
	case TypeOrdering:
		var out []string
		for _, c := range q.Choices {
			out = append(out, c.ID)
		}
		return out
	case TypeShortAnswer:
		var out []string
		for _, a := range q.Answers {
			if a.Fraction >= 1 {
				out = append(out, a.Text)
			}
		}
		return out
	case TypeNumerical:
		for _, n := range q.Numeric {
			if n.Fraction >= 1 {
				return NumericAnswer{Value: n.Value, Tolerance: n.Tolerance, Fraction: 1}
			}
		}
	case TypeMatching:
		out := map[string]string{}
		for _, p := range q.Pairs {
			if p.Left != "" {
				out[p.ID] = p.Right
			}
		}
		return out
	}
	return nil
}

// CheckAnswer validates an answer to an attempt question and returns it in canonical
// form, or a reason it is not acceptable.
func CheckAnswer(aq AttemptQuestion, a Answer) (Answer, string) {
	if a.IsEmpty() {
		return Answer{}, ""
	}
	q := aq.Question
	hasChoice := func(id string) bool {
		return slices.ContainsFunc(q.Choices, func(c Choice) bool { return c.ID == id })
	}
	switch q.Type {
	case TypeSingle, TypeTrueFalse:
		id := a.Text
		if a.Bool != nil && q.Type == TypeTrueFalse {
			id = strconv.FormatBool(*a.Bool)
		}
		if len(a.List) == 1 {
			id = a.List[0]
		}
		if id == "" || !hasChoice(id) || len(a.List) > 1 || a.Pairs != nil {
			return Answer{}, "must be the id of one of the question's choices"
		}
		return Answer{Text: id}, ""
	case TypeMultiple, TypeOrdering:
		if !a.IsList {
			return Answer{}, "must be a list of choice ids"
		}
		seen := map[string]bool{}
		for _, id := range a.List {
			if !hasChoice(id) || seen[id] {
				return Answer{}, "lists an unknown or repeated choice id"
			}
			seen[id] = true
		}
		if q.Type == TypeOrdering && len(a.List) != len(q.Choices) {
			return Answer{}, "must list every item exactly once"
		}
		return Answer{List: slices.Clone(a.List), IsList: true}, ""
	case TypeShortAnswer, TypeEssay:
		t := a.Text
		if a.Number != nil {
			t = strconv.FormatFloat(*a.Number, 'g', -1, 64)
		}
		if t == "" && (a.IsList || a.Pairs != nil || a.Bool != nil) {
			return Answer{}, "must be text"
		}
		limit := maxShortLen
		if q.Type == TypeEssay {
			limit = maxEssayLen
		}
		if utf8.RuneCountInString(t) > limit || !utf8.ValidString(t) {
			return Answer{}, fmt.Sprintf("is longer than %d characters", limit)
		}
		return Answer{Text: t}, ""
	case TypeNumerical:
		v, ok := answerNumber(a)
		if !ok {
			return Answer{}, "must be a number"
		}
		return Answer{Number: &v}, ""
	case TypeMatching:
		if a.Pairs == nil {
			return Answer{}, "must map item ids to option texts"
		}
		out := map[string]string{}
		for k, v := range a.Pairs {
			if !slices.ContainsFunc(q.Pairs, func(p Pair) bool { return p.ID == k && p.Left != "" }) {
				return Answer{}, "names an unknown item"
			}
			if v == "" {
				continue
			}
			if !slices.Contains(aq.OptionOrder, v) {
				return Answer{}, "chooses a text that is not one of the options"
			}
			out[k] = v
		}
		return Answer{Pairs: out}, ""
	}
	return Answer{}, "this question takes no answer"
}

// attemptSeed makes the random source of an attempt from its id: draws and shuffles are
// stored in the attempt, so the seed only needs to differ between attempts.
func attemptSeed(id string) *rand.Rand {
	sum := sha256.Sum256([]byte(id))
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
}

func (s *Service) findAttempt(ctx context.Context, id string) (*Attempt, error) {
	if !ids.Valid(id) {
		return nil, fmt.Errorf("assessment: attempt %q: %w", id, errs.ErrNotFound)
	}
	var a Attempt
	if err := s.attempts.FindOne(ctx, bson.M{"_id": id}).Decode(&a); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, fmt.Errorf("assessment: attempt %s: %w", id, errs.ErrNotFound)
		}
		return nil, fmt.Errorf("assessment: find attempt: %w", dbErr(err))
	}
	if err := s.hydrate(ctx, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// StartAttempt starts an attempt at a quiz for the calling learner, or resumes the open
// one (same questions, same order, saved answers). The deadline is the earlier of start +
// time limit + the learner's extra time, and the quiz's close time. Two simultaneous
// starts make one attempt: each claims the next attempt number by inserting its slot, the
// unique key refuses the second, and the loser resumes the winner's attempt. Errors:
// ErrNotFound (no such quiz), ErrForbidden (not enrolled), ErrConflict (not open yet,
// closed, or no attempts left).
func (s *Service) StartAttempt(ctx context.Context, actor accounts.Principal, quizID string) (AttemptView, error) {
	q, pool, err := s.loadQuiz(ctx, quizID)
	if err != nil {
		return AttemptView{}, err
	}
	userID := actor.User.ID
	enrolled, err := s.enrolments.IsEnrolledInCourse(ctx, userID, q.CourseID)
	if err != nil {
		return AttemptView{}, fmt.Errorf("assessment: check enrolment: %w", err)
	}
	if !enrolled {
		return AttemptView{}, fmt.Errorf("assessment: not enrolled in the quiz's course: %w", errs.ErrForbidden)
	}
	for range 5 {
		last, err := s.lastSlot(ctx, quizID, userID)
		if err != nil {
			return AttemptView{}, err
		}
		now := s.now()
		if last.Number > 0 {
			a, err := s.findAttempt(ctx, last.AttemptID)
			if errors.Is(err, errs.ErrNotFound) {
				// Claimed by a start that has not stored it yet, or that stopped: make it.
				a, err = s.createAttempt(ctx, q, pool, userID, last, now)
			}
			if err != nil {
				return AttemptView{}, err
			}
			if a.Status == StatusOpen {
				if a.Deadline != nil && now.After(a.Deadline.Add(s.grace)) {
					if _, _, err := s.closeAttempt(ctx, a.ID, closedByTime); err != nil {
						return AttemptView{}, err
					}
					continue
				}
				s.cacheAttempt(a)
				v := viewOf(a, ReviewOptions{}, now)
				v.Resumed = true
				return v, nil
			}
		}
		if q.OpensAt != nil && now.Before(*q.OpensAt) {
			return AttemptView{}, fmt.Errorf("assessment: the quiz opens at %s: %w", q.OpensAt.Format(time.RFC3339), errs.ErrConflict)
		}
		if q.ClosesAt != nil && !now.Before(*q.ClosesAt) {
			return AttemptView{}, fmt.Errorf("assessment: the quiz closed at %s: %w", q.ClosesAt.Format(time.RFC3339), errs.ErrConflict)
		}
		acc := s.latestAccommodation(pool, quizID, userID)
		if q.MaxAttempts > 0 && last.Number >= q.MaxAttempts+acc.ExtraAttempts {
			return AttemptView{}, fmt.Errorf("assessment: all %d attempts used: %w", q.MaxAttempts+acc.ExtraAttempts, errs.ErrConflict)
		}
		next := slot{Number: last.Number + 1, AttemptID: ids.New()}
		claimed, err := s.claimSlot(ctx, quizID, userID, next.Number, next.AttemptID)
		if err != nil {
			return AttemptView{}, err
		}
		if !claimed {
			continue // a simultaneous start took this number: resume its attempt
		}
		a, err := s.createAttempt(ctx, q, pool, userID, next, now)
		if err != nil {
			return AttemptView{}, err
		}
		s.cacheAttempt(a)
		return viewOf(a, ReviewOptions{}, now), nil
	}
	return AttemptView{}, fmt.Errorf("assessment: attempts keep changing, try again: %w", errs.ErrConflict)
}

// createAttempt stores the attempt of a claimed slot, or returns it when a simultaneous
// call stored it first. Its questions are drawn with a seed from the attempt id, so that
// every call for one slot draws the same paper. The paper is stored before the attempt:
// an attempt is never without its questions, and a paper left by a crash is used by the
// next call. Errors: ErrConflict (the quiz has no questions left), ErrUnavailable.
func (s *Service) createAttempt(ctx context.Context, q Quiz, pool *questionPool, userID string, sl slot, now time.Time) (*Attempt, error) {
	acc := s.latestAccommodation(pool, q.ID, userID)
	a := &Attempt{ID: sl.AttemptID, QuizID: q.ID, CourseID: q.CourseID, UserID: userID, Number: sl.Number, Status: StatusOpen,
		OpenKey: q.ID + "|" + userID, StartedAt: now, Answers: map[string]Answer{}, PassPercent: q.PassPercent, Required: q.Required}
	var deadline *time.Time
	if q.TimeLimitS > 0 {
		d := now.Add(time.Duration(q.TimeLimitS+acc.ExtraTimeS) * time.Second)
		deadline = &d
	}
	if q.ClosesAt != nil && (deadline == nil || q.ClosesAt.Before(*deadline)) {
		d := *q.ClosesAt
		deadline = &d
	}
	a.Deadline = deadline
	a.Questions = drawQuestions(q, pool, attemptSeed(a.ID))
	if len(a.Questions) == 0 {
		return nil, fmt.Errorf("assessment: the quiz has no questions left (archived?): %w", errs.ErrConflict)
	}
	given := make([]Question, len(a.Questions))
	for i, aq := range a.Questions {
		given[i] = aq.Question
	}
	if err := s.ensureSnapshots(ctx, given); err != nil {
		return nil, err
	}
	if _, err := s.papers.InsertOne(ctx, paper{ID: a.ID, Questions: a.Questions}); err != nil {
		if !database.IsDuplicateKey(err) {
			return nil, fmt.Errorf("assessment: store attempt paper: %w", dbErr(err))
		}
		a.Questions = nil // the stored paper wins: it may come from an older pool
		if err := s.loadPapers(ctx, []*Attempt{a}); err != nil {
			return nil, err
		}
		if err := s.loadSnapshots(ctx, []*Attempt{a}); err != nil {
			return nil, err
		}
	}
	// Scheduled before it is stored, so that no open attempt escapes the sweeper.
	if err := s.setDue(ctx, a.ID, dueAt(a.Deadline).Add(s.grace)); err != nil {
		return nil, err
	}
	if _, err := s.attempts.InsertOne(ctx, a); err != nil {
		if !database.IsDuplicateKey(err) {
			return nil, fmt.Errorf("assessment: start attempt: %w", dbErr(err))
		}
		// Stored by a simultaneous call for the same slot, or refused by open_key because
		// another attempt of this learner is open, which slots make impossible.
		stored, ferr := s.findAttempt(ctx, a.ID)
		if ferr != nil {
			if errors.Is(ferr, errs.ErrNotFound) {
				return nil, fmt.Errorf("assessment: another attempt at this quiz is open: %w", errs.ErrConflict)
			}
			return nil, ferr
		}
		return stored, nil
	}
	return a, nil
}

// ownAttempt returns the immutable part of the caller's attempt (cached), or ErrNotFound
// when it does not exist or belongs to someone else.
func (s *Service) ownAttempt(ctx context.Context, actor accounts.Principal, id string) (*Attempt, error) {
	a := s.cachedAttempt(id)
	if a == nil {
		var err error
		if a, err = s.findAttempt(ctx, id); err != nil {
			return nil, err
		}
		s.cacheAttempt(a)
	}
	if a.UserID != actor.User.ID {
		return nil, fmt.Errorf("assessment: attempt %s: %w", id, errs.ErrNotFound)
	}
	return a, nil
}

// SaveAnswers autosaves answers to an open attempt: one $set per request, last write
// wins per question, saving the same answers again changes nothing, and a null answer
// clears one. Errors: ErrNotFound (not the caller's attempt), ErrInvalid (unknown
// question or an answer that does not fit it; nothing is saved), ErrConflict once the
// attempt is submitted or its deadline plus the grace period has passed.
func (s *Service) SaveAnswers(ctx context.Context, actor accounts.Principal, attemptID string, answers map[string]Answer) (SaveResult, error) {
	a, err := s.ownAttempt(ctx, actor, attemptID)
	if err != nil {
		return SaveResult{}, err
	}
	now := s.now()
	if a.Deadline != nil && now.After(a.Deadline.Add(s.grace)) {
		return SaveResult{}, fmt.Errorf("assessment: the attempt's time is up: %w", errs.ErrConflict)
	}
	if len(answers) > len(a.Questions) {
		return SaveResult{}, errs.Field("answers", "more answers than questions")
	}
	byID := make(map[string]AttemptQuestion, len(a.Questions))
	for _, aq := range a.Questions {
		byID[aq.Question.ID] = aq
	}
	set, unset := bson.M{"saved_at": now}, bson.M{}
	var f errs.Fields
	for qid, ans := range answers {
		aq, ok := byID[qid]
		if !ok {
			f.Add("answers", fmt.Sprintf("question %q is not in this attempt", trimForLog(qid)))
			continue
		}
		norm, why := CheckAnswer(aq, ans)
		if why != "" {
			f.Add("answers."+qid, why)
			continue
		}
		if norm.IsEmpty() {
			unset["answers."+qid] = ""
		} else {
			set["answers."+qid] = norm
		}
	}
	if err := f.Err(); err != nil {
		return SaveResult{}, err
	}
	update := bson.M{"$set": set}
	if len(unset) > 0 {
		update["$unset"] = unset
	}
	before, err := s.updateAttemptIf(ctx, attemptID, whileOpen(a.Deadline != nil, now.Add(-s.grace)), update)
	if err != nil {
		return SaveResult{}, fmt.Errorf("assessment: save answers: %w", err)
	}
	if before == nil {
		return SaveResult{}, fmt.Errorf("assessment: the attempt is submitted or its time is up: %w", errs.ErrConflict)
	}
	return SaveResult{SavedAt: now, Deadline: a.Deadline, ServerTime: now}, nil
}

// closeAttempt moves an open attempt to submitted and grades it. Only the caller whose
// conditional update matched does so (closed is true); everyone else gets closed false.
func (s *Service) closeAttempt(ctx context.Context, id, closedBy string) (bool, *Attempt, error) {
	now := s.now()
	// Due at once first: should this process stop between the close and the result, the
	// sweeper grades the attempt.
	if err := s.setDue(ctx, id, now); err != nil {
		return false, nil, err
	}
	a, err := s.updateAttemptIf(ctx, id, isOpen(),
		bson.M{"$set": bson.M{"status": StatusSubmitted, "submitted_at": now, "closed_by": closedBy}, "$unset": bson.M{"open_key": ""}})
	if err != nil {
		return false, nil, fmt.Errorf("assessment: close attempt: %w", err)
	}
	if a == nil {
		return false, nil, nil
	}
	// The attempt as the update left it; its answers are those it had when it closed.
	a.Status, a.SubmittedAt, a.ClosedBy, a.OpenKey = StatusSubmitted, &now, closedBy, ""
	if err := s.hydrate(ctx, a); err != nil {
		return true, a, err
	}
	if err := s.storeResult(ctx, a); err != nil {
		return true, a, err
	}
	return true, a, nil
}

// storeResult grades a submitted attempt and stores the result unless one is stored,
// then takes the attempt off the sweeper's schedule. Grading is a pure function of the
// stored attempt, so two processes racing here store the same result. The completion
// notifier hears about required quizzes.
func (s *Service) storeResult(ctx context.Context, a *Attempt) error {
	r := ComputeResult(a)
	before, err := s.updateAttemptIf(ctx, a.ID, notGraded(), bson.M{"$set": bson.M{"graded": true, "result": r, "result_rev": 1}})
	if err != nil {
		return fmt.Errorf("assessment: store result: %w", err)
	}
	a.Graded, a.Result, a.ResultRev = true, &r, 1
	if before != nil {
		s.notifyCompletion(ctx, a)
	}
	if err := s.settled(ctx, a.ID); err != nil {
		// The result is stored; the sweeper finds the attempt graded and forgets it then.
		s.log.WarnContext(ctx, "assessment: graded attempt left on the sweeper's schedule", "attempt_id", a.ID, "error", err)
	}
	return nil
}

// notifyCompletion tells courses that a required quiz's result changed. A failure is
// logged, not returned: the attempt is graded either way, and completion is recomputed
// on the learner's next progress or result change.
func (s *Service) notifyCompletion(ctx context.Context, a *Attempt) {
	if !a.Required || s.completion == nil {
		return
	}
	if err := s.completion.RecomputeCompletion(ctx, a.UserID, a.CourseID); err != nil {
		s.log.ErrorContext(ctx, "assessment: recompute course completion", "user_id", a.UserID, "course_id", a.CourseID, "attempt_id", a.ID, "error", err)
	}
}

// SubmitAttempt ends the caller's attempt and grades it exactly once; submitting again,
// or after the sweeper closed it at the deadline, returns the stored result. The score
// fields are empty (ScoreHidden) when the quiz's review options hide the score. Errors:
// ErrNotFound (not the caller's attempt).
func (s *Service) SubmitAttempt(ctx context.Context, actor accounts.Principal, attemptID string) (Summary, error) {
	a, err := s.ownAttempt(ctx, actor, attemptID)
	if err != nil {
		return Summary{}, err
	}
	now := s.now()
	by := closedByUser
	if a.Deadline != nil && now.After(a.Deadline.Add(s.grace)) {
		by = closedByTime
	}
	closed, done, err := s.closeAttempt(ctx, attemptID, by)
	if err != nil {
		return Summary{}, err
	}
	if !closed {
		if done, err = s.findAttempt(ctx, attemptID); err != nil {
			return Summary{}, err
		}
		if !done.Graded {
			if err := s.storeResult(ctx, done); err != nil {
				return Summary{}, err
			}
		}
	}
	q, _, err := s.loadQuiz(ctx, done.QuizID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return Summary{}, err
	}
	show := err != nil || reviewFor(q, now).Score // a deleted quiz hides nothing
	return summaryOf(done, show), nil
}

// GetAttempt returns an attempt: to its learner as the quiz's review options allow (no
// answer keys while open), to staff who see the quiz's results with everything. An open
// attempt past its deadline is closed and graded first. Errors: ErrNotFound (also for
// another learner's attempt).
func (s *Service) GetAttempt(ctx context.Context, actor accounts.Principal, attemptID string) (AttemptView, error) {
	a, err := s.findAttempt(ctx, attemptID)
	if err != nil {
		return AttemptView{}, err
	}
	q, _, err := s.loadQuiz(ctx, a.QuizID)
	if err != nil {
		return AttemptView{}, err
	}
	rv := ReviewOptions{}
	if a.UserID != actor.User.ID {
		ok, err := s.canSeeLearner(ctx, actor, q, a.UserID)
		if err != nil {
			return AttemptView{}, err
		}
		if !ok {
			return AttemptView{}, fmt.Errorf("assessment: attempt %s: %w", attemptID, errs.ErrNotFound)
		}
		rv = everything
	}
	now := s.now()
	if a.Status == StatusOpen && a.Deadline != nil && now.After(a.Deadline.Add(s.grace)) {
		if _, _, err := s.closeAttempt(ctx, a.ID, closedByTime); err != nil {
			return AttemptView{}, err
		}
		if a, err = s.findAttempt(ctx, attemptID); err != nil {
			return AttemptView{}, err
		}
	}
	if a.Status == StatusSubmitted && !a.Graded {
		if err := s.storeResult(ctx, a); err != nil {
			return AttemptView{}, err
		}
	}
	if rv == (ReviewOptions{}) {
		rv = reviewFor(q, now)
	}
	return viewOf(a, rv, now), nil
}

// AttemptSummary is one row of an attempt list.
type AttemptSummary struct {
	ID          string     `json:"id"`
	QuizID      string     `json:"quiz_id"`
	UserID      string     `json:"user_id"`
	Number      int        `json:"number"`
	Status      string     `json:"status"`
	StartedAt   time.Time  `json:"started_at"`
	Deadline    *time.Time `json:"deadline"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	ClosedBy    string     `json:"closed_by,omitempty"`
	Score       float64    `json:"score"`
	MaxScore    float64    `json:"max_score"`
	Percent     float64    `json:"percent"`
	Passed      bool       `json:"passed"`
	Pending     int        `json:"pending"`
}

func attemptSummary(a Attempt) AttemptSummary {
	s := AttemptSummary{ID: a.ID, QuizID: a.QuizID, UserID: a.UserID, Number: a.Number, Status: a.Status, StartedAt: a.StartedAt,
		Deadline: a.Deadline, SubmittedAt: a.SubmittedAt, ClosedBy: a.ClosedBy}
	if a.Result != nil {
		s.Score, s.MaxScore, s.Percent, s.Passed, s.Pending = a.Result.Score, a.Result.MaxScore, a.Result.Percent, a.Result.Passed, a.Result.Pending
	}
	return s
}

// summaryFields is the projection of attempt lists: everything but answers and essay
// grades.
var summaryFields = bson.M{"_id": 1, "quiz_id": 1, "course_id": 1, "user_id": 1, "number": 1, "status": 1, "started_at": 1, "deadline": 1,
	"submitted_at": 1, "closed_by": 1, "graded": 1, "result": 1, "pass_percent": 1, "required": 1}

// MyAttempts lists the caller's attempts at a quiz, oldest first, with scores as the
// quiz's review options allow. Errors: ErrNotFound for an unknown quiz.
func (s *Service) MyAttempts(ctx context.Context, actor accounts.Principal, quizID string) ([]AttemptSummary, error) {
	q, _, err := s.loadQuiz(ctx, quizID)
	if err != nil {
		return nil, err
	}
	list, err := s.learnerAttempts(ctx, quizID, actor.User.ID)
	if err != nil {
		return nil, err
	}
	show := reviewFor(q, s.now()).Score
	out := make([]AttemptSummary, 0, len(list))
	for _, a := range list {
		sum := attemptSummary(a)
		if !show {
			sum.Score, sum.MaxScore, sum.Percent, sum.Passed, sum.Pending = 0, 0, 0, false, 0
		}
		out = append(out, sum)
	}
	return out, nil
}

func (s *Service) listAttempts(ctx context.Context, filter bson.M) ([]Attempt, error) {
	cur, err := s.attempts.Find(ctx, filter, options.Find().SetProjection(summaryFields).
		SetSort(bson.D{{Key: "user_id", Value: 1}, {Key: "number", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("assessment: list attempts: %w", dbErr(err))
	}
	var list []Attempt
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("assessment: list attempts: %w", dbErr(err))
	}
	return list, nil
}

// RunSweeper runs SweepOnce every interval until ctx ends, logging failures (a database
// hiccup must not stop the sweeper). It returns when ctx is done.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.SweepOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "assessment: sweep attempts", "closed", n, "error", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "assessment: closed attempts past their deadline", "closed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// trimForLog keeps user-supplied ids short in messages.
func trimForLog(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}
