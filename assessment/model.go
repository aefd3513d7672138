// Package assessment owns question banks, quizzes, attempts and grading. Lecturers keep
// questions in named banks (imported from GIFT, Aiken or Moodle XML through the importer
// sub-package); quizzes draw fixed and random questions from them; learners take timed
// attempts whose clock the server owns, answers autosaved and never lost; submitting (or a
// background sweeper, when the deadline passes) grades each attempt exactly once.
//
// Collections: banks, questions, question_versions, quizzes, accommodations, attempts.
package assessment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Type is a question type.
type Type string

// The question types. Numerical and description come from the Moodle formats.
const (
	TypeSingle      Type = "single"
	TypeMultiple    Type = "multiple"
	TypeTrueFalse   Type = "true_false"
	TypeShortAnswer Type = "short_answer"
	TypeNumerical   Type = "numerical"
	TypeMatching    Type = "matching"
	TypeOrdering    Type = "ordering"
	TypeEssay       Type = "essay"
	TypeDescription Type = "description"
)

// Types lists every question type.
var Types = []Type{TypeSingle, TypeMultiple, TypeTrueFalse, TypeShortAnswer, TypeNumerical, TypeMatching, TypeOrdering, TypeEssay, TypeDescription}

// Bank is a named container of questions. It is created by the first lecturer who puts a
// question in it (its owner) and shared with the lecturers an admin names.
type Bank struct {
	ID         string    `bson:"_id" json:"id"`
	Name       string    `bson:"name" json:"name"`
	OwnerID    string    `bson:"owner_id" json:"owner_id"`
	SharedWith []string  `bson:"shared_with" json:"shared_with"`
	CreatedAt  time.Time `bson:"created_at" json:"created_at"`
	UpdatedAt  time.Time `bson:"updated_at" json:"updated_at"`
}

// Choice is one option of a single, multiple, true_false or ordering question. Fraction
// is the share of the points it earns when chosen (negative takes points off); Correct is
// Fraction > 0. Ordering questions list their choices in the correct order.
type Choice struct {
	ID       string  `bson:"id" json:"id"`
	Text     string  `bson:"text" json:"text"`
	Correct  bool    `bson:"correct" json:"correct"`
	Fraction float64 `bson:"fraction" json:"fraction"`
	Feedback string  `bson:"feedback,omitempty" json:"feedback,omitempty"`
}

// AcceptedAnswer is one accepted answer of a short_answer question. In JSON it may be
// written as a plain string (fraction 1). `*` in Text matches any run of characters.
type AcceptedAnswer struct {
	Text     string  `bson:"text" json:"text"`
	Fraction float64 `bson:"fraction" json:"fraction"`
	Feedback string  `bson:"feedback,omitempty" json:"feedback,omitempty"`
}

// UnmarshalJSON accepts a string, a boolean or number (true_false keys like "answers":
// [true]) or an object.
func (a *AcceptedAnswer) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		a.Fraction = 1
		return json.Unmarshal(b, &a.Text)
	case bytes.Equal(b, []byte("true")) || bytes.Equal(b, []byte("false")):
		a.Text, a.Fraction = string(b), 1
		return nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		a.Text, a.Fraction = string(b), 1
		return nil
	}
	type plain AcceptedAnswer
	p := plain{Fraction: 1}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*a = AcceptedAnswer(p)
	return nil
}

// NumericAnswer is one accepted answer of a numerical question: Value ± Tolerance.
type NumericAnswer struct {
	Value     float64 `bson:"value" json:"value"`
	Tolerance float64 `bson:"tolerance" json:"tolerance"`
	Fraction  float64 `bson:"fraction" json:"fraction"`
	Feedback  string  `bson:"feedback,omitempty" json:"feedback,omitempty"`
}

// Pair is one row of a matching question. A pair with an empty Left is a distractor: its
// Right is offered but matches nothing.
type Pair struct {
	ID    string `bson:"id" json:"id"`
	Left  string `bson:"left" json:"left"`
	Right string `bson:"right" json:"right"`
}

// Question is a bank question, including its answer key. Learners never receive this
// type; they get QuestionView.
type Question struct {
	ID string `bson:"_id" json:"id"`
	// Version grows by one with every edit; attempts keep the version they were given.
	Version  int    `bson:"version" json:"version"`
	Bank     string `bson:"bank" json:"bank"`
	Category string `bson:"category" json:"category"`
	Type     Type   `bson:"type" json:"type"`
	Title    string `bson:"title,omitempty" json:"title,omitempty"`
	// Format is the markup of Text: "" (plain), "html" or "markdown".
	Format          string           `bson:"format,omitempty" json:"format,omitempty"`
	Text            string           `bson:"text" json:"text"`
	Choices         []Choice         `bson:"choices,omitempty" json:"choices,omitempty"`
	Answers         []AcceptedAnswer `bson:"answers,omitempty" json:"answers,omitempty"`
	Numeric         []NumericAnswer  `bson:"numeric,omitempty" json:"numeric,omitempty"`
	Pairs           []Pair           `bson:"pairs,omitempty" json:"pairs,omitempty"`
	CaseSensitive   bool             `bson:"case_sensitive,omitempty" json:"case_sensitive,omitempty"`
	AccentSensitive bool             `bson:"accent_sensitive,omitempty" json:"accent_sensitive,omitempty"`
	Feedback        string           `bson:"feedback,omitempty" json:"feedback,omitempty"`
	Tags            []string         `bson:"tags" json:"tags"`
	Points          float64          `bson:"points" json:"points"`
	OwnerID         string           `bson:"owner_id" json:"owner_id"`
	// Archived questions are kept (attempts and quizzes may refer to them) but left out
	// of lists, exports and random draws.
	Archived  bool      `bson:"archived,omitempty" json:"archived,omitempty"`
	CreatedAt time.Time `bson:"created_at" json:"created_at"`
	UpdatedAt time.Time `bson:"updated_at" json:"updated_at"`
}

// QuestionInput is what a lecturer sends to create or edit a question.
type QuestionInput struct {
	Bank     string `json:"bank"`
	Category string `json:"category"`
	Type     Type   `json:"type"`
	Title    string `json:"title"`
	Format   string `json:"format"`
	Text     string `json:"text"`
	// Choices: for single and multiple, mark Correct ones (or give Fraction for partial
	// credit); for ordering, list them in the correct order. For true_false, either
	// choices with ids "true"/"false" or Answers: ["true"] / [false].
	Choices         []ChoiceInput    `json:"choices"`
	Answers         []AcceptedAnswer `json:"answers"`
	Numeric         []NumericAnswer  `json:"numeric"`
	Pairs           []Pair           `json:"pairs"`
	CaseSensitive   bool             `json:"case_sensitive"`
	AccentSensitive bool             `json:"accent_sensitive"`
	Feedback        string           `json:"feedback"`
	Tags            []string         `json:"tags"`
	// Points defaults to 1 (0 for a description).
	Points *float64 `json:"points"`
	// Version, on an edit, is the version the lecturer edited; a different current
	// version means someone else edited meanwhile (conflict). 0 skips the check.
	Version int `json:"version"`
}

// ChoiceInput is one choice as a lecturer sends it.
type ChoiceInput struct {
	ID       string   `json:"id"`
	Text     string   `json:"text"`
	Correct  bool     `json:"correct"`
	Fraction *float64 `json:"fraction"`
	Feedback string   `json:"feedback"`
}

// QuestionFilter selects bank questions.
type QuestionFilter struct {
	Bank     string
	Category string // this category and those below it
	Tags     []string
	Type     Type
	Limit    int
	Offset   int
}

// GradingMethod says how several attempts make one quiz grade.
type GradingMethod string

// The grading methods.
const (
	GradeHighest GradingMethod = "highest"
	GradeLast    GradingMethod = "last"
	GradeAverage GradingMethod = "average"
)

// ReviewOptions says what a learner sees of a submitted attempt.
type ReviewOptions struct {
	Score          bool `bson:"score" json:"score"`
	Responses      bool `bson:"responses" json:"responses"`
	CorrectAnswers bool `bson:"correct_answers" json:"correct_answers"`
	Feedback       bool `bson:"feedback" json:"feedback"`
}

// Review holds what learners see right after submitting and once the quiz has closed.
type Review struct {
	AfterSubmit ReviewOptions `bson:"after_submit" json:"after_submit"`
	AfterClose  ReviewOptions `bson:"after_close" json:"after_close"`
}

// DefaultReview shows score and responses after submitting, and everything after close.
var DefaultReview = Review{
	AfterSubmit: ReviewOptions{Score: true, Responses: true},
	AfterClose:  ReviewOptions{Score: true, Responses: true, CorrectAnswers: true, Feedback: true},
}

// RandomDraw draws Count questions from a bank for each attempt: questions in Category
// (or below it) that carry every one of Tags.
type RandomDraw struct {
	Bank     string   `bson:"bank" json:"bank"`
	Category string   `bson:"category,omitempty" json:"category,omitempty"`
	Tags     []string `bson:"tags,omitempty" json:"tags,omitempty"`
	Count    int      `bson:"count" json:"count"`
}

// Item is one slot of a quiz: a fixed question or a random draw. Points overrides the
// question's own points when above zero (for a draw, per drawn question).
type Item struct {
	QuestionID string      `bson:"question_id,omitempty" json:"question_id,omitempty"`
	Random     *RandomDraw `bson:"random,omitempty" json:"random,omitempty"`
	Points     float64     `bson:"points,omitempty" json:"points,omitempty"`
}

// Quiz is a graded test of a course.
type Quiz struct {
	ID          string     `bson:"_id" json:"id"`
	CourseID    string     `bson:"course_id" json:"course_id"`
	Title       string     `bson:"title" json:"title"`
	Description string     `bson:"description,omitempty" json:"description,omitempty"`
	OwnerID     string     `bson:"owner_id" json:"owner_id"`
	TimeLimitS  int        `bson:"time_limit_s" json:"time_limit_s"`
	OpensAt     *time.Time `bson:"opens_at,omitempty" json:"opens_at"`
	ClosesAt    *time.Time `bson:"closes_at,omitempty" json:"closes_at"`
	// MaxAttempts is 0 for unlimited.
	MaxAttempts int           `bson:"max_attempts" json:"max_attempts"`
	PassPercent float64       `bson:"pass_percent" json:"pass_percent"`
	Grading     GradingMethod `bson:"grading" json:"grading"`
	// Shuffle shuffles the questions and the choices of each attempt.
	Shuffle   bool      `bson:"shuffle" json:"shuffle"`
	Required  bool      `bson:"required" json:"required"`
	Review    Review    `bson:"review" json:"review"`
	Items     []Item    `bson:"items" json:"items"`
	CreatedAt time.Time `bson:"created_at" json:"created_at"`
	UpdatedAt time.Time `bson:"updated_at" json:"updated_at"`
}

// QuizInput is what a lecturer sends to create or edit a quiz.
type QuizInput struct {
	CourseID    string        `json:"course_id"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	TimeLimitS  int           `json:"time_limit_s"`
	OpensAt     *time.Time    `json:"opens_at"`
	ClosesAt    *time.Time    `json:"closes_at"`
	MaxAttempts int           `json:"max_attempts"`
	PassPercent *float64      `json:"pass_percent"`
	Grading     GradingMethod `json:"grading"`
	Shuffle     bool          `json:"shuffle"`
	Required    bool          `json:"required"`
	Review      *Review       `json:"review"`
	Items       []Item        `json:"items"`
}

// Accommodation gives one learner more time or attempts on one quiz.
type Accommodation struct {
	ID            string    `bson:"_id" json:"-"`
	QuizID        string    `bson:"quiz_id" json:"quiz_id"`
	UserID        string    `bson:"user_id" json:"user_id"`
	ExtraTimeS    int       `bson:"extra_time_s" json:"extra_time_s"`
	ExtraAttempts int       `bson:"extra_attempts" json:"extra_attempts"`
	UpdatedBy     string    `bson:"updated_by" json:"updated_by"`
	UpdatedAt     time.Time `bson:"updated_at" json:"updated_at"`
}

// Attempt statuses.
const (
	StatusOpen      = "open"
	StatusSubmitted = "submitted"
)

// Answer is a learner's response to one question, in the JSON shape natural to its type:
// a choice id (single, true_false may also send true/false), a list of choice ids
// (multiple, ordering), text (short_answer, essay), a number (numerical), or an object
// from left item id to the chosen right-hand text (matching). JSON null clears it.
type Answer struct {
	Text   string            `bson:"t,omitempty"`
	List   []string          `bson:"l,omitempty"`
	Number *float64          `bson:"n,omitempty"`
	Bool   *bool             `bson:"b,omitempty"`
	Pairs  map[string]string `bson:"p,omitempty"`
	// IsList tells an empty list (nothing chosen) from no list.
	IsList bool `bson:"il,omitempty"`
}

// IsEmpty reports whether the answer says nothing (JSON null).
func (a Answer) IsEmpty() bool {
	return a.Text == "" && a.List == nil && !a.IsList && a.Number == nil && a.Bool == nil && a.Pairs == nil
}

// UnmarshalJSON reads any of the shapes Answer describes.
func (a *Answer) UnmarshalJSON(b []byte) error {
	*a = Answer{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return fmt.Errorf("empty answer")
	}
	switch b[0] {
	case 'n':
		if string(b) != "null" {
			return fmt.Errorf("answer is not valid JSON")
		}
		return nil
	case '"':
		return json.Unmarshal(b, &a.Text)
	case 't', 'f':
		var v bool
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		a.Bool = &v
		return nil
	case '[':
		a.IsList = true
		if err := json.Unmarshal(b, &a.List); err != nil {
			return fmt.Errorf("answer list must hold strings")
		}
		if a.List == nil {
			a.List = []string{}
		}
		return nil
	case '{':
		if err := json.Unmarshal(b, &a.Pairs); err != nil {
			return fmt.Errorf("answer object must map strings to strings")
		}
		if a.Pairs == nil {
			a.Pairs = map[string]string{}
		}
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("answer is not a string, number, boolean, list or object")
	}
	a.Number = &f
	return nil
}

// MarshalJSON writes the answer back in the shape it came in.
func (a Answer) MarshalJSON() ([]byte, error) {
	switch {
	case a.Pairs != nil:
		return json.Marshal(a.Pairs)
	case a.List != nil || a.IsList:
		if a.List == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(a.List)
	case a.Number != nil:
		return []byte(strconv.FormatFloat(*a.Number, 'g', -1, 64)), nil
	case a.Bool != nil:
		return json.Marshal(*a.Bool)
	case a.Text != "":
		return json.Marshal(a.Text)
	}
	return []byte("null"), nil
}

// AttemptQuestion is one question as given to an attempt: which version of which bank
// question, the points it is worth here, and the order its choices (or matching options)
// are shown in for this attempt. The version's content is an immutable snapshot in
// question_versions (key "id:version"), shared by every attempt given that version, so
// an edit never changes what an attempt was given and a province sitting one exam does
// not store the same question text thousands of times. Question holds that snapshot in
// memory once the attempt is loaded.
type AttemptQuestion struct {
	QuestionID  string   `bson:"qid" json:"question_id"`
	Version     int      `bson:"v" json:"version"`
	Points      float64  `bson:"points" json:"points"`
	ChoiceOrder []string `bson:"choice_order,omitempty" json:"choice_order,omitempty"`
	// OptionOrder lists the right-hand texts of a matching question in display order.
	OptionOrder []string `bson:"option_order,omitempty" json:"option_order,omitempty"`
	Question    Question `bson:"-" json:"question"`
}

func snapshotKey(id string, version int) string { return fmt.Sprintf("%s:%d", id, version) }

// EssayGrade is a lecturer's or trainer's mark for one essay answer.
type EssayGrade struct {
	Score    float64   `bson:"score" json:"score"`
	Comment  string    `bson:"comment,omitempty" json:"comment,omitempty"`
	GradedBy string    `bson:"graded_by" json:"graded_by"`
	GradedAt time.Time `bson:"graded_at" json:"graded_at"`
}

// Question result statuses.
const (
	ResultCorrect    = "correct"
	ResultPartial    = "partial"
	ResultWrong      = "wrong"
	ResultUnanswered = "unanswered"
	ResultPending    = "pending"  // an essay waiting for a grader
	ResultUngraded   = "ungraded" // a description carries no points
)

// QuestionResult is the grade of one question of an attempt.
type QuestionResult struct {
	QuestionID string  `bson:"question_id" json:"question_id"`
	Score      float64 `bson:"score" json:"score"`
	MaxScore   float64 `bson:"max_score" json:"max_score"`
	Status     string  `bson:"status" json:"status"`
}

// Result is the grade of a submitted attempt.
type Result struct {
	Score    float64 `bson:"score" json:"score"`
	MaxScore float64 `bson:"max_score" json:"max_score"`
	Percent  float64 `bson:"percent" json:"percent"`
	Passed   bool    `bson:"passed" json:"passed"`
	// Pending counts essays still waiting for a grader; Passed is false until it is 0.
	Pending int `bson:"pending" json:"pending"`
	// Questions is recomputed from the attempt's paper and answers whenever the attempt
	// is loaded (grading is pure), so the stored document stays small: FerretDB decodes
	// every document of a collection each time a query scans it (results lists, essays to
	// grade), and re-encodes the whole document on each of an exam's thousands of updates.
	Questions []QuestionResult `bson:"-" json:"questions"`
}

// Attempt is one sitting of a quiz by one learner, with the answer keys of the questions
// it was given. Only staff views expose it whole.
type Attempt struct {
	ID       string `bson:"_id" json:"id"`
	QuizID   string `bson:"quiz_id" json:"quiz_id"`
	CourseID string `bson:"course_id" json:"course_id"`
	UserID   string `bson:"user_id" json:"user_id"`
	// Number counts the learner's attempts at the quiz from 1; (quiz, user, number) is
	// unique, so two simultaneous starts cannot both create attempt n.
	Number int    `bson:"number" json:"number"`
	Status string `bson:"status" json:"status"`
	// OpenKey is "quiz|user" while the attempt is open and absent after; a unique sparse
	// index on it allows one open attempt per learner and quiz.
	OpenKey     string     `bson:"open_key,omitempty" json:"-"`
	StartedAt   time.Time  `bson:"started_at" json:"started_at"`
	Deadline    *time.Time `bson:"deadline,omitempty" json:"deadline"`
	SubmittedAt *time.Time `bson:"submitted_at,omitempty" json:"submitted_at,omitempty"`
	ClosedBy    string     `bson:"closed_by,omitempty" json:"closed_by,omitempty"`
	// Questions is the attempt's paper, stored once in attempt_papers (it never changes)
	// and kept out of the attempt document for the same reason as Result.Questions.
	Questions   []AttemptQuestion     `bson:"-" json:"questions"`
	Answers     map[string]Answer     `bson:"answers" json:"answers"`
	SavedAt     *time.Time            `bson:"saved_at,omitempty" json:"saved_at,omitempty"`
	EssayGrades map[string]EssayGrade `bson:"essay_grades,omitempty" json:"essay_grades,omitempty"`
	Graded      bool                  `bson:"graded" json:"graded"`
	Result      *Result               `bson:"result,omitempty" json:"result,omitempty"`
	// ResultRev grows with every change of Result, so essay grading can update it with
	// a compare-and-set.
	ResultRev int `bson:"result_rev" json:"-"`
	// PassPercent and Required are copied from the quiz at start, so grading needs
	// nothing but the attempt.
	PassPercent float64 `bson:"pass_percent" json:"pass_percent"`
	Required    bool    `bson:"required" json:"required"`
}

// MarshalBSONValue stores an answer as its JSON text: one string value instead of a
// sub-document, because FerretDB's cost of scanning a collection grows with the number of
// values in it, and answers are most of an attempt.
func (a Answer) MarshalBSONValue() (byte, []byte, error) {
	js, err := a.MarshalJSON()
	if err != nil {
		return 0, nil, err
	}
	t, data, err := bson.MarshalValue(string(js))
	return byte(t), data, err
}

// UnmarshalBSONValue reads an answer stored by MarshalBSONValue.
func (a *Answer) UnmarshalBSONValue(t byte, data []byte) error {
	var s string
	if err := bson.UnmarshalValue(bson.Type(t), data, &s); err != nil {
		return fmt.Errorf("stored answer: %w", err)
	}
	return a.UnmarshalJSON([]byte(s))
}
