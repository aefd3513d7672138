package reports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/internal/errs"
)

// Directory is what reports needs from accounts. *accounts.Service satisfies it.
type Directory interface {
	// FindUnitByID returns a unit; an error wrapping errs.ErrNotFound when unknown.
	FindUnitByID(ctx context.Context, id string) (accounts.Unit, error)
	// AllUnits returns every unit, parents before children.
	AllUnits(ctx context.Context) ([]accounts.Unit, error)
	// FindUnitsByIDs returns the units among ids that exist.
	FindUnitsByIDs(ctx context.Context, unitIDs []string) ([]accounts.Unit, error)
	// ListUsersInUnits returns the active users whose unit is one of unitIDs.
	ListUsersInUnits(ctx context.Context, unitIDs []string) ([]accounts.User, error)
	// FindUsersByIDs returns the users (active or not) among ids that exist.
	FindUsersByIDs(ctx context.Context, userIDs []string) ([]accounts.User, error)
}

// CourseInfo is a course as reports shows it.
type CourseInfo struct {
	ID            string
	Code          string
	Title         string
	Category      string // the category slug
	CategoryLabel string // its Vietnamese label
}

// ClassInfo is a class as reports shows it.
type ClassInfo struct {
	ID         string
	CourseID   string
	Name       string
	StartsAt   time.Time
	EndsAt     time.Time
	TrainerIDs []string
}

// EnrolmentRecord is one learner in one class with the progress summary courses keeps.
// UnitID and Position are the learner's at enrolment time; reports uses the learner's
// current unit from the Directory instead wherever a unit is shown or counted.
type EnrolmentRecord struct {
	ClassID     string
	CourseID    string
	ClassStarts time.Time
	UserID      string
	FullName    string
	Username    string
	UnitID      string
	Position    string
	EnrolledAt  time.Time
	Percent     int
	Completed   bool
	CompletedAt *time.Time
}

// Learning is what reports needs from courses: courses, classes and enrolments with their
// progress summary. The server adapts *courses.Service to it.
type Learning interface {
	// FindCourse returns a course; an error wrapping errs.ErrNotFound when unknown.
	FindCourse(ctx context.Context, courseID string) (CourseInfo, error)
	// FindClass returns a class; an error wrapping errs.ErrNotFound when unknown.
	FindClass(ctx context.Context, classID string) (ClassInfo, error)
	// CourseEnrolments returns every enrolment in every class of the course.
	CourseEnrolments(ctx context.Context, courseID string) ([]EnrolmentRecord, error)
	// ClassEnrolments returns every enrolment of the class.
	ClassEnrolments(ctx context.Context, classID string) ([]EnrolmentRecord, error)
	// FindEnrolment returns one learner's enrolment in a class; an error wrapping
	// errs.ErrNotFound when the learner is not enrolled.
	FindEnrolment(ctx context.Context, classID, userID string) (EnrolmentRecord, error)
	// UserEnrolments returns every enrolment of one learner.
	UserEnrolments(ctx context.Context, userID string) ([]EnrolmentRecord, error)
}

// QuizInfo is one quiz of a course.
type QuizInfo struct {
	ID       string
	Title    string
	Required bool
}

// QuizResult is a learner's best result in one quiz.
type QuizResult struct {
	QuizID      string
	UserID      string
	BestPercent float64 // 0..100
	Passed      bool
	PassedAt    *time.Time
	Attempts    int
}

// CourseQuizResults is the quizzes of a course and every learner's best result in them.
type CourseQuizResults struct {
	Quizzes []QuizInfo
	Results []QuizResult
}

// Quizzes is what reports needs from assessment. A nil Quizzes means no course has quizzes.
type Quizzes interface {
	CourseQuizResults(ctx context.Context, courseID string) (CourseQuizResults, error)
}

// SessionAttendance is one live session of a class and who attended it.
type SessionAttendance struct {
	SessionID string
	Title     string
	StartsAt  time.Time
	Learners  []LearnerAttendance
}

// LearnerAttendance is one learner's presence in one live session.
type LearnerAttendance struct {
	UserID   string
	JoinedAt *time.Time
	LeftAt   *time.Time
	Minutes  int
}

// Attendance is what reports needs from courses/live. A nil Attendance means no live
// sessions are recorded.
type Attendance interface {
	// ClassAttendance returns the live sessions of a class with their attendance.
	ClassAttendance(ctx context.Context, classID string) ([]SessionAttendance, error)
	// CourseAttendanceMinutes returns, per user, the minutes present in live sessions of
	// every class of the course.
	CourseAttendanceMinutes(ctx context.Context, courseID string) (map[string]int, error)
}

// ActiveStaffLister is an optional extension of Directory: every active user with only
// the fields reports uses. Roll-ups use it when the Directory has it, because reading
// whole user documents of a province (40,000 of them) is many times slower.
type ActiveStaffLister interface {
	ListActiveStaff(ctx context.Context) ([]accounts.User, error)
}

// AccountsDirectory is the Directory the server gives reports: the accounts service, plus
// ListActiveStaff, a read-only find on accounts' users collection with a projection
// (accounts offers no projected listing; its exported User type is the schema read).
type AccountsDirectory struct {
	*accounts.Service
	users *mongo.Collection
}

// NewAccountsDirectory wraps the accounts service over db.
func NewAccountsDirectory(acc *accounts.Service, db *mongo.Database) *AccountsDirectory {
	return &AccountsDirectory{Service: acc, users: db.Collection(accounts.UsersCollection)}
}

// staffProjection is the fields of a user document reports reads.
var staffProjection = bson.M{"_id": 1, "username": 1, "full_name": 1, "unit_id": 1, "position": 1, "active": 1, "name_fold": 1}

// ListActiveStaff returns every active user with id, username, full name, unit, position
// and the folded name; nothing else is read.
func (d *AccountsDirectory) ListActiveStaff(ctx context.Context) ([]accounts.User, error) {
	cur, err := d.users.Find(ctx, bson.M{"active": true}, options.Find().SetProjection(staffProjection).SetBatchSize(5000))
	if err != nil {
		return nil, fmt.Errorf("reports: find staff: %w", dbErr(err))
	}
	out := []accounts.User{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("reports: read staff: %w", dbErr(err))
	}
	return out, nil
}

// FindStaff returns one user, active or not, with the fields ListActiveStaff reads: a find
// by _id, which embedded FerretDB answers without scanning the collection (a find with
// $in scans it: seconds at 40,000 users). It returns an error wrapping errs.ErrNotFound
// for an unknown id.
func (d *AccountsDirectory) FindStaff(ctx context.Context, userID string) (accounts.User, error) {
	var u accounts.User
	err := d.users.FindOne(ctx, bson.M{"_id": userID}, options.FindOne().SetProjection(staffProjection)).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return accounts.User{}, fmt.Errorf("user %s: %w", userID, errs.ErrNotFound)
	}
	if err != nil {
		return accounts.User{}, fmt.Errorf("reports: find user %s: %w", userID, dbErr(err))
	}
	return u, nil
}

// EnrolmentsCollection is the courses package's collection of enrolments (courses.
// CollEnrolments; a server test checks they agree).
const EnrolmentsCollection = "enrolments"

// EnrolmentReader reads enrolments for reports straight from the courses package's
// collection: read-only, one find per course or class, with a projection. Courses offers
// only paged reads (500 learners a page), and on FerretDB each page scans the whole
// collection, so a course with 30,000 learners would take sixty scans. The documents are
// courses.Enrolment; the fields read are listed in enrolmentProjection.
type EnrolmentReader struct {
	coll *mongo.Collection
}

// NewEnrolmentReader reads enrolments from db.
func NewEnrolmentReader(db *mongo.Database) *EnrolmentReader {
	return &EnrolmentReader{coll: db.Collection(EnrolmentsCollection)}
}

var enrolmentProjection = bson.M{
	"class_id": 1, "course_id": 1, "starts_at": 1, "user_id": 1, "username": 1, "full_name": 1, "unit_id": 1,
	"position": 1, "enrolled_at": 1, "progress.percent": 1, "progress.completed": 1, "progress.completed_at": 1,
}

type enrolmentDoc struct {
	ClassID    string    `bson:"class_id"`
	CourseID   string    `bson:"course_id"`
	StartsAt   time.Time `bson:"starts_at"`
	UserID     string    `bson:"user_id"`
	Username   string    `bson:"username"`
	FullName   string    `bson:"full_name"`
	UnitID     string    `bson:"unit_id"`
	Position   string    `bson:"position"`
	EnrolledAt time.Time `bson:"enrolled_at"`
	Progress   struct {
		Percent     int        `bson:"percent"`
		Completed   bool       `bson:"completed"`
		CompletedAt *time.Time `bson:"completed_at"`
	} `bson:"progress"`
}

func (r *EnrolmentReader) find(ctx context.Context, filter bson.M) ([]EnrolmentRecord, error) {
	cur, err := r.coll.Find(ctx, filter, options.Find().SetProjection(enrolmentProjection).SetBatchSize(5000))
	if err != nil {
		return nil, fmt.Errorf("reports: find enrolments: %w", dbErr(err))
	}
	defer cur.Close(ctx)
	out := []EnrolmentRecord{}
	for cur.Next(ctx) {
		var d enrolmentDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("reports: read enrolment: %w", err)
		}
		out = append(out, EnrolmentRecord{ClassID: d.ClassID, CourseID: d.CourseID, ClassStarts: d.StartsAt, UserID: d.UserID,
			FullName: d.FullName, Username: d.Username, UnitID: d.UnitID, Position: d.Position, EnrolledAt: d.EnrolledAt,
			Percent: d.Progress.Percent, Completed: d.Progress.Completed, CompletedAt: d.Progress.CompletedAt})
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("reports: read enrolments: %w", dbErr(err))
	}
	return out, nil
}

// CourseEnrolments returns every enrolment in every class of a course.
func (r *EnrolmentReader) CourseEnrolments(ctx context.Context, courseID string) ([]EnrolmentRecord, error) {
	return r.find(ctx, bson.M{"course_id": courseID})
}

// ClassEnrolments returns every enrolment of a class.
func (r *EnrolmentReader) ClassEnrolments(ctx context.Context, classID string) ([]EnrolmentRecord, error) {
	return r.find(ctx, bson.M{"class_id": classID})
}
