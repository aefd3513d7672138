package frontend

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/internal/errs"
	"hoctap/reports"
)

// Reports is what the dashboard, target and certificate pages need of the reports service
// (*reports.Service has it).
type Reports interface {
	UnitDashboard(ctx context.Context, actor accounts.Principal, unitID string) (reports.Dashboard, error)
	ListTargets(ctx context.Context, actor accounts.Principal, f reports.TargetFilter) (accounts.Page[reports.Target], error)
	CreateTarget(ctx context.Context, actor accounts.Principal, in reports.NewTarget) (reports.Target, error)
	TargetStatus(ctx context.Context, actor accounts.Principal, id string, q reports.StatusQuery) (reports.TargetStatus, error)
	PendingPeople(ctx context.Context, actor accounts.Principal, id string, q reports.PendingQuery) (accounts.Page[reports.Person], error)
	ListMyCertificates(ctx context.Context, actor accounts.Principal) (accounts.Page[reports.Certificate], error)
	IssueClassCertificates(ctx context.Context, actor accounts.Principal, classID string) (int, error)
	Verify(ctx context.Context, number string) (reports.VerifiedCertificate, error)
	ListCertificates(ctx context.Context, actor accounts.Principal, f reports.CertificateFilter) (accounts.Page[reports.Certificate], error)
	RevokeCertificate(ctx context.Context, actor accounts.Principal, id, reason string) (reports.Certificate, error)
	ListPlans(ctx context.Context, actor accounts.Principal, f reports.PlanFilter) (accounts.Page[reports.Plan], error)
	CreatePlan(ctx context.Context, actor accounts.Principal, in reports.PlanInput) (reports.Plan, error)
	GetPlan(ctx context.Context, actor accounts.Principal, id string) (reports.Plan, error)
	UpdatePlan(ctx context.Context, actor accounts.Principal, id string, in reports.PlanInput) (reports.Plan, error)
	PlanReport(ctx context.Context, actor accounts.Principal, id string) (reports.PlanReport, error)
}

func (f *Frontend) mountReports(r fiber.Router, signedIn func(fiber.Handler) []fiber.Handler) {
	r.Get("/reports", signedIn(f.dashboardPage)...)
	r.Post("/reports/targets", signedIn(f.createTarget)...)
	r.Get("/reports/targets/:id", signedIn(f.targetPage)...)
	r.Get("/certificates", signedIn(f.certificatesPage)...)
	r.Get("/reports/plans", signedIn(f.plansPage)...)
	r.Post("/reports/plans", signedIn(f.createPlan)...)
	r.Get("/reports/plans/:id", signedIn(f.planPage)...)
	r.Post("/reports/plans/:id", signedIn(f.updatePlan)...)
	r.Get("/reports/certificates", signedIn(f.officerCertificatesPage)...)
	r.Post("/reports/certificates/:id/revoke", signedIn(f.revokeCertificate)...)
	r.Post("/teach/classes/:id/certificates", signedIn(f.issueCertificates)...)
}

// verifyCertificate is public: whoever holds a printed certificate (its QR code points
// here) checks its number, seeing only the name, course, date and whether it was revoked.
func (f *Frontend) verifyCertificate(c *fiber.Ctx) error {
	if f.d.Reports == nil {
		return fmt.Errorf("certificates are not enabled on this server: %w", errs.ErrUnavailable)
	}
	number := c.Params("number")
	if len(number) > 64 {
		return fmt.Errorf("certificate number: %w", errs.ErrNotFound)
	}
	cert, err := f.d.Reports.Verify(c.UserContext(), number)
	v := f.newView(c, "")
	switch {
	case err == nil:
		v.Data = verifyData{Found: true, Cert: cert}
	case errsIs(err, "not_found"):
		v.Data = verifyData{Number: number}
		c.Status(http.StatusNotFound)
	default:
		return err
	}
	return f.render(c, "verify", v)
}

type verifyData struct {
	Found  bool
	Number string
	Cert   reports.VerifiedCertificate
}

// issueCertificates issues the certificates of a class's learners who completed it.
func (f *Frontend) issueCertificates(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	n, err := f.d.Reports.IssueClassCertificates(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	return c.Redirect("/teach/classes/"+c.Params("id")+"?issued="+strconv.Itoa(n), http.StatusSeeOther)
}

// PaceName is the translated pace of a unit towards a target.
func (v *view) PaceName(p reports.Pace) string { return v.T("pace." + string(p)) }

// MetricName is the translated metric of a target.
func (v *view) MetricName(m reports.Metric) string { return v.T("metric." + string(m)) }

type dashboardData struct {
	Tree      unitTree
	UnitID    string
	Dashboard reports.Dashboard
	Courses   []courseOption
	Metrics   []reports.Metric
}

type courseOption struct{ ID, Title string }

// dashboardPage is the personnel officer's dashboard of a unit: every target covering it,
// its figures and those of the units one level below.
func (f *Frontend) dashboardPage(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	return f.renderDashboard(c, f.newView(c, "reports"), p)
}

func (f *Frontend) renderDashboard(c *fiber.Ctx, v *view, p accounts.Principal) error {
	tree, err := f.managedTree(c, p)
	if err != nil {
		return err
	}
	d := dashboardData{Tree: tree, UnitID: c.Query("unit_id"), Metrics: []reports.Metric{reports.MetricCompleted, reports.MetricPassed, reports.MetricAttended}}
	if v.Form != nil && v.Form["unit_id"] != "" {
		d.UnitID = v.Form["unit_id"]
	}
	if d.UnitID == "" && len(tree.Roots) > 0 {
		d.UnitID = tree.Roots[0].ID
	}
	if d.UnitID != "" {
		if d.Dashboard, err = f.d.Reports.UnitDashboard(c.UserContext(), p, d.UnitID); err != nil {
			return err
		}
	}
	if f.d.Teaching != nil {
		page, err := f.d.Teaching.ListCourses(c.UserContext(), p, coursesFilterPublished)
		if err != nil {
			return err
		}
		for _, cs := range page.Items {
			d.Courses = append(d.Courses, courseOption{cs.ID, cs.Title})
		}
	}
	if c.Query("ok") == "target_created" && v.Flash == "" {
		v.Flash, v.Notice = v.T("flash.target_created"), "ok"
	}
	v.Data = d
	return f.render(c, "dashboard", v)
}

func (f *Frontend) createTarget(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	in := reports.NewTarget{
		UnitID: c.FormValue("unit_id"), Title: c.FormValue("title"), CourseID: c.FormValue("course_id"),
		Metric: reports.Metric(c.FormValue("metric")), Due: c.FormValue("due"),
	}
	var fields errs.Fields
	pct, ok := parseDecimal(strings.TrimSpace(c.FormValue("percent")))
	fields.Check(!ok, "percent", "is not a whole number")
	in.Percent = pct
	in.MinMinutes = formInt(c, "min_minutes", &fields)
	for _, pos := range strings.Split(c.FormValue("positions"), ",") {
		if pos = strings.TrimSpace(pos); pos != "" {
			in.Positions = append(in.Positions, pos)
		}
	}
	err = fields.Err()
	if err == nil {
		var t reports.Target
		if t, err = f.d.Reports.CreateTarget(c.UserContext(), p, in); err == nil {
			return c.Redirect("/reports/targets/"+t.ID+"?ok=target_created", http.StatusSeeOther)
		}
	}
	v := f.newView(c, "reports")
	status, handled := v.formFailed(err, "error.conflict.text")
	if !handled {
		return err
	}
	v.Form = formValues(c, "unit_id", "title", "course_id", "metric", "percent", "due", "positions", "min_minutes")
	c.Status(status)
	return f.renderDashboard(c, v, p)
}

// statusRow is one unit of a target's tree, flattened for a table.
type statusRow struct {
	*reports.StatusNode
}

type targetData struct {
	Status  reports.TargetStatus
	Rows    []statusRow
	Pending []reports.Person
	More    int
}

// targetPage shows a target rolled up over the whole unit tree and who is not done yet.
func (f *Frontend) targetPage(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	ctx, id := c.UserContext(), c.Params("id")
	st, err := f.d.Reports.TargetStatus(ctx, p, id, reports.StatusQuery{UnitID: c.Query("unit_id")})
	if err != nil {
		return err
	}
	pending, err := f.d.Reports.PendingPeople(ctx, p, id, reports.PendingQuery{UnitID: c.Query("unit_id"), Limit: 200})
	if err != nil {
		return err
	}
	people := pending.Items
	SortByName(people, func(x reports.Person) string { return x.FullName })
	d := targetData{Status: st, Pending: people, More: pending.Total - len(people)}
	var walk func(n *reports.StatusNode)
	walk = func(n *reports.StatusNode) {
		d.Rows = append(d.Rows, statusRow{n})
		for _, ch := range n.Children {
			walk(ch)
		}
	}
	root := st.StatusNode
	walk(&root)
	v := f.newView(c, "reports")
	if c.Query("ok") == "target_created" {
		v.Flash, v.Notice = v.T("flash.target_created"), "ok"
	}
	v.Data = d
	return f.render(c, "target", v)
}

// Indent pads a unit's name by its depth in the status tree.
func (r statusRow) Indent() string { return strings.Repeat("— ", r.Depth) }

type certificatesData struct {
	Certificates []reports.Certificate
}

// certificatesPage lists the learner's certificates with their PDF and verification link.
func (f *Frontend) certificatesPage(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	page, err := f.d.Reports.ListMyCertificates(c.UserContext(), p)
	if err != nil {
		return err
	}
	v := f.newView(c, "certificates")
	v.Data = certificatesData{Certificates: page.Items}
	return f.render(c, "certificates", v)
}

// Day shows a calendar day given as yyyy-mm-dd (a target's due date) as dd/MM/yyyy; a
// value that is not such a day shows as it is.
func (v *view) Day(s string) string {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return s
	}
	return d.Format("02/01/2006")
}
