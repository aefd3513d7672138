package frontend

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/assessment"
	"hoctap/courses"
	"hoctap/courses/live"
	"hoctap/internal/errs"
	"hoctap/media"
)

// Courses is what the learner pages need of the courses service (*courses.Service).
type Courses interface {
	ListMyEnrolments(ctx context.Context, p accounts.Principal, f courses.EnrolmentFilter) (accounts.Page[courses.Enrolment], error)
	MyClassProgress(ctx context.Context, p accounts.Principal, classID string) (courses.ClassProgress, error)
	GetClass(ctx context.Context, p accounts.Principal, id string) (courses.Class, error)
	GetRevision(ctx context.Context, p accounts.Principal, courseID string, rev int) (courses.Revision, error)
	RecordProgress(ctx context.Context, p accounts.Principal, lessonID string, hb courses.Heartbeat) (courses.LessonResult, error)
}

// Media is what the lesson player needs of the media service (*media.Service): a
// short-lived download URL that supports HTTP Range, so video seeking works.
type Media interface {
	GetObject(ctx context.Context, actor accounts.Principal, id string) (media.Object, error)
}

func (f *Frontend) mountLearn(r fiber.Router, signedIn func(fiber.Handler) []fiber.Handler) {
	r.Get("/learn", signedIn(f.learnPage)...)
	r.Get("/learn/classes/:id", signedIn(f.classPage)...)
	r.Get("/learn/classes/:id/lessons/:lesson", signedIn(f.lessonPage)...)
}

// myClass is one card of "Học tập của tôi".
type myClass struct {
	courses.Enrolment
	Next      *courses.LessonProgress // the first lesson not yet completed
	NextURL   string
	Upcoming  bool // the class has not started
	Completed bool
}

type learnData struct {
	Current, Done []myClass
}

// learnPage is "Học tập của tôi": the learner's classes with progress and the next lesson.
func (f *Frontend) learnPage(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	v := f.newView(c, "learn")
	page, err := f.d.Courses.ListMyEnrolments(c.UserContext(), p, courses.EnrolmentFilter{Limit: 200})
	if err != nil {
		return err
	}
	now := f.d.Now()
	var d learnData
	for _, e := range page.Items {
		m := myClass{Enrolment: e, Upcoming: now.Before(e.StartsAt), Completed: e.Progress.Completed}
		if m.Completed {
			d.Done = append(d.Done, m)
			continue
		}
		prog, err := f.d.Courses.MyClassProgress(c.UserContext(), p, e.ClassID)
		if err != nil && !errsIs(err, "not_found") {
			return err
		}
		if m.Next = nextLesson(prog.Lessons); m.Next != nil {
			m.NextURL = lessonURL(e.ClassID, m.Next.LessonID)
		}
		d.Current = append(d.Current, m)
	}
	v.Data = d
	return f.render(c, "learn", v)
}

func lessonURL(classID, lessonID string) string {
	return "/learn/classes/" + classID + "/lessons/" + lessonID
}

// nextLesson is the first lesson in outline order that is not completed, or nil.
func nextLesson(ls []courses.LessonProgress) *courses.LessonProgress {
	for i := range ls {
		if !ls[i].Completed {
			return &ls[i]
		}
	}
	return nil
}

func errsIs(err error, code string) bool { return err != nil && errs.Code(err) == code }

// outlineModule is a module of the class's revision with the learner's progress.
type outlineModule struct {
	courses.Module
	Lessons []courses.LessonProgress
	Done    int
}

type classData struct {
	Revision courses.Revision
	Quizzes  []assessment.Quiz
	Sessions []live.Session
	Class    courses.Class
	Progress courses.ClassProgress
	Modules  []outlineModule
	Next     *courses.LessonProgress
}

// classPage shows a class's course outline with a tick on each completed lesson.
func (f *Frontend) classPage(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	d, err := f.classData(c, p, c.Params("id"))
	if err != nil {
		return err
	}
	if d.Quizzes, err = f.quizzesOf(c, p, d.Class.CourseID); err != nil {
		return err
	}
	if d.Sessions, err = f.sessionsOf(c, p, d.Class.ID); err != nil {
		return err
	}
	v := f.newView(c, "learn")
	v.Data = d
	return f.render(c, "class", v)
}

func (f *Frontend) classData(c *fiber.Ctx, p accounts.Principal, classID string) (classData, error) {
	ctx := c.UserContext()
	class, err := f.d.Courses.GetClass(ctx, p, classID)
	if err != nil {
		return classData{}, err
	}
	prog, err := f.d.Courses.MyClassProgress(ctx, p, classID)
	if err != nil {
		return classData{}, err
	}
	rev, err := f.d.Courses.GetRevision(ctx, p, class.CourseID, class.Revision)
	if err != nil {
		return classData{}, err
	}
	byID := map[string]courses.LessonProgress{}
	for _, l := range prog.Lessons {
		byID[l.LessonID] = l
	}
	d := classData{Class: class, Progress: prog, Next: nextLesson(prog.Lessons), Revision: rev}
	for _, m := range rev.Modules {
		om := outlineModule{Module: m}
		for _, l := range m.Lessons {
			lp, ok := byID[l.ID]
			if !ok {
				lp = courses.LessonProgress{LessonID: l.ID, ModuleID: m.ID, Title: l.Title, Kind: l.Kind}
			}
			if lp.Completed {
				om.Done++
			}
			om.Lessons = append(om.Lessons, lp)
		}
		d.Modules = append(d.Modules, om)
	}
	return d, nil
}

type lessonData struct {
	Class      courses.Class
	Lesson     courses.Lesson
	Progress   courses.LessonProgress
	MediaURL   string // a short-lived, Range-capable URL; "" when there is no media
	MediaType  string
	Page       int // the page shown, for pdf and slides
	PrevPage   int
	NextPage   int
	Paragraphs []string
	Prev, Next *courses.LessonProgress // neighbouring lessons of the outline
}

// PageURL is the lesson player showing page n.
func (d lessonData) PageURL(n int) string {
	return lessonURL(d.Class.ID, d.Lesson.ID) + "?page=" + strconv.Itoa(n)
}

// lessonPage plays a lesson. Video reports watched ranges from player.js every 15 s; a PDF
// or slides lesson records each page as the server shows it (so it works without
// JavaScript); a text lesson counts as read when opened.
func (f *Frontend) lessonPage(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	ctx := c.UserContext()
	cd, err := f.classData(c, p, c.Params("id"))
	if err != nil {
		return err
	}
	rev := cd.Revision
	lessonID := c.Params("lesson")
	i := slices.IndexFunc(rev.Lessons(), func(l courses.Lesson) bool { return l.ID == lessonID })
	if i < 0 {
		return fmt.Errorf("lesson %s is not in this class: %w", lessonID, errs.ErrNotFound)
	}
	lesson := rev.Lessons()[i]
	d := lessonData{Class: cd.Class, Lesson: lesson}
	for j, l := range cd.Progress.Lessons {
		if l.LessonID == lessonID {
			d.Progress = l
			if j > 0 {
				d.Prev = &cd.Progress.Lessons[j-1]
			}
			if j+1 < len(cd.Progress.Lessons) {
				d.Next = &cd.Progress.Lessons[j+1]
			}
		}
	}
	v := f.newView(c, "learn")
	switch {
	case lesson.Kind.Paged():
		d.Page = 1
		if n, err := strconv.Atoi(c.Query("page")); err == nil && n >= 1 && n <= max(lesson.Pages, 1) {
			d.Page = n
		}
		if d.Page > 1 {
			d.PrevPage = d.Page - 1
		}
		if d.Page < lesson.Pages {
			d.NextPage = d.Page + 1
		}
		if err := f.record(c, p, &d, courses.Heartbeat{PagesViewed: []int{d.Page}}); err != nil {
			return err
		}
	case lesson.Kind == courses.KindText:
		d.Paragraphs = paragraphs(lesson.Body)
		if err := f.record(c, p, &d, courses.Heartbeat{}); err != nil {
			return err
		}
	case lesson.Kind == courses.KindVideo:
		v.Scripts = []string{"js/player.js"}
	}
	if lesson.MediaID != "" && f.d.Media != nil {
		obj, err := f.d.Media.GetObject(ctx, p, lesson.MediaID)
		switch {
		case err == nil:
			d.MediaURL, d.MediaType = obj.URL, obj.ContentType
		case errsIs(err, "not_found"), errsIs(err, "conflict"):
			// The file is missing or still uploading: the page says so.
		default:
			return err
		}
	}
	v.Data = d
	return f.render(c, "lesson", v)
}

// record sends a heartbeat for what the server itself showed (a page, an opened text) and
// keeps the answer on the page.
func (f *Frontend) record(c *fiber.Ctx, p accounts.Principal, d *lessonData, hb courses.Heartbeat) error {
	res, err := f.d.Courses.RecordProgress(c.UserContext(), p, d.Lesson.ID, hb)
	if err != nil {
		if errsIs(err, "invalid") || errsIs(err, "not_found") {
			return nil // staff previewing a class they do not learn in: nothing to record
		}
		return err
	}
	d.Progress.Percent, d.Progress.Completed = res.Percent, res.Completed
	if hb.PagesViewed != nil && !slices.Contains(d.Progress.PagesViewed, hb.PagesViewed[0]) {
		d.Progress.PagesViewed = append(d.Progress.PagesViewed, hb.PagesViewed[0])
	}
	return nil
}

// paragraphs splits a text lesson's body at blank lines; the template escapes each one.
func paragraphs(body string) []string {
	var out []string
	for p := range strings.SplitSeq(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Dates shows a class's dates as "dd/MM/yyyy – dd/MM/yyyy".
func (v *view) Dates(from, to time.Time) string {
	if to.IsZero() {
		return FormatDate(from)
	}
	return FormatDate(from) + " – " + FormatDate(to)
}

// Duration shows seconds as m:ss or h:mm:ss.
func (v *view) Duration(s int) string { return FormatDuration(s) }

// KindName is the translated name of a lesson kind.
func (v *view) KindName(k courses.Kind) string { return v.T("kind." + string(k)) }
