package frontend

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/internal/errs"
	"hoctap/reports"
)

// planBlankLines is how many empty lines a plan form offers besides the plan's own, so
// that lines are added without JavaScript (save, and more empty lines come back).
const planBlankLines = 3

// planLine is one line of the plan form: a course (and, kept from the API, a class) and
// how many learners it should train, with their errors.
type planLine struct {
	CourseID, ClassID, Planned string
	CourseErr, PlannedErr      string
}

type plansData struct {
	Tree    unitTree
	UnitID  string
	Year    string
	Plans   []reports.Plan
	Courses []courseOption
	Lines   []planLine
}

type planData struct {
	Report  reports.PlanReport
	Courses []courseOption
	Lines   []planLine
}

// plansPage lists the yearly training plans of a unit and the units below it, with the
// form for a new plan.
func (f *Frontend) plansPage(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	return f.renderPlans(c, f.newView(c, "reports"), p, nil)
}

func (f *Frontend) renderPlans(c *fiber.Ctx, v *view, p accounts.Principal, lines []planLine) error {
	tree, err := f.managedTree(c, p)
	if err != nil {
		return err
	}
	d := plansData{Tree: tree, UnitID: c.Query("unit_id"), Year: c.Query("year")}
	if v.Form != nil && v.Form["unit_id"] != "" {
		d.UnitID = v.Form["unit_id"]
	}
	if d.UnitID == "" && len(tree.Roots) > 0 {
		d.UnitID = tree.Roots[0].ID
	}
	filter := reports.PlanFilter{UnitID: d.UnitID, Limit: 500}
	if y, err := strconv.Atoi(d.Year); err == nil {
		filter.Year = y
	} else {
		d.Year = ""
	}
	if d.UnitID != "" {
		page, err := f.d.Reports.ListPlans(c.UserContext(), p, filter)
		if err != nil {
			return err
		}
		d.Plans = page.Items
	}
	if d.Courses, err = f.publishedCourses(c, p); err != nil {
		return err
	}
	if v.Form == nil {
		v.Form = map[string]string{"year": strconv.Itoa(f.d.Now().In(vietnam).Year())}
	}
	d.Lines = withBlankLines(lines)
	v.Data = d
	return f.render(c, "plans", v)
}

func (f *Frontend) publishedCourses(c *fiber.Ctx, p accounts.Principal) ([]courseOption, error) {
	if f.d.Teaching == nil {
		return nil, nil
	}
	page, err := f.d.Teaching.ListCourses(c.UserContext(), p, coursesFilterPublished)
	if err != nil {
		return nil, err
	}
	out := make([]courseOption, 0, len(page.Items))
	for _, cs := range page.Items {
		out = append(out, courseOption{cs.ID, cs.Title})
	}
	return out, nil
}

func withBlankLines(lines []planLine) []planLine {
	out := append([]planLine(nil), lines...)
	for range planBlankLines {
		out = append(out, planLine{})
	}
	return out
}

// planForm reads the plan lines of a form (repeated course_id, class_id, planned fields,
// one of each per line; wholly blank lines are skipped). rows maps each item to its line.
func planForm(c *fiber.Ctx) (items []reports.PlanItemInput, lines []planLine, rows []int, fields errs.Fields) {
	args := c.Request().PostArgs()
	courses, classes, planned := args.PeekMulti("course_id"), args.PeekMulti("class_id"), args.PeekMulti("planned")
	for i := range courses {
		l := planLine{CourseID: strings.TrimSpace(string(courses[i]))}
		if i < len(classes) {
			l.ClassID = strings.TrimSpace(string(classes[i]))
		}
		if i < len(planned) {
			l.Planned = strings.TrimSpace(string(planned[i]))
		}
		if l.CourseID == "" && l.Planned == "" {
			continue
		}
		n, err := strconv.Atoi(l.Planned)
		if err != nil || n < 0 {
			fields.Add(fmt.Sprintf("items[%d].planned", len(items)), "is not a whole number")
		}
		items = append(items, reports.PlanItemInput{CourseID: l.CourseID, ClassID: l.ClassID, Planned: n})
		lines = append(lines, l)
		rows = append(rows, len(lines)-1)
	}
	return items, lines, rows, fields
}

// markPlanLines puts the errors of items[i].… fields on their lines.
func markPlanLines(v *view, lines []planLine) {
	for i := range lines {
		lines[i].CourseErr = v.Errors[fmt.Sprintf("items[%d].course_id", i)]
		if lines[i].CourseErr == "" {
			lines[i].CourseErr = v.Errors[fmt.Sprintf("items[%d].class_id", i)]
		}
		if lines[i].CourseErr == "" {
			lines[i].CourseErr = v.Errors[fmt.Sprintf("items[%d]", i)]
		}
		lines[i].PlannedErr = v.Errors[fmt.Sprintf("items[%d].planned", i)]
	}
}

// createPlan stores a unit's plan for a year and shows its report.
func (f *Frontend) createPlan(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	items, lines, _, fields := planForm(c)
	year, yerr := strconv.Atoi(strings.TrimSpace(c.FormValue("year")))
	fields.Check(yerr != nil, "year", "is not a whole number")
	err = fields.Err()
	if err == nil {
		var plan reports.Plan
		plan, err = f.d.Reports.CreatePlan(c.UserContext(), p, reports.PlanInput{
			UnitID: c.FormValue("unit_id"), Year: year, Title: c.FormValue("title"), Items: items})
		if err == nil {
			return c.Redirect("/reports/plans/"+plan.ID+"?ok=plan_created", http.StatusSeeOther)
		}
	}
	v := f.newView(c, "reports")
	status, handled := v.formFailed(err, "plans.exists")
	if !handled {
		return err
	}
	v.Form = formValues(c, "unit_id", "year", "title")
	markPlanLines(v, lines)
	c.Status(status)
	return f.renderPlans(c, v, p, lines)
}

// planPage shows a plan compared with what happened, with the form to change it.
func (f *Frontend) planPage(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	v := f.newView(c, "reports")
	switch c.Query("ok") {
	case "plan_created":
		v.Flash, v.Notice = v.T("flash.plan_created"), "ok"
	case "saved":
		v.Flash, v.Notice = v.T("flash.saved"), "ok"
	}
	return f.renderPlan(c, v, p, nil)
}

func (f *Frontend) renderPlan(c *fiber.Ctx, v *view, p accounts.Principal, lines []planLine) error {
	rep, err := f.d.Reports.PlanReport(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	d := planData{Report: rep}
	if d.Courses, err = f.publishedCourses(c, p); err != nil {
		return err
	}
	if lines == nil {
		for _, it := range rep.Plan.Items {
			lines = append(lines, planLine{CourseID: it.CourseID, ClassID: it.ClassID, Planned: strconv.Itoa(it.Planned)})
			if !hasCourse(d.Courses, it.CourseID) {
				// An archived course stays choosable on the lines that name it.
				d.Courses = append(d.Courses, courseOption{it.CourseID, it.Title})
			}
		}
	}
	if v.Form == nil {
		v.Form = map[string]string{"title": rep.Plan.Title}
	}
	d.Lines = withBlankLines(lines)
	v.Data = d
	return f.render(c, "plan", v)
}

func hasCourse(cs []courseOption, id string) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

// updatePlan changes a plan's title and lines (its unit and year stay).
func (f *Frontend) updatePlan(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	ctx, id := c.UserContext(), c.Params("id")
	plan, err := f.d.Reports.GetPlan(ctx, p, id)
	if err != nil {
		return err
	}
	items, lines, _, fields := planForm(c)
	err = fields.Err()
	if err == nil {
		_, err = f.d.Reports.UpdatePlan(ctx, p, id, reports.PlanInput{
			UnitID: plan.UnitID, Year: plan.Year, Title: c.FormValue("title"), Items: items})
		if err == nil {
			return c.Redirect("/reports/plans/"+id+"?ok=saved", http.StatusSeeOther)
		}
	}
	v := f.newView(c, "reports")
	status, handled := v.formFailed(err, "error.conflict.text")
	if !handled {
		return err
	}
	v.Form = formValues(c, "title")
	markPlanLines(v, lines)
	if lines == nil {
		lines = []planLine{}
	}
	c.Status(status)
	return f.renderPlan(c, v, p, lines)
}

type officerCertificatesData struct {
	Tree         unitTree
	UnitID       string
	Certificates []reports.Certificate
	More         int
}

// officerCertificatesPage lists the certificates of the learners of a unit the caller
// manages, each with the form to revoke it.
func (f *Frontend) officerCertificatesPage(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	return f.renderOfficerCertificates(c, f.newView(c, "reports"), p)
}

func (f *Frontend) renderOfficerCertificates(c *fiber.Ctx, v *view, p accounts.Principal) error {
	tree, err := f.managedTree(c, p)
	if err != nil {
		return err
	}
	d := officerCertificatesData{Tree: tree, UnitID: c.Query("unit_id")}
	if d.UnitID == "" && len(tree.Roots) > 0 {
		d.UnitID = tree.Roots[0].ID
	}
	if d.UnitID != "" {
		page, err := f.d.Reports.ListCertificates(c.UserContext(), p, reports.CertificateFilter{UnitID: d.UnitID, Limit: 500})
		if err != nil {
			return err
		}
		d.Certificates, d.More = page.Items, page.Total-len(page.Items)
	}
	if c.Query("ok") == "revoked" && v.Flash == "" {
		v.Flash, v.Notice = v.T("flash.certificate_revoked"), "ok"
	}
	v.Data = d
	return f.render(c, "certificates_admin", v)
}

// revokeCertificate revokes a certificate with a reason and goes back to the list.
func (f *Frontend) revokeCertificate(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	_, err = f.d.Reports.RevokeCertificate(c.UserContext(), p, c.Params("id"), strings.TrimSpace(c.FormValue("reason")))
	if err == nil {
		return c.Redirect("/reports/certificates?unit_id="+url.QueryEscape(c.FormValue("unit_id"))+"&ok=revoked", http.StatusSeeOther)
	}
	v := f.newView(c, "reports")
	status, handled := v.formFailed(err, "certificates.already_revoked")
	if !handled {
		return err
	}
	if msg := v.Errors["reason"]; msg != "" {
		v.Flash = v.T("certificates.reason_needed")
	}
	c.Status(status)
	c.Request().URI().SetQueryString("unit_id=" + url.QueryEscape(c.FormValue("unit_id")))
	return f.renderOfficerCertificates(c, v, p)
}
