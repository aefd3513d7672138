package server

import (
	"context"
	"fmt"
	"math"

	"hoctap/accounts"
	"hoctap/assessment"
	"hoctap/courses"
	"hoctap/courses/live"
	"hoctap/internal/errs"
	"hoctap/reports"
)

// reportsLearning gives reports what it needs from courses through the courses service's
// public API. Reports decides who may see what itself, so these reads run as a system
// principal with the admin role; nothing here is reachable except through reports.
// Whole classes and courses of enrolments are read by reports.EnrolmentReader (one
// projected find instead of a page of 500 at a time).
type reportsLearning struct {
	c     *courses.Service
	enrol *reports.EnrolmentReader
}

// reportsSystem is the principal reports' reads of courses run as.
var reportsSystem = accounts.Principal{User: accounts.User{ID: "system-reports", Username: "system-reports",
	FullName: "Hoctap reports", Roles: []accounts.Role{accounts.RoleAdmin}, Active: true}}

const reportsPage = 500

func (l reportsLearning) FindCourse(ctx context.Context, courseID string) (reports.CourseInfo, error) {
	v, err := l.c.GetCourse(ctx, reportsSystem, courseID)
	if err != nil {
		return reports.CourseInfo{}, err
	}
	return reports.CourseInfo{ID: v.ID, Code: v.Code, Title: v.Title, Category: string(v.Category), CategoryLabel: v.Category.Label("vi")}, nil
}

func (l reportsLearning) FindClass(ctx context.Context, classID string) (reports.ClassInfo, error) {
	c, err := l.c.GetClass(ctx, reportsSystem, classID)
	if err != nil {
		return reports.ClassInfo{}, err
	}
	return reports.ClassInfo{ID: c.ID, CourseID: c.CourseID, Name: c.Name, StartsAt: c.StartsAt, EndsAt: c.EndsAt, TrainerIDs: c.TrainerIDs}, nil
}

func enrolmentRecord(e courses.Enrolment) reports.EnrolmentRecord {
	return reports.EnrolmentRecord{ClassID: e.ClassID, CourseID: e.CourseID, ClassStarts: e.StartsAt, UserID: e.UserID,
		FullName: e.FullName, Username: e.Username, UnitID: e.UnitID, Position: e.Position, EnrolledAt: e.EnrolledAt,
		Percent: e.Progress.Percent, Completed: e.Progress.Completed, CompletedAt: e.Progress.CompletedAt}
}

func (l reportsLearning) ClassEnrolments(ctx context.Context, classID string) ([]reports.EnrolmentRecord, error) {
	return l.enrol.ClassEnrolments(ctx, classID)
}

func (l reportsLearning) CourseEnrolments(ctx context.Context, courseID string) ([]reports.EnrolmentRecord, error) {
	return l.enrol.CourseEnrolments(ctx, courseID)
}

func (l reportsLearning) FindEnrolment(ctx context.Context, classID, userID string) (reports.EnrolmentRecord, error) {
	recs, err := l.UserEnrolments(ctx, userID)
	if err != nil {
		return reports.EnrolmentRecord{}, err
	}
	for _, r := range recs {
		if r.ClassID == classID {
			return r, nil
		}
	}
	return reports.EnrolmentRecord{}, fmt.Errorf("%s is not enrolled in class %s: %w", userID, classID, errs.ErrNotFound)
}

func (l reportsLearning) UserEnrolments(ctx context.Context, userID string) ([]reports.EnrolmentRecord, error) {
	learner := accounts.Principal{User: accounts.User{ID: userID, Roles: []accounts.Role{accounts.RoleLearner}, Active: true}}
	var out []reports.EnrolmentRecord
	for offset := 0; ; offset += reportsPage {
		page, err := l.c.ListMyEnrolments(ctx, learner, courses.EnrolmentFilter{Limit: reportsPage, Offset: offset})
		if err != nil {
			return nil, err
		}
		for _, e := range page.Items {
			out = append(out, enrolmentRecord(e))
		}
		if len(page.Items) < reportsPage || offset+reportsPage >= page.Total {
			return out, nil
		}
	}
}

// reportsQuizzes gives reports the quizzes of a course and each learner's grade in them,
// through the assessment service's public API (as reportsSystem). BestPercent is the
// grade by the quiz's own grading method (highest, last or average attempt).
type reportsQuizzes struct {
	a *assessment.Service
}

func (q reportsQuizzes) CourseQuizResults(ctx context.Context, courseID string) (reports.CourseQuizResults, error) {
	quizzes, err := q.a.ListQuizzes(ctx, reportsSystem, courseID)
	if err != nil {
		return reports.CourseQuizResults{}, err
	}
	var out reports.CourseQuizResults
	for _, qz := range quizzes {
		out.Quizzes = append(out.Quizzes, reports.QuizInfo{ID: qz.ID, Title: qz.Title, Required: qz.Required})
		res, err := q.a.QuizResults(ctx, reportsSystem, qz.ID)
		if err != nil {
			return reports.CourseQuizResults{}, fmt.Errorf("quiz %s: %w", qz.ID, err)
		}
		for _, g := range res.Learners {
			out.Results = append(out.Results, reports.QuizResult{QuizID: qz.ID, UserID: g.UserID, BestPercent: g.Percent,
				Passed: g.Passed, Attempts: g.Attempts})
		}
	}
	return out, nil
}

// reportsAttendance gives reports the live attendance of classes through the live hub and
// service (as a system actor allowed to read every class's attendance). Minutes are the
// union of a learner's connections, rounded to whole minutes.
type reportsAttendance struct {
	hub *live.Hub
	c   *courses.Service
}

var reportsLiveActor = live.Actor{ID: reportsSystem.User.ID, FullName: reportsSystem.User.FullName, Admin: true, UnitAdmin: true}

func (a reportsAttendance) ClassAttendance(ctx context.Context, classID string) ([]reports.SessionAttendance, error) {
	// Joins and leaves are written once a second; write them now so the report is current.
	if err := a.hub.FlushAttendance(ctx); err != nil {
		return nil, err
	}
	sessions, err := a.hub.Service().ListSessions(ctx, reportsLiveActor, classID)
	if err != nil {
		return nil, err
	}
	out := make([]reports.SessionAttendance, 0, len(sessions))
	for _, ss := range sessions {
		rows, err := a.hub.Service().Attendance(ctx, reportsLiveActor, ss.ID)
		if err != nil {
			return nil, fmt.Errorf("live session %s: %w", ss.ID, err)
		}
		sa := reports.SessionAttendance{SessionID: ss.ID, Title: ss.Title, StartsAt: ss.StartsAt}
		for _, r := range rows {
			joined := r.JoinedAt
			sa.Learners = append(sa.Learners, reports.LearnerAttendance{UserID: r.UserID, JoinedAt: &joined, LeftAt: r.LeftAt,
				Minutes: int(math.Round(r.MinutesPresent))})
		}
		out = append(out, sa)
	}
	return out, nil
}

func (a reportsAttendance) CourseAttendanceMinutes(ctx context.Context, courseID string) (map[string]int, error) {
	out := map[string]int{}
	for offset := 0; ; offset += reportsPage {
		page, err := a.c.ListClasses(ctx, reportsSystem, courses.ClassFilter{CourseID: courseID, Limit: reportsPage, Offset: offset})
		if err != nil {
			return nil, err
		}
		for _, c := range page.Items {
			sessions, err := a.ClassAttendance(ctx, c.ID)
			if err != nil {
				return nil, fmt.Errorf("class %s: %w", c.ID, err)
			}
			for _, ss := range sessions {
				for _, l := range ss.Learners {
					out[l.UserID] += l.Minutes
				}
			}
		}
		if len(page.Items) < reportsPage || offset+reportsPage >= page.Total {
			return out, nil
		}
	}
}
