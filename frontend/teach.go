package frontend

import (
	"context"
	"fmt"
	"net/http"
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
)

// Teaching is what the lecturer and trainer pages need of the courses service
// (*courses.Service has it).
type Teaching interface {
	ListCourses(ctx context.Context, p accounts.Principal, f courses.CourseFilter) (accounts.Page[courses.CourseSummary], error)
	CreateCourse(ctx context.Context, p accounts.Principal, in courses.CourseInput) (courses.Course, error)
	GetCourse(ctx context.Context, p accounts.Principal, id string) (courses.CourseView, error)
	AddModule(ctx context.Context, p accounts.Principal, courseID string, in courses.ModuleInput) (courses.Module, error)
	AddLesson(ctx context.Context, p accounts.Principal, courseID, moduleID string, in courses.LessonInput) (courses.Lesson, error)
	MoveModule(ctx context.Context, p accounts.Principal, courseID, moduleID string, position int) (courses.Course, error)
	MoveLesson(ctx context.Context, p accounts.Principal, courseID, lessonID, moduleID string, position int) (courses.Course, error)
	DeleteModule(ctx context.Context, p accounts.Principal, courseID, moduleID string) error
	DeleteLesson(ctx context.Context, p accounts.Principal, courseID, lessonID string) error
	PublishCourse(ctx context.Context, p accounts.Principal, id string) (courses.Course, error)
	UpdateCourse(ctx context.Context, p accounts.Principal, id string, patch courses.CoursePatch) (courses.Course, error)
	UpdateLesson(ctx context.Context, p accounts.Principal, courseID, lessonID string, patch courses.LessonPatch) (courses.Lesson, error)
	CreateClass(ctx context.Context, p accounts.Principal, courseID string, in courses.ClassInput) (courses.Class, error)
	ListClasses(ctx context.Context, p accounts.Principal, f courses.ClassFilter) (accounts.Page[courses.Class], error)
	GetClass(ctx context.Context, p accounts.Principal, id string) (courses.Class, error)
	ListClassEnrolments(ctx context.Context, p accounts.Principal, classID string, f courses.EnrolmentFilter) (accounts.Page[courses.Enrolment], error)
	EnrolUsers(ctx context.Context, p accounts.Principal, classID string, userIDs []string) (courses.EnrolResult, error)
	EnrolUnit(ctx context.Context, p accounts.Principal, classID, unitID string, includeSubunits bool) (courses.EnrolResult, error)
	ArchiveCourse(ctx context.Context, p accounts.Principal, id string) (courses.Course, error)
	UpdateModule(ctx context.Context, p accounts.Principal, courseID, moduleID string, in courses.ModuleInput) (courses.Module, error)
	MoveClassToRevision(ctx context.Context, p accounts.Principal, classID string, revision int) (courses.Class, error)
}

func (f *Frontend) mountTeach(r fiber.Router, signedIn func(fiber.Handler) []fiber.Handler) {
	r.Get("/teach/courses", signedIn(f.coursesPage)...)
	r.Post("/teach/courses", signedIn(f.createCourse)...)
	r.Get("/teach/courses/:id", signedIn(f.courseBuilder)...)
	r.Post("/teach/courses/:id/modules", signedIn(f.addModule)...)
	r.Post("/teach/courses/:id/lessons", signedIn(f.addLesson)...)
	r.Post("/teach/courses/:id/move", signedIn(f.moveItem)...)
	r.Post("/teach/courses/:id/delete", signedIn(f.deleteItem)...)
	r.Post("/teach/courses/:id/publish", signedIn(f.publishCourse)...)
	r.Post("/teach/courses/:id/edit", signedIn(f.editCourse)...)
	r.Get("/teach/courses/:id/lessons/:lesson", signedIn(f.lessonEditPage)...)
	r.Post("/teach/courses/:id/lessons/:lesson", signedIn(f.updateLesson)...)
	r.Post("/teach/courses/:id/classes", signedIn(f.createClass)...)
	r.Get("/teach/classes", signedIn(f.classesPage)...)
	r.Get("/teach/classes/:id", signedIn(f.trainerClassPage)...)
	r.Post("/teach/classes/:id/enrol", signedIn(f.enrol)...)
	r.Post("/teach/courses/:id/archive", signedIn(f.archiveCourse)...)
	r.Post("/teach/courses/:id/modules/:module", signedIn(f.renameModule)...)
	r.Post("/teach/classes/:id/revision", signedIn(f.moveClassRevision)...)
}

// coursesFilterPublished lists the published courses, for pickers.
var coursesFilterPublished = courses.CourseFilter{Status: courses.StatusPublished, Limit: 500}

func isStaff(p accounts.Principal) bool { return p.User.IsStaff() }

func requireStaff(p accounts.Principal) error {
	if !isStaff(p) {
		return fmt.Errorf("teaching pages are for staff: %w", errs.ErrForbidden)
	}
	return nil
}

type coursesData struct {
	Courses    []courses.CourseSummary
	Categories []courses.CategoryInfo
	CanCreate  bool
	Q          string
}

// CategoryName is a category's label in the page's language.
func (v *view) CategoryName(c courses.Category) string { return c.Label(v.Lang) }

// StatusName is the translated state of a course.
func (v *view) StatusName(s courses.Status) string { return v.T("status." + string(s)) }

func (f *Frontend) coursesPage(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	if err := requireStaff(p); err != nil {
		return err
	}
	return f.renderCourses(c, f.newView(c, "courses"), p)
}

func (f *Frontend) renderCourses(c *fiber.Ctx, v *view, p accounts.Principal) error {
	q := strings.TrimSpace(c.Query("q"))
	page, err := f.d.Teaching.ListCourses(c.UserContext(), p, courses.CourseFilter{Q: q, Limit: 200})
	if err != nil {
		return err
	}
	v.Data = coursesData{Courses: page.Items, Categories: courses.Categories, Q: q,
		CanCreate: p.Has(accounts.RoleLecturer) || p.Has(accounts.RoleAdmin)}
	return f.render(c, "courses", v)
}

func (f *Frontend) createCourse(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	course, err := f.d.Teaching.CreateCourse(c.UserContext(), p, courses.CourseInput{
		Code: c.FormValue("code"), Title: c.FormValue("title"),
		Category: courses.Category(c.FormValue("category")), Description: c.FormValue("description"),
	})
	if err != nil {
		v := f.newView(c, "courses")
		status, ok := v.formFailed(err, "courses.code_taken")
		if !ok {
			return err
		}
		if status == http.StatusConflict {
			v.Errors = map[string]string{"code": v.T("courses.code_taken")}
		}
		v.Form = formValues(c, "code", "title", "category", "description")
		c.Status(status)
		return f.renderCourses(c, v, p)
	}
	return c.Redirect("/teach/courses/"+course.ID+"?ok=course_created", http.StatusSeeOther)
}

type builderData struct {
	Categories []courses.CategoryInfo
	Quizzes    []assessment.Quiz
	Banks      []assessment.Bank
	Course     courses.CourseView
	Kinds      []courses.Kind
	Modules    int
}

// courseBuilder is the lecturer's editor of a course outline: modules and lessons, their
// order, uploads, publishing, and opening a class.
func (f *Frontend) courseBuilder(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	if err := requireStaff(p); err != nil {
		return err
	}
	return f.renderBuilder(c, f.newView(c, "courses"), p)
}

func (f *Frontend) renderBuilder(c *fiber.Ctx, v *view, p accounts.Principal) error {
	course, err := f.d.Teaching.GetCourse(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	if key, ok := builderFlashes[c.Query("ok")]; ok && v.Flash == "" {
		v.Flash, v.Notice = v.T(key), "ok"
	}
	quizzes, banks, err := f.quizzesForBuilder(c, p, course.ID)
	if err != nil {
		return err
	}
	v.Data = builderData{Course: course, Kinds: []courses.Kind{courses.KindVideo, courses.KindPDF, courses.KindSlides, courses.KindText}, Modules: len(course.Modules),
		Quizzes: quizzes, Banks: banks, Categories: courses.Categories}
	v.Scripts = []string{"js/upload.js"}
	return f.render(c, "course_builder", v)
}

var builderFlashes = map[string]string{
	"course_created": "flash.course_created",
	"saved":          "flash.saved",
	"published":      "flash.published",
	"archived":       "flash.archived",
}

// builderFailed re-renders the builder with err on it, or hands err on.
func (f *Frontend) builderFailed(c *fiber.Ctx, p accounts.Principal, err error, conflictKey string, fields ...string) error {
	v := f.newView(c, "courses")
	status, ok := v.formFailed(err, conflictKey)
	if !ok {
		return err
	}
	v.Form = formValues(c, fields...)
	c.Status(status)
	return f.renderBuilder(c, v, p)
}

func (f *Frontend) builderSaved(c *fiber.Ctx, anchor string) error {
	return c.Redirect("/teach/courses/"+c.Params("id")+"?ok=saved#"+anchor, http.StatusSeeOther)
}

func (f *Frontend) addModule(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	m, err := f.d.Teaching.AddModule(c.UserContext(), p, c.Params("id"), courses.ModuleInput{Title: c.FormValue("title")})
	if err != nil {
		return f.builderFailed(c, p, err, "error.conflict.text", "title")
	}
	return f.builderSaved(c, "m-"+m.ID)
}

func (f *Frontend) addLesson(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	in := courses.LessonInput{
		Title: c.FormValue("title"), Kind: courses.Kind(c.FormValue("kind")),
		MediaID: c.FormValue("media_id"), Body: c.FormValue("body"),
	}
	var fields errs.Fields
	// upload.js fills duration_s from the video file itself; by hand it is minutes.
	if in.DurationS = formInt(c, "duration_s", &fields); in.DurationS == 0 {
		in.DurationS = formInt(c, "duration_min", &fields) * 60
	}
	in.Pages = formInt(c, "pages", &fields)
	err := fields.Err()
	if err == nil {
		var l courses.Lesson
		l, err = f.d.Teaching.AddLesson(c.UserContext(), p, c.Params("id"), c.FormValue("module_id"), in)
		if err == nil {
			return f.builderSaved(c, "l-"+l.ID)
		}
	}
	return f.builderFailed(c, p, err, "error.conflict.text", "module_id", "title", "kind", "media_id", "body", "duration_min", "duration_s", "pages")
}

// formInt reads an optional whole number of a form, noting a malformed one in fields.
func formInt(c *fiber.Ctx, name string, fields *errs.Fields) int {
	s := strings.TrimSpace(c.FormValue(name))
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	fields.Check(err != nil || n < 0, name, "is not a whole number")
	return n
}

// moveItem moves a module or a lesson one place up or down.
func (f *Frontend) moveItem(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	ctx, courseID := c.UserContext(), c.Params("id")
	pos, err := strconv.Atoi(c.FormValue("position"))
	if err != nil {
		return errs.Field("position", "is not a whole number")
	}
	if lesson := c.FormValue("lesson_id"); lesson != "" {
		_, err = f.d.Teaching.MoveLesson(ctx, p, courseID, lesson, c.FormValue("module_id"), pos)
		if err == nil {
			return f.builderSaved(c, "l-"+lesson)
		}
	} else {
		module := c.FormValue("module_id")
		_, err = f.d.Teaching.MoveModule(ctx, p, courseID, module, pos)
		if err == nil {
			return f.builderSaved(c, "m-"+module)
		}
	}
	return f.builderFailed(c, p, err, "error.conflict.text")
}

func (f *Frontend) deleteItem(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	ctx, courseID := c.UserContext(), c.Params("id")
	var err error
	if lesson := c.FormValue("lesson_id"); lesson != "" {
		err = f.d.Teaching.DeleteLesson(ctx, p, courseID, lesson)
	} else {
		err = f.d.Teaching.DeleteModule(ctx, p, courseID, c.FormValue("module_id"))
	}
	if err != nil {
		return f.builderFailed(c, p, err, "error.conflict.text")
	}
	return f.builderSaved(c, "outline")
}

func (f *Frontend) publishCourse(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	if _, err := f.d.Teaching.PublishCourse(c.UserContext(), p, c.Params("id")); err != nil {
		return f.builderFailed(c, p, err, "courses.cannot_publish")
	}
	return c.Redirect("/teach/courses/"+c.Params("id")+"?ok=published", http.StatusSeeOther)
}

// parseDay reads a yyyy-mm-dd date field (what <input type=date> sends) as the start of
// that day in Vietnam, or its end when endOfDay.
func parseDay(s string, endOfDay bool) (time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), vietnam)
	if err != nil {
		return time.Time{}, err
	}
	if endOfDay {
		d = d.Add(24*time.Hour - time.Second)
	}
	return d.UTC(), nil
}

func (f *Frontend) createClass(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	var fields errs.Fields
	starts, err := parseDay(c.FormValue("starts_on"), false)
	fields.Check(err != nil, "starts_on", "is not a date")
	ends, err := parseDay(c.FormValue("ends_on"), true)
	fields.Check(err != nil, "ends_on", "is not a date")
	capacity := formInt(c, "capacity", &fields)
	err = fields.Err()
	if err == nil {
		var class courses.Class
		class, err = f.d.Teaching.CreateClass(c.UserContext(), p, c.Params("id"), courses.ClassInput{
			Name: c.FormValue("name"), StartsAt: starts, EndsAt: ends, Capacity: capacity,
		})
		if err == nil {
			return c.Redirect("/teach/classes/"+class.ID+"?ok=class_created", http.StatusSeeOther)
		}
	}
	return f.builderFailed(c, p, err, "courses.not_published", "name", "starts_on", "ends_on", "capacity")
}

type classesData struct {
	Classes []courses.Class
}

func (f *Frontend) classesPage(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	if err := requireStaff(p); err != nil {
		return err
	}
	page, err := f.d.Teaching.ListClasses(c.UserContext(), p, courses.ClassFilter{Limit: 200})
	if err != nil {
		return err
	}
	v := f.newView(c, "classes")
	v.Data = classesData{Classes: page.Items}
	return f.render(c, "classes", v)
}

type trainerClassData struct {
	Q         string          // a name searched for, to enrol by person
	Found     []accounts.User // the people it found
	Sessions  []live.Session
	CanLive   bool
	Reports   bool // the reports service is wired: XLSX links and certificates
	Class     courses.Class
	Learners  []courses.Enrolment
	Total     int
	Tree      unitTree
	Result    *courses.EnrolResult
	Unknown   []string // usernames that matched nobody
	Truncated bool
	// CourseRevision is the course's latest published revision (0 when unknown).
	CourseRevision int
}

// UnitName is the name of a unit, or "" when the caller cannot see it.
func (d trainerClassData) UnitName(id string) string {
	if n, ok := d.Tree.ByID[id]; ok {
		return n.Name
	}
	return ""
}

// trainerClassPage is a class for its trainer: enrolment and the progress table.
func (f *Frontend) trainerClassPage(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	if err := requireStaff(p); err != nil {
		return err
	}
	v := f.newView(c, "classes")
	if c.Query("ok") == "class_created" {
		v.Flash, v.Notice = v.T("flash.class_created"), "ok"
	}
	if n, err := strconv.Atoi(c.Query("issued")); err == nil && n >= 0 {
		v.Flash, v.Notice = v.T("classes.issued", n), "ok"
	}
	return f.renderTrainerClass(c, v, p, nil, nil)
}

func (f *Frontend) renderTrainerClass(c *fiber.Ctx, v *view, p accounts.Principal, res *courses.EnrolResult, unknown []string) error {
	ctx := c.UserContext()
	class, err := f.d.Teaching.GetClass(ctx, p, c.Params("id"))
	if err != nil {
		return err
	}
	page, err := f.d.Teaching.ListClassEnrolments(ctx, p, class.ID, courses.EnrolmentFilter{Limit: 500})
	if err != nil {
		return err
	}
	learners := page.Items
	SortByName(learners, func(e courses.Enrolment) string { return e.FullName })
	all, err := f.d.Accounts.AllUnits(ctx)
	if err != nil {
		return err
	}
	everything, ids, err := f.d.Accounts.ManagedUnitIDs(ctx, p.User)
	if err != nil {
		return err
	}
	visible := func(u accounts.Unit) bool {
		return everything || slices.Contains(ids, u.ID) || p.Has(accounts.RoleTrainer)
	}
	sessions, err := f.sessionsOf(c, p, class.ID)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(c.Query("q"))
	var found []accounts.User
	if q != "" && len(q) <= 200 {
		page, err := f.d.Accounts.ListUsers(ctx, p, accounts.UserFilter{Q: q, Role: accounts.RoleLearner, Limit: 50})
		if err != nil && !errsIs(err, "forbidden") {
			return err
		}
		found = page.Items
		SortByName(found, func(u accounts.User) string { return u.FullName })
	}
	courseRevision := 0
	if course, err := f.d.Teaching.GetCourse(ctx, p, class.CourseID); err == nil {
		courseRevision = course.Revision
	} else if !errsIs(err, "forbidden") && !errsIs(err, "not_found") {
		return err
	}
	if c.Query("ok") == "revision" && v.Flash == "" {
		v.Flash, v.Notice = v.T("flash.revision_moved", class.Revision), "ok"
	}
	v.Data = trainerClassData{Q: q, CourseRevision: courseRevision, Found: found, Class: class, Learners: learners, Total: page.Total, Truncated: page.Total > len(learners),
		Tree: buildTree(all, visible), Result: res, Unknown: unknown, Sessions: sessions,
		CanLive: f.d.Live != nil && (p.Has(accounts.RoleAdmin) || slices.Contains(class.TrainerIDs, p.User.ID)),
		Reports: f.d.Reports != nil}
	return f.render(c, "trainer_class", v)
}

// enrol enrols a unit (with its sub-units if asked) or a list of usernames.
func (f *Frontend) enrol(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	ctx, classID := c.UserContext(), c.Params("id")
	v := f.newView(c, "classes")
	var (
		res     courses.EnrolResult
		err     error
		unknown []string
	)
	var picked []string
	c.Request().PostArgs().VisitAll(func(k, val []byte) {
		if string(k) == "user_id" {
			picked = append(picked, string(val))
		}
	})
	if unit := c.FormValue("unit_id"); unit != "" {
		res, err = f.d.Teaching.EnrolUnit(ctx, p, classID, unit, c.FormValue("subunits") != "")
	} else if len(picked) > 0 {
		res, err = f.d.Teaching.EnrolUsers(ctx, p, classID, picked)
	} else {
		var ids []string
		ids, unknown, err = f.resolveUsernames(ctx, p, c.FormValue("usernames"))
		if err == nil && len(ids) == 0 {
			err = errs.Field("usernames", "is required")
		}
		if err == nil {
			res, err = f.d.Teaching.EnrolUsers(ctx, p, classID, ids)
		}
	}
	if err != nil {
		status, ok := v.formFailed(err, "error.conflict.text")
		if !ok {
			return err
		}
		v.Form = formValues(c, "usernames", "unit_id")
		c.Status(status)
		return f.renderTrainerClass(c, v, p, nil, unknown)
	}
	v.Flash, v.Notice = v.T("classes.enrol_done", res.Enrolled, res.Already), "ok"
	if len(res.Refused) > 0 || len(unknown) > 0 {
		v.Notice = "info"
	}
	return f.renderTrainerClass(c, v, p, &res, unknown)
}

// resolveUsernames finds the users named in a list (one per line, or separated by commas,
// semicolons or spaces), returning their ids and the names that matched nobody.
func (f *Frontend) resolveUsernames(ctx context.Context, p accounts.Principal, list string) (ids, unknown []string, err error) {
	seen := map[string]bool{}
	for _, name := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		if len(seen) > 500 {
			return nil, nil, errs.Field("usernames", "at most 500 at once")
		}
		page, err := f.d.Accounts.ListUsers(ctx, p, accounts.UserFilter{Q: name, Limit: 20})
		if err != nil {
			return nil, nil, err
		}
		found := false
		for _, u := range page.Items {
			if u.Username == name {
				ids, found = append(ids, u.ID), true
				break
			}
		}
		if !found {
			unknown = append(unknown, name)
		}
	}
	return ids, unknown, nil
}

// editCourse changes the catalog fields of a course (they apply at once, also when
// published).
func (f *Frontend) editCourse(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	code, title, desc := c.FormValue("code"), c.FormValue("title"), c.FormValue("description")
	cat := courses.Category(c.FormValue("category"))
	if _, err := f.d.Teaching.UpdateCourse(c.UserContext(), p, c.Params("id"), courses.CoursePatch{Code: &code, Title: &title, Category: &cat, Description: &desc}); err != nil {
		return f.builderFailed(c, p, err, "courses.code_taken", "code", "title", "category", "description")
	}
	return f.builderSaved(c, "outline")
}

type lessonEditData struct {
	Course courses.CourseView
	Lesson courses.Lesson
}

// lessonEditPage edits one lesson of the working outline; its id, and so learners'
// progress, stays.
func (f *Frontend) lessonEditPage(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	if err := requireStaff(p); err != nil {
		return err
	}
	return f.renderLessonEdit(c, f.newView(c, "courses"), p)
}

func (f *Frontend) renderLessonEdit(c *fiber.Ctx, v *view, p accounts.Principal) error {
	course, err := f.d.Teaching.GetCourse(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	for _, m := range course.Modules {
		for _, l := range m.Lessons {
			if l.ID == c.Params("lesson") {
				v.Data = lessonEditData{Course: course, Lesson: l}
				v.Scripts = []string{"js/upload.js"}
				return f.render(c, "lesson_edit", v)
			}
		}
	}
	return fmt.Errorf("lesson %s is not in this course: %w", c.Params("lesson"), errs.ErrNotFound)
}

func (f *Frontend) updateLesson(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	var fields errs.Fields
	title, body, media := c.FormValue("title"), c.FormValue("body"), c.FormValue("media_id")
	pages := formInt(c, "pages", &fields)
	dur := formInt(c, "duration_s", &fields)
	if dur == 0 {
		dur = formInt(c, "duration_min", &fields) * 60
	}
	err := fields.Err()
	if err == nil {
		patch := courses.LessonPatch{Title: &title, Body: &body, Pages: &pages, DurationS: &dur}
		if media != "" {
			patch.MediaID = &media
		}
		if _, err = f.d.Teaching.UpdateLesson(c.UserContext(), p, c.Params("id"), c.Params("lesson"), patch); err == nil {
			return f.builderSaved(c, "l-"+c.Params("lesson"))
		}
	}
	v := f.newView(c, "courses")
	status, ok := v.formFailed(err, "error.conflict.text")
	if !ok {
		return err
	}
	c.Status(status)
	return f.renderLessonEdit(c, v, p)
}

// Minutes is a number of seconds in whole minutes, rounded up.
func (v *view) Minutes(s int) int { return (s + 59) / 60 }
