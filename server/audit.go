package server

import (
	"bytes"
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/audit"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/errs"
)

// buildAudit makes the audit log over db, creates its indexes, and gives it to accounts,
// which the log reads unit paths from (so accounts is built first and gets it by setter).
// The other domains get it through their Config.
func buildAudit(ctx context.Context, db *database.DB, acc *accounts.Service, now clock.Clock) (*audit.Log, error) {
	l := audit.New(audit.Config{DB: db.Database, Units: acc, Clock: now})
	if err := l.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	acc.SetAuditor(l)
	return l, nil
}

// routeAudit registers GET /api/v1/audit: the audit log for admins (every entry) and
// unit_admins (the entries touching their units), as JSON pages or, with format=csv, as
// one CSV file of every match.
func (s *Server) routeAudit(api fiber.Router) {
	api.Get("/audit", requireAuth, s.listAudit)
}

// auditFilter reads actor, action, since, until, limit and offset from the query string.
func auditFilter(c *fiber.Ctx) (audit.Filter, error) {
	limit, offset, err := pageParams(c)
	if err != nil {
		return audit.Filter{}, err
	}
	return audit.Filter{Actor: c.Query("actor"), Action: c.Query("action"), Since: c.Query("since"), Until: c.Query("until"),
		Limit: limit, Offset: offset}, nil
}

func (s *Server) listAudit(c *fiber.Ctx) error {
	format := c.Query("format", "json")
	if format != "json" && format != "csv" {
		return errs.Field("format", "must be json or csv")
	}
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	if format == "csv" {
		// Built in memory before anything is sent, so a refusal or a failure still answers
		// with its status and JSON error rather than half a file.
		var b bytes.Buffer
		if err := s.audit.WriteCSV(c.UserContext(), principal(c), f, &b); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="audit-%s.csv"`, s.now().UTC().Format("20060102-150405")))
		c.Set(fiber.HeaderCacheControl, "private, no-store")
		return c.Send(b.Bytes())
	}
	page, err := s.audit.List(c.UserContext(), principal(c), f)
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}
