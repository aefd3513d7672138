// Package courses owns what is learnt and who learns it: the catalog, course outlines
// (modules and lessons) with immutable published revisions, classes (cohorts of a course
// revision with dates, capacity and trainers), enrolment, lesson progress from player
// heartbeats, and lesson and course completion.
package courses

import (
	"time"
)

// Status is where a course is in its life.
type Status string

// The course statuses.
const (
	StatusDraft     Status = "draft"     // never published; only its owner and admins see it
	StatusPublished Status = "published" // in the catalog; classes may be opened
	StatusArchived  Status = "archived"  // out of the catalog; running classes continue
)

// Valid reports whether s is one of the course statuses.
func (s Status) Valid() bool {
	return s == StatusDraft || s == StatusPublished || s == StatusArchived
}

// Kind is what a lesson presents.
type Kind string

// The lesson kinds.
const (
	KindVideo  Kind = "video"
	KindPDF    Kind = "pdf"
	KindSlides Kind = "slides"
	KindText   Kind = "text"
)

// Valid reports whether k is one of the lesson kinds.
func (k Kind) Valid() bool {
	return k == KindVideo || k == KindPDF || k == KindSlides || k == KindText
}

// Paged reports whether the lesson is completed page by page.
func (k Kind) Paged() bool { return k == KindPDF || k == KindSlides }

// Lesson is one item of a module. Its ID stays the same across revisions, so progress
// recorded against one revision carries over to the next.
type Lesson struct {
	ID        string `bson:"id" json:"id"`
	Title     string `bson:"title" json:"title"`
	Kind      Kind   `bson:"kind" json:"kind"`
	MediaID   string `bson:"media_id,omitempty" json:"media_id,omitempty"`
	Body      string `bson:"body,omitempty" json:"body,omitempty"`
	DurationS int    `bson:"duration_s,omitempty" json:"duration_s,omitempty"` // video length in seconds
	Pages     int    `bson:"pages,omitempty" json:"pages,omitempty"`           // page or slide count
}

// Module is an ordered group of lessons.
type Module struct {
	ID      string   `bson:"id" json:"id"`
	Title   string   `bson:"title" json:"title"`
	Lessons []Lesson `bson:"lessons" json:"lessons"`
}

// Course is a catalog entry with its working outline. Modules is the outline being
// edited; once the course is published, learners and classes see the immutable revision
// snapshots instead (see Revision), so edits never disturb a running class.
type Course struct {
	ID          string   `bson:"_id" json:"id"`
	Code        string   `bson:"code" json:"code"`
	Title       string   `bson:"title" json:"title"`
	Category    Category `bson:"category" json:"category"`
	Description string   `bson:"description" json:"description"`
	OwnerID     string   `bson:"owner_id" json:"owner_id"`
	Status      Status   `bson:"status" json:"status"`
	// Revision is the number of the latest published revision; 0 before the first publish.
	Revision int `bson:"revision" json:"revision"`
	// DraftChanges is true when the working outline differs from the latest revision.
	DraftChanges bool     `bson:"draft_changes" json:"draft_changes"`
	Modules      []Module `bson:"modules" json:"modules"`
	// OutlineVersion increases on every outline edit; edits are compare-and-set on it.
	OutlineVersion int        `bson:"outline_version" json:"-"`
	CreatedAt      time.Time  `bson:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `bson:"updated_at" json:"updated_at"`
	PublishedAt    *time.Time `bson:"published_at,omitempty" json:"published_at,omitempty"`

	CodeKey     string `bson:"code_key" json:"-"`     // upper-cased code, unique
	SearchFold  string `bson:"search_fold" json:"-"`  // textfold.Fold of code, title, category label, description
	SearchLower string `bson:"search_lower" json:"-"` // textfold.Lower of the same, to rank exact-accent matches
}

// CourseSummary is a course as the catalog lists it, without its outline.
type CourseSummary struct {
	ID          string     `bson:"_id" json:"id"`
	Code        string     `bson:"code" json:"code"`
	Title       string     `bson:"title" json:"title"`
	Category    Category   `bson:"category" json:"category"`
	Description string     `bson:"description" json:"description"`
	OwnerID     string     `bson:"owner_id" json:"owner_id"`
	Status      Status     `bson:"status" json:"status"`
	Revision    int        `bson:"revision" json:"revision"`
	CreatedAt   time.Time  `bson:"created_at" json:"created_at"`
	UpdatedAt   time.Time  `bson:"updated_at" json:"updated_at"`
	PublishedAt *time.Time `bson:"published_at,omitempty" json:"published_at,omitempty"`

	SearchFold  string `bson:"search_fold" json:"-"`
	SearchLower string `bson:"search_lower" json:"-"`
}

// Revision is an immutable snapshot of a course outline, made by each publish. Classes
// run on one revision.
type Revision struct {
	ID          string    `bson:"_id" json:"id"`
	CourseID    string    `bson:"course_id" json:"course_id"`
	Revision    int       `bson:"revision" json:"revision"`
	Code        string    `bson:"code" json:"code"`
	Title       string    `bson:"title" json:"title"`
	Category    Category  `bson:"category" json:"category"`
	Modules     []Module  `bson:"modules" json:"modules"`
	PublishedAt time.Time `bson:"published_at" json:"published_at"`
	PublishedBy string    `bson:"published_by" json:"published_by"`
}

// Lessons returns the revision's lessons in outline order.
func (r *Revision) Lessons() []Lesson { return outlineLessons(r.Modules) }

func outlineLessons(modules []Module) []Lesson {
	var out []Lesson
	for _, m := range modules {
		out = append(out, m.Lessons...)
	}
	return out
}

// CourseView is a course with the outline the caller should see: the working outline
// for its owner and admins, the latest published revision for everyone else.
type CourseView struct {
	Course
	// OutlineRevision is the revision whose outline Modules holds; 0 for the working
	// outline.
	OutlineRevision int `json:"outline_revision"`
	// Editable tells a client whether the caller may change the course.
	Editable bool `json:"editable"`
}

// Class is a cohort taking one revision of a course between two dates.
type Class struct {
	ID          string    `bson:"_id" json:"id"`
	CourseID    string    `bson:"course_id" json:"course_id"`
	CourseCode  string    `bson:"course_code" json:"course_code"`
	CourseTitle string    `bson:"course_title" json:"course_title"`
	Revision    int       `bson:"revision" json:"revision"`
	Name        string    `bson:"name" json:"name"`
	StartsAt    time.Time `bson:"starts_at" json:"starts_at"`
	EndsAt      time.Time `bson:"ends_at" json:"ends_at"`
	// Capacity is the most learners the class takes; 0 means no limit.
	Capacity   int      `bson:"capacity" json:"capacity"`
	TrainerIDs []string `bson:"trainer_ids" json:"trainer_ids"`
	// Enrolled counts enrolments; seats are reserved on it before inserting enrolments, so
	// concurrent enrolments never exceed Capacity.
	Enrolled int `bson:"enrolled" json:"enrolled"`
	// SeatsReservedAt is when seats were last reserved (see repairSeats).
	SeatsReservedAt time.Time `bson:"seats_reserved_at,omitempty" json:"-"`
	CreatedBy       string    `bson:"created_by" json:"created_by"`
	CreatedAt       time.Time `bson:"created_at" json:"created_at"`
	UpdatedAt       time.Time `bson:"updated_at" json:"updated_at"`
}

// Summary is a learner's progress in a class, kept on the enrolment so that lists need no
// per-learner queries.
type Summary struct {
	Percent          int        `bson:"percent" json:"percent"`
	CompletedLessons int        `bson:"completed_lessons" json:"completed_lessons"`
	TotalLessons     int        `bson:"total_lessons" json:"total_lessons"`
	Completed        bool       `bson:"completed" json:"completed"`
	CompletedAt      *time.Time `bson:"completed_at,omitempty" json:"completed_at,omitempty"`
	LastActivityAt   *time.Time `bson:"last_activity_at,omitempty" json:"last_activity_at,omitempty"`
}

// Enrolment is one learner in one class, with the learner's name and unit and the class's
// course copied in so that both "my classes" and "a class's learners" are single finds.
type Enrolment struct {
	ID          string    `bson:"_id" json:"id"`
	ClassID     string    `bson:"class_id" json:"class_id"`
	ClassName   string    `bson:"class_name" json:"class_name"`
	CourseID    string    `bson:"course_id" json:"course_id"`
	CourseTitle string    `bson:"course_title" json:"course_title"`
	StartsAt    time.Time `bson:"starts_at" json:"starts_at"`
	EndsAt      time.Time `bson:"ends_at" json:"ends_at"`
	UserID      string    `bson:"user_id" json:"user_id"`
	Username    string    `bson:"username" json:"username"`
	FullName    string    `bson:"full_name" json:"full_name"`
	UnitID      string    `bson:"unit_id" json:"unit_id"`
	Position    string    `bson:"position,omitempty" json:"position,omitempty"`
	EnrolledAt  time.Time `bson:"enrolled_at" json:"enrolled_at"`
	EnrolledBy  string    `bson:"enrolled_by" json:"enrolled_by"`
	Progress    Summary   `bson:"progress" json:"progress"`
}

// EnrolResult says what an enrolment request did. Enrolling someone twice is harmless:
// they are counted in Already.
type EnrolResult struct {
	Enrolled int `json:"enrolled"`
	Already  int `json:"already"`
	// Refused lists learners not enrolled, each with why ("capacity", "inactive").
	Refused []Refusal `json:"refused,omitempty"`
}

// Refusal names a learner who was not enrolled and why.
type Refusal struct {
	UserID string `json:"user_id"`
	Reason string `json:"reason"`
}

// Heartbeat is what a lesson player reports, every 15 s or so and when a lesson opens.
// Watched holds the [from, to] second ranges played since the lesson opened (sending
// ranges again is harmless); PagesViewed the 1-based pages or slides shown.
type Heartbeat struct {
	PositionS   float64      `json:"position_s"`
	Watched     [][2]float64 `json:"watched"`
	PagesViewed []int        `json:"pages_viewed"`
}

// LessonResult is the server's view of a lesson after a heartbeat.
type LessonResult struct {
	Percent   int  `json:"percent"`
	Completed bool `json:"completed"`
}

// LessonProgress is a learner's progress in one lesson of a class.
type LessonProgress struct {
	LessonID    string     `json:"lesson_id"`
	ModuleID    string     `json:"module_id"`
	Title       string     `json:"title"`
	Kind        Kind       `json:"kind"`
	Percent     int        `json:"percent"`
	Completed   bool       `json:"completed"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	PositionS   float64    `json:"position_s"`
	PagesViewed []int      `json:"pages_viewed,omitempty"`
}

// ClassProgress is a learner's progress in a class: every lesson and the course.
type ClassProgress struct {
	ClassID     string           `json:"class_id"`
	CourseID    string           `json:"course_id"`
	Revision    int              `json:"revision"`
	Percent     int              `json:"percent"`
	Completed   bool             `json:"completed"`
	CompletedAt *time.Time       `json:"completed_at,omitempty"`
	Lessons     []LessonProgress `json:"lessons"`
}
