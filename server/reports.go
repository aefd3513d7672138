package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"hoctap/internal/errs"
	"hoctap/internal/ids"
	"hoctap/reports"
)

// routeReports registers training targets, dashboards, plans, exports and certificates.
// GET /api/v1/certificates/verify/{number} is public (no sign-in): it answers JSON for
// the verification page at /verify/{number}, which the frontend renders.
func (s *Server) routeReports(api fiber.Router) {
	api.Post("/targets", requireAuth, withBody(s, http.StatusCreated, s.reports.CreateTarget))
	api.Get("/targets", requireAuth, s.listTargets)
	api.Get("/targets/:id", requireAuth, byID(s.reports.GetTarget))
	api.Delete("/targets/:id", requireAuth, noContentByID(s.reports.DeleteTarget))
	api.Get("/targets/:id/status", requireAuth, s.targetStatus)
	api.Get("/targets/:id/pending", requireAuth, s.targetPending)
	api.Get("/targets/:id/chart.svg", requireAuth, s.targetChart)

	api.Get("/reports/units/:id/dashboard", requireAuth, byID(s.reports.UnitDashboard))
	api.Get("/reports/classes/:id.xlsx", requireAuth, s.classReport)
	api.Get("/reports/classes/:id/attendance.xlsx", requireAuth, s.attendanceReport)
	api.Get("/reports/targets/:id.xlsx", requireAuth, s.targetReport)
	api.Get("/reports/plans/:id.xlsx", requireAuth, s.planReportXLSX)

	api.Post("/plans", requireAuth, withBody(s, http.StatusCreated, s.reports.CreatePlan))
	api.Get("/plans", requireAuth, s.listPlans)
	api.Get("/plans/:id", requireAuth, byID(s.reports.GetPlan))
	api.Put("/plans/:id", requireAuth, byIDWithBody(s, http.StatusOK, s.reports.UpdatePlan))
	api.Delete("/plans/:id", requireAuth, noContentByID(s.reports.DeletePlan))
	api.Get("/plans/:id/report", requireAuth, byID(s.reports.PlanReport))

	api.Get("/certificates/verify/:number", s.verifyCertificate)
	api.Get("/me/certificates", requireAuth, s.myCertificates)
	api.Get("/certificates", requireAuth, s.listCertificates)
	api.Get("/certificates/:id.pdf", requireAuth, s.certificatePDF)
	api.Get("/certificates/:id/print", requireAuth, s.certificatePage)
	api.Get("/certificates/:id", requireAuth, byID(s.reports.GetCertificate))
	api.Post("/certificates/:id/revoke", requireAuth, s.revokeCertificate)
	api.Post("/classes/:id/certificates", requireAuth, s.issueClassCertificates)
}

// reportsDirectoryHook tells reports about a successful change to users or units (through
// the API or the admin pages), so that a move, a deactivation, a new user or a new unit
// shows in roll-ups at once rather than after reports.Config.CacheTTL: a change to one
// user or unit is applied to reports' directory snapshot (reports.UserChanged,
// UnitChanged: one find by id); an import, or a new user whose id the hook cannot see (the
// admin page answers with a redirect), marks the snapshots for a background reload
// (reports.Invalidate). Enrolment and progress changes are frequent and are left to the
// snapshots' lifetime.
func (s *Server) reportsDirectoryHook(c *fiber.Ctx) error {
	err := c.Next()
	if err != nil || safeMethod(c.Method()) || c.Response().StatusCode() >= http.StatusBadRequest {
		return err
	}
	if rerr := s.applyDirectoryChange(c); rerr != nil {
		// The change itself is stored and answered; reports catches up with a reload.
		s.log.Warn("reports: applying a directory change, reloading instead", "path", c.Path(), "err", rerr)
		s.reports.Invalidate()
	}
	return nil
}

// applyDirectoryChange passes the change a successful write to c.Path() made to reports.
// Paths: {/api/v1,/admin}/users[/import|/{id}[/...]] and {/api/v1,/admin}/units[/{id}].
func (s *Server) applyDirectoryChange(c *fiber.Ctx) error {
	ctx := c.UserContext()
	var kind, rest string
	for _, prefix := range []string{"/api/v1/", "/admin/"} {
		if r, ok := strings.CutPrefix(c.Path(), prefix); ok {
			kind, rest, _ = strings.Cut(strings.Trim(r, "/"), "/")
			break
		}
	}
	id, _, _ := strings.Cut(rest, "/")
	if id == "" { // a creation: the API answers with the new document
		var created struct {
			ID string `json:"id"`
		}
		if strings.HasPrefix(string(c.Response().Header.ContentType()), fiber.MIMEApplicationJSON) &&
			json.Unmarshal(c.Response().Body(), &created) == nil {
			id = created.ID
		}
	}
	switch {
	case kind == "users" && ids.Valid(id):
		return s.reports.UserChanged(ctx, id)
	case kind == "units" && ids.Valid(id):
		return s.reports.UnitChanged(ctx, id)
	case kind == "units" && rest == "":
		return s.reports.UnitsChanged(ctx)
	default: // an import, or a user created through the admin page
		s.reports.Invalidate()
		return nil
	}
}

// routeReportsHooks registers reportsDirectoryHook; routes calls it before the accounts
// routes and the pages, so that it wraps them.
func (s *Server) routeReportsHooks(api fiber.Router) {
	api.Use("/users", s.reportsDirectoryHook)
	api.Use("/units", s.reportsDirectoryHook)
	s.app.Use("/admin/users", s.reportsDirectoryHook)
	s.app.Use("/admin/units", s.reportsDirectoryHook)
}

// intQuery reads an optional whole-number query parameter at least lo.
func intQuery(c *fiber.Ctx, name string, lo int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo {
		return 0, errs.Field(name, "must be a whole number of at least "+strconv.Itoa(lo))
	}
	return n, nil
}

func (s *Server) listTargets(c *fiber.Ctx) error {
	limit, offset, err := pageParams(c)
	if err != nil {
		return err
	}
	page, err := s.reports.ListTargets(c.UserContext(), principal(c), reports.TargetFilter{UnitID: c.Query("unit_id"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}

// statusQuery reads ?unit_id= and ?depth=.
func statusQuery(c *fiber.Ctx) (reports.StatusQuery, error) {
	depth, err := intQuery(c, "depth", 0)
	if err != nil {
		return reports.StatusQuery{}, err
	}
	return reports.StatusQuery{UnitID: c.Query("unit_id"), Depth: depth}, nil
}

func (s *Server) targetStatus(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	q, err := statusQuery(c)
	if err != nil {
		return err
	}
	st, err := s.reports.TargetStatus(c.UserContext(), principal(c), id, q)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (s *Server) targetPending(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	limit, offset, err := pageParams(c)
	if err != nil {
		return err
	}
	page, err := s.reports.PendingPeople(c.UserContext(), principal(c), id, reports.PendingQuery{UnitID: c.Query("unit_id"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}

func (s *Server) targetChart(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	kind := c.Query("kind", reports.ChartBars)
	svg, err := s.reports.TargetChart(c.UserContext(), principal(c), id, reports.StatusQuery{UnitID: c.Query("unit_id")}, kind)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(svg)
}

// sendXLSX builds a spreadsheet and sends it as a download. It is built into memory
// before the status is sent, so that an error still gets a proper error response; the
// compressed file is small (50,000 learners make about 2.5 MB).
func sendXLSX(c *fiber.Ctx, filename string, build func(ctx context.Context, w io.Writer) error) error {
	var buf bytes.Buffer
	if err := build(c.UserContext(), &buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, reports.XLSXContentType)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(buf.Bytes())
}

func (s *Server) classReport(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return sendXLSX(c, "lop-"+id+".xlsx", func(ctx context.Context, w io.Writer) error {
		return s.reports.ClassReportXLSX(ctx, principal(c), id, w)
	})
}

func (s *Server) attendanceReport(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return sendXLSX(c, "diem-danh-"+id+".xlsx", func(ctx context.Context, w io.Writer) error {
		return s.reports.AttendanceReportXLSX(ctx, principal(c), id, w)
	})
}

func (s *Server) targetReport(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	q, err := statusQuery(c)
	if err != nil {
		return err
	}
	return sendXLSX(c, "chi-tieu-"+id+".xlsx", func(ctx context.Context, w io.Writer) error {
		return s.reports.TargetReportXLSX(ctx, principal(c), id, q, w)
	})
}

func (s *Server) planReportXLSX(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return sendXLSX(c, "ke-hoach-"+id+".xlsx", func(ctx context.Context, w io.Writer) error {
		return s.reports.PlanReportXLSX(ctx, principal(c), id, w)
	})
}

func (s *Server) listPlans(c *fiber.Ctx) error {
	limit, offset, err := pageParams(c)
	if err != nil {
		return err
	}
	year, err := intQuery(c, "year", 1)
	if err != nil {
		return err
	}
	page, err := s.reports.ListPlans(c.UserContext(), principal(c), reports.PlanFilter{UnitID: c.Query("unit_id"), Year: year, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}

// verifyCertificate is public: anyone holding a printed certificate may check its number.
func (s *Server) verifyCertificate(c *fiber.Ctx) error {
	number, err := idParam(c, "number")
	if err != nil {
		return errs.ErrNotFound
	}
	v, err := s.reports.Verify(c.UserContext(), number)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(v)
}

func (s *Server) myCertificates(c *fiber.Ctx) error {
	page, err := s.reports.ListMyCertificates(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}

func (s *Server) listCertificates(c *fiber.Ctx) error {
	limit, offset, err := pageParams(c)
	if err != nil {
		return err
	}
	page, err := s.reports.ListCertificates(c.UserContext(), principal(c), reports.CertificateFilter{
		ClassID: c.Query("class_id"), UnitID: c.Query("unit_id"), UserID: c.Query("user_id"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}

func (s *Server) certificatePDF(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	pdf, cert, err := s.reports.CertificatePDF(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+cert.Number+`.pdf"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(pdf)
}

func (s *Server) certificatePage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	page, err := s.reports.CertificateHTML(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(page)
}

type revokeBody struct {
	Reason string `json:"reason"`
}

func (s *Server) revokeCertificate(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b revokeBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	cert, err := s.reports.RevokeCertificate(c.UserContext(), principal(c), id, b.Reason)
	if err != nil {
		return err
	}
	return c.JSON(cert)
}

type issuedResponse struct {
	Issued int `json:"issued"`
}

func (s *Server) issueClassCertificates(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	n, err := s.reports.IssueClassCertificates(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	return c.JSON(issuedResponse{Issued: n})
}
