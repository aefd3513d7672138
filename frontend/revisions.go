package frontend

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"hoctap/courses"
	"hoctap/internal/errs"
)

// archiveCourse takes a course out of the catalog; running classes go on, and publishing
// brings it back.
func (f *Frontend) archiveCourse(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	if err := requireStaff(p); err != nil {
		return err
	}
	if _, err := f.d.Teaching.ArchiveCourse(c.UserContext(), p, c.Params("id")); err != nil {
		return f.builderFailed(c, p, err, "error.conflict.text")
	}
	return c.Redirect("/teach/courses/"+c.Params("id")+"?ok=archived", http.StatusSeeOther)
}

// renameModule changes a module's title in the working outline.
func (f *Frontend) renameModule(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	if err := requireStaff(p); err != nil {
		return err
	}
	module := c.Params("module")
	_, err := f.d.Teaching.UpdateModule(c.UserContext(), p, c.Params("id"), module, courses.ModuleInput{Title: c.FormValue("title")})
	if err != nil {
		// The module's own form shows the error; its field is named after the module.
		if fe := fieldErrorOf(err); fe != nil {
			if r, ok := fe.Fields["title"]; ok {
				fe.Fields["title-"+module] = r
				delete(fe.Fields, "title")
			}
		}
		return f.builderFailed(c, p, err, "error.conflict.text")
	}
	return f.builderSaved(c, "m-"+module)
}

// moveClassRevision moves a class onto a newer published revision of its course.
func (f *Frontend) moveClassRevision(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	if err := requireStaff(p); err != nil {
		return err
	}
	rev, err := strconv.Atoi(strings.TrimSpace(c.FormValue("revision")))
	if err != nil || rev < 1 {
		err = errs.Field("revision", "is not a whole number")
	} else {
		_, err = f.d.Teaching.MoveClassToRevision(c.UserContext(), p, c.Params("id"), rev)
	}
	if err == nil {
		return c.Redirect("/teach/classes/"+c.Params("id")+"?ok=revision", http.StatusSeeOther)
	}
	v := f.newView(c, "classes")
	status, ok := v.formFailed(err, "error.conflict.text")
	if !ok {
		return err
	}
	if status == http.StatusUnprocessableEntity && v.Errors["revision"] == "" {
		v.Errors = map[string]string{"revision": v.T("classes.no_such_revision")}
	}
	c.Status(status)
	return f.renderTrainerClass(c, v, p, nil, nil)
}

// fieldErrorOf returns err's field error, if it has one.
func fieldErrorOf(err error) *errs.FieldError {
	var fe *errs.FieldError
	if errors.As(err, &fe) && fe.Fields != nil {
		return fe
	}
	return nil
}

// NewerRevisions are the published revisions of the class's course after the one it runs,
// which the class may move to.
func (d trainerClassData) NewerRevisions() []int {
	var out []int
	for r := d.Class.Revision + 1; r <= d.CourseRevision; r++ {
		out = append(out, r)
	}
	return out
}
