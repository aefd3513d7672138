package frontend

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/audit"
	"hoctap/audit/trail"
)

// AuditLog is what the audit page reads; audit.Log satisfies it.
type AuditLog interface {
	List(ctx context.Context, actor accounts.Principal, f audit.Filter) (accounts.Page[audit.Entry], error)
}

const auditPageSize = 50

type auditData struct {
	Actor, Action, Since, Until string
	Actions                     []trail.Action
	Entries                     []audit.Entry
	Total                       int
	CSVURL                      string
}

func (f *Frontend) mountAudit(r fiber.Router, signedIn func(fiber.Handler) []fiber.Handler) {
	r.Get("/admin/audit", signedIn(f.auditPage)...)
}

// ActionName is the translated name of an audit action.
func (v *view) ActionName(a trail.Action) string { return v.T("auditaction." + string(a)) }

// Details shows an entry's details as "key=value" lines sorted by key.
func (v *view) Details(e audit.Entry) []string {
	out := make([]string, 0, len(e.Details))
	for _, k := range slices.Sorted(maps.Keys(e.Details)) {
		out = append(out, k+"="+e.Details[k])
	}
	return out
}

// auditPage lists the audit log for admins (every entry) and unit admins (the entries
// touching their units), newest first, filtered by actor, action and a range of days
// (dd/MM/yyyy), with a link to the same selection as CSV.
func (f *Frontend) auditPage(c *fiber.Ctx) error {
	p, err := f.requireManager(c)
	if err != nil {
		return err
	}
	v := f.newView(c, "audit")
	d := auditData{Actions: trail.Actions}
	d.Actor, d.Action = strings.TrimSpace(c.Query("actor")), strings.TrimSpace(c.Query("action"))
	d.Since, d.Until = strings.TrimSpace(c.Query("since")), strings.TrimSpace(c.Query("until"))
	pageNo, _ := strconv.Atoi(c.Query("page"))
	pageNo = max(pageNo, 1)
	args := url.Values{}
	for k, val := range map[string]string{"actor": d.Actor, "action": d.Action, "since": d.Since, "until": d.Until} {
		if val != "" {
			args.Set(k, val)
		}
	}
	page, err := f.d.Audit.List(c.UserContext(), p, audit.Filter{Actor: d.Actor, Action: d.Action, Since: d.Since, Until: d.Until,
		Limit: auditPageSize, Offset: (pageNo - 1) * auditPageSize})
	if err != nil {
		status, ok := v.formFailed(err, "error.conflict.text")
		if !ok {
			return err
		}
		c.Status(status)
		v.Data = d
		return f.render(c, "audit", v)
	}
	d.Entries, d.Total = page.Items, page.Total
	pages := max(1, (d.Total+auditPageSize-1)/auditPageSize)
	pageURL := func(n int) string {
		a := url.Values{}
		for k, vs := range args {
			a[k] = vs
		}
		a.Set("page", strconv.Itoa(n))
		return "/admin/audit?" + a.Encode()
	}
	v.Pager = newPager(pageNo, pages, pageURL)
	csv := url.Values{"format": {"csv"}}
	for k, vs := range args {
		csv[k] = vs
	}
	d.CSVURL = "/api/v1/audit?" + csv.Encode()
	v.Data = d
	return f.render(c, "audit", v)
}
