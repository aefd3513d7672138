package reports

import (
	"time"
)

// Metric is what counts as done for a target.
type Metric string

// The target metrics.
const (
	// MetricCompleted: the learner completed a class of the course (every lesson and every
	// required quiz, as courses decides).
	MetricCompleted Metric = "completed"
	// MetricPassed: the learner passed the target's quiz, or, when the target names none,
	// every required quiz of the course (any quiz of it when none is required).
	MetricPassed Metric = "passed"
	// MetricAttended: the learner was present at least MinMinutes in the live sessions of
	// the course's classes, added up.
	MetricAttended Metric = "attended"
)

// Valid reports whether m is one of the metrics.
func (m Metric) Valid() bool {
	return m == MetricCompleted || m == MetricPassed || m == MetricAttended
}

// Target is a training target of a unit, covering the unit and every unit below it:
// Percent of the counted staff must be done by the end of Due (a date in Vietnam time).
type Target struct {
	ID          string `bson:"_id" json:"id"`
	UnitID      string `bson:"unit_id" json:"unit_id"`
	UnitName    string `bson:"unit_name" json:"unit_name"`
	Title       string `bson:"title" json:"title"`
	Metric      Metric `bson:"metric" json:"metric"`
	CourseID    string `bson:"course_id" json:"course_id"`
	CourseTitle string `bson:"course_title" json:"course_title"`
	QuizID      string `bson:"quiz_id,omitempty" json:"quiz_id,omitempty"`
	MinMinutes  int    `bson:"min_minutes,omitempty" json:"min_minutes,omitempty"`
	// Positions, when not empty, limits who is counted to staff holding one of these
	// positions (compared ignoring case and diacritics).
	Positions []string `bson:"positions" json:"positions"`
	Percent   float64  `bson:"percent" json:"percent"`
	// Due is the last day, "2025-12-31"; DueAt is the instant that day ends in Vietnam.
	Due       string    `bson:"due" json:"due"`
	DueAt     time.Time `bson:"due_at" json:"due_at"`
	CreatedBy string    `bson:"created_by" json:"created_by"`
	CreatedAt time.Time `bson:"created_at" json:"created_at"`
	UpdatedAt time.Time `bson:"updated_at" json:"updated_at"`
}

// NewTarget is the input of CreateTarget.
type NewTarget struct {
	UnitID     string   `json:"unit_id"`
	Title      string   `json:"title"`
	CourseID   string   `json:"course_id"`
	Metric     Metric   `json:"metric"`
	QuizID     string   `json:"quiz_id"`
	MinMinutes int      `json:"min_minutes"`
	Percent    float64  `json:"percent"`
	Due        string   `json:"due"`
	Positions  []string `json:"positions"`
}

// Pace says whether a unit is on course to meet a target.
type Pace string

// The paces. See OnPace for the rule.
const (
	PaceMet     Pace = "met"      // the target percent is already reached
	PaceOnTrack Pace = "on_track" // at the current pace it will be reached by the due date
	PaceBehind  Pace = "behind"   // at the current pace it will not
	PaceOverdue Pace = "overdue"  // the due date passed without reaching it
	PaceNoStaff Pace = "no_staff" // nobody is counted in this unit
)

// UnitRef names a unit in reports.
type UnitRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Code string `json:"code"`
}

// StatusNode is a unit's figures for a target, rolled up over its sub-units.
type StatusNode struct {
	Unit  UnitRef `json:"unit"`
	Depth int     `json:"depth"` // 0 for the root of the status
	// Staff is the number of people counted in the unit and every unit below it; Done is
	// how many of them are done.
	Staff   int     `json:"staff"`
	Done    int     `json:"done"`
	Percent float64 `json:"percent"` // 100*Done/Staff, one decimal; 0 when Staff is 0
	// ProjectedPercent is Percent projected to the due date at the pace since creation.
	ProjectedPercent float64 `json:"projected_percent"`
	Pace             Pace    `json:"pace"`
	OnTrack          bool    `json:"on_track"`
	// DirectStaff and DirectDone count the unit's own people, without sub-units.
	DirectStaff int           `json:"direct_staff"`
	DirectDone  int           `json:"direct_done"`
	Children    []*StatusNode `json:"children"`
}

// TargetStatus is a target's status rolled up over the unit tree below Unit; the root
// node's fields are at the top level, as API.md shows it.
type TargetStatus struct {
	StatusNode
	Target Target    `json:"target"`
	AsOf   time.Time `json:"as_of"`
}

// Person is somebody counted by a target, for drill-down lists.
type Person struct {
	UserID   string `json:"user_id"`
	FullName string `json:"full_name"`
	Username string `json:"username"`
	UnitID   string `json:"unit_id"`
	UnitName string `json:"unit_name"`
	Position string `json:"position"`
	// Progress is the best course progress percent (metric completed), the best quiz
	// percent (passed) or the minutes present (attended).
	Progress float64 `json:"progress"`
}

// TargetSummary is one target on a unit's dashboard: the unit's figures and one level of
// sub-units.
type TargetSummary struct {
	Target Target      `json:"target"`
	Status *StatusNode `json:"status"`
}

// Dashboard is what a personnel officer sees for a unit: every target covering it.
type Dashboard struct {
	Unit    UnitRef         `json:"unit"`
	Targets []TargetSummary `json:"targets"`
	AsOf    time.Time       `json:"as_of"`
}

// Plan is a unit's yearly training plan: the classes or courses it means to run and how
// many learners each should train.
type Plan struct {
	ID        string     `bson:"_id" json:"id"`
	UnitID    string     `bson:"unit_id" json:"unit_id"`
	UnitName  string     `bson:"unit_name" json:"unit_name"`
	Year      int        `bson:"year" json:"year"`
	Title     string     `bson:"title" json:"title"`
	Items     []PlanItem `bson:"items" json:"items"`
	CreatedBy string     `bson:"created_by" json:"created_by"`
	CreatedAt time.Time  `bson:"created_at" json:"created_at"`
	UpdatedAt time.Time  `bson:"updated_at" json:"updated_at"`
}

// PlanItem is one line of a plan. With ClassID it counts that class; without, every class
// of the course that starts in the plan's year (Vietnam time).
type PlanItem struct {
	ID            string `bson:"id" json:"id"`
	CourseID      string `bson:"course_id" json:"course_id"`
	ClassID       string `bson:"class_id,omitempty" json:"class_id,omitempty"`
	Title         string `bson:"title" json:"title"`
	Category      string `bson:"category" json:"category"`
	CategoryLabel string `bson:"category_label" json:"category_label"`
	Planned       int    `bson:"planned" json:"planned"`
}

// PlanInput is the input of CreatePlan and UpdatePlan (UnitID and Year are fixed once
// created).
type PlanInput struct {
	UnitID string          `json:"unit_id"`
	Year   int             `json:"year"`
	Title  string          `json:"title"`
	Items  []PlanItemInput `json:"items"`
}

// PlanItemInput is one line of a PlanInput.
type PlanItemInput struct {
	CourseID string `json:"course_id"`
	ClassID  string `json:"class_id"`
	Planned  int    `json:"planned"`
}

// PlanFigures compares planned and actual learners.
type PlanFigures struct {
	Planned int `json:"planned"`
	// Enrolled and Completed count distinct learners (a learner in two classes of the same
	// item counts once).
	Enrolled         int     `json:"enrolled"`
	Completed        int     `json:"completed"`
	EnrolledPercent  float64 `json:"enrolled_percent"`  // 100*Enrolled/Planned; 0 without a plan
	CompletedPercent float64 `json:"completed_percent"` // 100*Completed/Planned: "đạt 82,5% so với kế hoạch"
}

// PlanItemReport is one plan line with its figures.
type PlanItemReport struct {
	Item PlanItem `json:"item"`
	PlanFigures
}

// PlanCategoryReport is the figures of every plan line of one content area.
type PlanCategoryReport struct {
	Category      string `json:"category"`
	CategoryLabel string `json:"category_label"`
	PlanFigures
}

// PlanUnitReport is one row of a plan report by unit: first the plan's unit with every
// figure (depth 0), then its own staff outside any sub-unit ("(trực thuộc)", when there
// are sub-units and such learners), then each direct sub-unit with everything below it
// (depth 1). A sub-unit's Planned is its own plan for the year when it has one, else the
// sum of its sub-units' plans.
type PlanUnitReport struct {
	Unit  UnitRef `json:"unit"`
	Depth int     `json:"depth"`
	PlanFigures
}

// PlanReport compares a plan with what happened.
type PlanReport struct {
	Plan       Plan                 `json:"plan"`
	Total      PlanFigures          `json:"total"`
	Summary    string               `json:"summary"` // "Đạt 82,5% so với kế hoạch (3.865/4.686 học viên)"
	Items      []PlanItemReport     `json:"items"`
	ByCategory []PlanCategoryReport `json:"by_category"`
	ByUnit     []PlanUnitReport     `json:"by_unit"`
	AsOf       time.Time            `json:"as_of"`
}

// Certificate is a giấy chứng nhận issued once when a learner completes a class.
type Certificate struct {
	ID          string     `bson:"_id" json:"id"`
	Number      string     `bson:"number,omitempty" json:"number"` // HT-2026-000123
	ClassID     string     `bson:"class_id" json:"class_id"`
	ClassName   string     `bson:"class_name" json:"class_name"`
	CourseID    string     `bson:"course_id" json:"course_id"`
	CourseCode  string     `bson:"course_code" json:"course_code"`
	CourseTitle string     `bson:"course_title" json:"course_title"`
	UserID      string     `bson:"user_id" json:"user_id"`
	LearnerName string     `bson:"learner_name" json:"learner_name"`
	Username    string     `bson:"username" json:"username"`
	UnitID      string     `bson:"unit_id" json:"unit_id"`
	UnitName    string     `bson:"unit_name" json:"unit_name"`
	Position    string     `bson:"position" json:"position"`
	StartsAt    time.Time  `bson:"starts_at" json:"starts_at"`
	EndsAt      time.Time  `bson:"ends_at" json:"ends_at"`
	CompletedAt time.Time  `bson:"completed_at" json:"completed_at"`
	Result      string     `bson:"result" json:"result"` // "Hoàn thành", with the quiz score when there is one
	Score       *float64   `bson:"score,omitempty" json:"score,omitempty"`
	IssuedAt    time.Time  `bson:"issued_at" json:"issued_at"`
	Revoked     bool       `bson:"revoked" json:"revoked"`
	RevokedAt   *time.Time `bson:"revoked_at,omitempty" json:"revoked_at,omitempty"`
	RevokedBy   string     `bson:"revoked_by,omitempty" json:"revoked_by,omitempty"`
	RevokeNote  string     `bson:"revoke_reason,omitempty" json:"revoke_reason,omitempty"`
	VerifyURL   string     `bson:"-" json:"verify_url,omitempty"`
}

// VerifiedCertificate is all that the public verification of a number reveals.
type VerifiedCertificate struct {
	Number      string    `json:"number"`
	LearnerName string    `json:"learner_name"`
	CourseTitle string    `json:"course_title"`
	IssuedAt    time.Time `json:"issued_at"`
	Revoked     bool      `json:"revoked"`
}
