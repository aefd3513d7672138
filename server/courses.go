package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"hoctap/courses"
	"hoctap/internal/errs"
)

func (s *Server) routeCourses(api fiber.Router) {
	api.Get("/course-categories", requireAuth, s.listCourseCategories)
	api.Post("/courses", requireAuth, withBody(s, http.StatusCreated, s.courses.CreateCourse))
	api.Get("/courses", requireAuth, s.listCourses)
	api.Get("/courses/:id", requireAuth, byID(s.courses.GetCourse))
	api.Patch("/courses/:id", requireAuth, byIDWithBody(s, http.StatusOK, s.courses.UpdateCourse))
	api.Post("/courses/:id/publish", requireAuth, byID(s.courses.PublishCourse))
	api.Post("/courses/:id/archive", requireAuth, byID(s.courses.ArchiveCourse))
	api.Get("/courses/:id/revisions/:revision", requireAuth, s.getRevision)
	api.Post("/courses/:id/modules", requireAuth, byIDWithBody(s, http.StatusCreated, s.courses.AddModule))
	api.Patch("/courses/:id/modules/:module_id", requireAuth, s.updateModule)
	api.Delete("/courses/:id/modules/:module_id", requireAuth, s.deleteModule)
	api.Post("/courses/:id/modules/:module_id/move", requireAuth, s.moveModule)
	api.Post("/courses/:id/modules/:module_id/lessons", requireAuth, s.addLesson)
	api.Patch("/courses/:id/lessons/:lesson_id", requireAuth, s.updateLesson)
	api.Delete("/courses/:id/lessons/:lesson_id", requireAuth, s.deleteLesson)
	api.Post("/courses/:id/lessons/:lesson_id/move", requireAuth, s.moveLesson)

	api.Post("/courses/:id/classes", requireAuth, byIDWithBody(s, http.StatusCreated, s.courses.CreateClass))
	api.Get("/classes", requireAuth, s.listClasses)
	api.Get("/classes/:id", requireAuth, byID(s.courses.GetClass))
	api.Post("/classes/:id/revision", requireAuth, s.moveClassToRevision)
	api.Post("/classes/:id/enrolments", requireAuth, s.enrol)
	api.Get("/classes/:id/enrolments", requireAuth, s.listClassEnrolments)
	api.Get("/classes/:id/progress/me", requireAuth, byID(s.courses.MyClassProgress))
	api.Get("/me/enrolments", requireAuth, s.listMyEnrolments)
	api.Put("/lessons/:id/progress", requireAuth, s.recordProgress)
}

func (s *Server) listCourseCategories(c *fiber.Ctx) error {
	return c.JSON(newList(courses.Categories, len(courses.Categories)))
}

func (s *Server) listCourses(c *fiber.Ctx) error {
	limit, offset, err := pageParams(c)
	if err != nil {
		return err
	}
	page, err := s.courses.ListCourses(c.UserContext(), principal(c), courses.CourseFilter{
		Q: c.Query("q"), Category: courses.Category(c.Query("category")), Status: courses.Status(c.Query("status")),
		Limit: limit, Offset: offset,
	})
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}

func (s *Server) getRevision(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	rev, err := strconv.Atoi(c.Params("revision"))
	if err != nil || rev < 1 {
		return errs.Field("revision", "must be a revision number from 1")
	}
	r, err := s.courses.GetRevision(c.UserContext(), principal(c), id, rev)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) updateModule(c *fiber.Ctx) error {
	id, moduleID, err := twoIDs(c, "id", "module_id")
	if err != nil {
		return err
	}
	var b courses.ModuleInput
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	m, err := s.courses.UpdateModule(c.UserContext(), principal(c), id, moduleID, b)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) deleteModule(c *fiber.Ctx) error {
	id, moduleID, err := twoIDs(c, "id", "module_id")
	if err != nil {
		return err
	}
	if err := s.courses.DeleteModule(c.UserContext(), principal(c), id, moduleID); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// moveBody places a module or lesson: position is 0-based; module_id moves a lesson to
// another module (its own when empty).
type moveBody struct {
	Position *int   `json:"position"`
	ModuleID string `json:"module_id"`
}

func (s *Server) decodeMove(c *fiber.Ctx) (moveBody, error) {
	var b moveBody
	if err := s.decodeJSON(c, &b); err != nil {
		return b, err
	}
	if b.Position == nil {
		return b, errs.Field("position", "required")
	}
	return b, nil
}

func (s *Server) moveModule(c *fiber.Ctx) error {
	id, moduleID, err := twoIDs(c, "id", "module_id")
	if err != nil {
		return err
	}
	b, err := s.decodeMove(c)
	if err != nil {
		return err
	}
	if b.ModuleID != "" {
		return errs.Field("module_id", "unknown field for moving a module")
	}
	course, err := s.courses.MoveModule(c.UserContext(), principal(c), id, moduleID, *b.Position)
	if err != nil {
		return err
	}
	return c.JSON(course)
}

func (s *Server) addLesson(c *fiber.Ctx) error {
	id, moduleID, err := twoIDs(c, "id", "module_id")
	if err != nil {
		return err
	}
	var b courses.LessonInput
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	l, err := s.courses.AddLesson(c.UserContext(), principal(c), id, moduleID, b)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(l)
}

func (s *Server) updateLesson(c *fiber.Ctx) error {
	id, lessonID, err := twoIDs(c, "id", "lesson_id")
	if err != nil {
		return err
	}
	var b courses.LessonPatch
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	l, err := s.courses.UpdateLesson(c.UserContext(), principal(c), id, lessonID, b)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (s *Server) deleteLesson(c *fiber.Ctx) error {
	id, lessonID, err := twoIDs(c, "id", "lesson_id")
	if err != nil {
		return err
	}
	if err := s.courses.DeleteLesson(c.UserContext(), principal(c), id, lessonID); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

func (s *Server) moveLesson(c *fiber.Ctx) error {
	id, lessonID, err := twoIDs(c, "id", "lesson_id")
	if err != nil {
		return err
	}
	b, err := s.decodeMove(c)
	if err != nil {
		return err
	}
	course, err := s.courses.MoveLesson(c.UserContext(), principal(c), id, lessonID, b.ModuleID, *b.Position)
	if err != nil {
		return err
	}
	return c.JSON(course)
}

func twoIDs(c *fiber.Ctx, a, b string) (string, string, error) {
	x, err := idParam(c, a)
	if err != nil {
		return "", "", err
	}
	y, err := idParam(c, b)
	return x, y, err
}

func (s *Server) listClasses(c *fiber.Ctx) error {
	limit, offset, err := pageParams(c)
	if err != nil {
		return err
	}
	page, err := s.courses.ListClasses(c.UserContext(), principal(c), courses.ClassFilter{CourseID: c.Query("course_id"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}

type revisionBody struct {
	Revision int `json:"revision"`
}

func (s *Server) moveClassToRevision(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b revisionBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	if b.Revision < 1 {
		return errs.Field("revision", "must be a revision number from 1")
	}
	cl, err := s.courses.MoveClassToRevision(c.UserContext(), principal(c), id, b.Revision)
	if err != nil {
		return err
	}
	return c.JSON(cl)
}

// enrolBody names learners one by one (user_ids) or a whole unit (unit_id, with
// include_subunits for the units below it); exactly one of the two.
type enrolBody struct {
	UserIDs         []string `json:"user_ids"`
	UnitID          string   `json:"unit_id"`
	IncludeSubunits bool     `json:"include_subunits"`
}

func (s *Server) enrol(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b enrolBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	byUnit := strings.TrimSpace(b.UnitID) != ""
	if byUnit == (b.UserIDs != nil) {
		return errs.Invalid("give either user_ids or unit_id", map[string]string{"user_ids": "give user_ids or unit_id", "unit_id": "give user_ids or unit_id"})
	}
	if !byUnit && b.IncludeSubunits {
		return errs.Field("include_subunits", "applies to unit_id only")
	}
	var res courses.EnrolResult
	if byUnit {
		res, err = s.courses.EnrolUnit(c.UserContext(), principal(c), id, b.UnitID, b.IncludeSubunits)
	} else {
		res, err = s.courses.EnrolUsers(c.UserContext(), principal(c), id, b.UserIDs)
	}
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (s *Server) listClassEnrolments(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	limit, offset, err := pageParams(c)
	if err != nil {
		return err
	}
	page, err := s.courses.ListClassEnrolments(c.UserContext(), principal(c), id, courses.EnrolmentFilter{Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}

func (s *Server) listMyEnrolments(c *fiber.Ctx) error {
	limit, offset, err := pageParams(c)
	if err != nil {
		return err
	}
	page, err := s.courses.ListMyEnrolments(c.UserContext(), principal(c), courses.EnrolmentFilter{Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}

// heartbeatBody is a player's heartbeat. Ranges are decoded as plain arrays so that a
// range of other than two numbers is refused rather than cut to size.
type heartbeatBody struct {
	PositionS   float64     `json:"position_s"`
	Watched     [][]float64 `json:"watched"`
	PagesViewed []int       `json:"pages_viewed"`
}

func (s *Server) recordProgress(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b heartbeatBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	hb := courses.Heartbeat{PositionS: b.PositionS, PagesViewed: b.PagesViewed, Watched: make([][2]float64, len(b.Watched))}
	for i, r := range b.Watched {
		if len(r) != 2 {
			return errs.Field("watched["+strconv.Itoa(i)+"]", "must be [from_s, to_s]")
		}
		hb.Watched[i] = [2]float64{r[0], r[1]}
	}
	res, err := s.courses.RecordProgress(c.UserContext(), principal(c), id, hb)
	if err != nil {
		return err
	}
	return c.JSON(res)
}
