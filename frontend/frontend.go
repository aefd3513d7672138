package frontend

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"

	"hoctap/accounts"
	"hoctap/internal/clock"
	"hoctap/internal/errs"
)

// Accounts is what the pages need of the accounts service (*accounts.Service has it).
type Accounts interface {
	Login(ctx context.Context, username, password, ip string) (accounts.LoginResult, error)
	Logout(ctx context.Context, token string) error
	UpdateUser(ctx context.Context, actor accounts.Principal, id string, p accounts.UserPatch) (accounts.User, error)
	CreateUser(ctx context.Context, actor accounts.Principal, in accounts.NewUser) (accounts.User, error)
	ListUsers(ctx context.Context, actor accounts.Principal, f accounts.UserFilter) (accounts.Page[accounts.User], error)
	ImportUsers(ctx context.Context, actor accounts.Principal, r io.Reader) (accounts.ImportResult, error)
	AllUnits(ctx context.Context) ([]accounts.Unit, error)
	CreateUnit(ctx context.Context, actor accounts.Principal, in accounts.NewUnit) (accounts.Unit, error)
	UpdateUnit(ctx context.Context, actor accounts.Principal, id string, p accounts.UnitPatch) (accounts.Unit, error)
	ManagedUnitIDs(ctx context.Context, u accounts.User) (all bool, unitIDs []string, err error)
	FindUsersByIDs(ctx context.Context, userIDs []string) ([]accounts.User, error)
	FindUserByID(ctx context.Context, actor accounts.Principal, id string) (accounts.User, error)
}

// Deps is everything the frontend needs from the composition root (server). The frontend
// never imports server: the server passes its authentication middleware, a way to read
// the caller it stored, and its session-cookie helpers.
type Deps struct {
	Accounts Accounts
	// Courses and Media may be nil while those services are not wired: the learner pages
	// are then not mounted.
	Courses    Courses
	Teaching   Teaching
	Assessment Assessment
	Authoring  Authoring
	Reports    Reports
	Live       Live
	Media      Media
	// Audit is the audit log, read by /admin/audit; nil answers that page with 503.
	Audit AuditLog

	// Authenticate is the server's middleware: it stores the caller of a valid session
	// cookie (read back with Principal), passes anonymous requests through, and refuses an
	// expired or revoked session (401) and a cookie-authenticated unsafe request without
	// the session's csrf_token form field or X-CSRF-Token header.
	Authenticate fiber.Handler
	// Principal returns the caller Authenticate stored, if any.
	Principal func(c *fiber.Ctx) (accounts.Principal, bool)
	// SessionToken returns the session cookie's token ("" when none).
	SessionToken func(c *fiber.Ctx) string
	// SetSession and ClearSession write and remove the session cookie.
	SetSession   func(c *fiber.Ctx, token string, expires time.Time)
	ClearSession func(c *fiber.Ctx)
	// SecureCookies marks the frontend's own cookies Secure (the site is served over HTTPS).
	SecureCookies bool
	// MediaOrigins are origins (scheme://host:port) besides the site itself that pages may
	// load media from and upload to: the object store's public endpoint.
	MediaOrigins []string

	Log *slog.Logger
	Now clock.Clock
}

// Frontend serves the pages and static assets.
type Frontend struct {
	d      Deps
	msgs   catalogues
	pages  map[string]*template.Template
	static map[string]staticFile
	csp    string
	gzip   fiber.Handler
}

// Cookies the frontend sets besides the session cookie.
const (
	langCookie = "hoctap_lang" // an anonymous visitor's language
	formCookie = "hoctap_form" // double-submit token for anonymous forms (login, language)
	csrfField  = "csrf_token"
)

// New builds the frontend. It panics when the embedded templates, catalogues or static
// files are malformed: they are compiled into the binary, and the package's tests parse
// them, so that is a programming error, like template.Must.
func New(d Deps) *Frontend {
	if d.Now == nil {
		d.Now = clock.System
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	msgs, err := loadCatalogues()
	if err != nil {
		panic(err)
	}
	pages, err := parsePages()
	if err != nil {
		panic(err)
	}
	static, err := loadStatic()
	if err != nil {
		panic(err)
	}
	return &Frontend{
		d: d, msgs: msgs, pages: pages, static: static,
		csp:  contentSecurityPolicy(d.MediaOrigins),
		gzip: compress.New(compress.Config{Level: compress.LevelBestSpeed}),
	}
}

// contentSecurityPolicy forbids inline scripts and styles everywhere; media may come from
// the object store, whose presigned URLs are on another origin.
func contentSecurityPolicy(media []string) string {
	extra := ""
	for _, o := range media {
		if u, err := url.Parse(o); err == nil && u.Scheme != "" && u.Host != "" {
			extra += " " + u.Scheme + "://" + u.Host
		}
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:" + extra +
		"; media-src 'self' blob:" + extra + "; connect-src 'self'" + extra + "; frame-src 'self'" + extra +
		"; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
}

// Mount registers the page routes and /static/* on r.
func (f *Frontend) Mount(r fiber.Router) {
	r.Get("/static/*", f.serveStatic)

	r.Get("/", f.gzip, f.d.Authenticate, f.home)
	r.Get("/login", f.gzip, f.loginPage)
	r.Post("/login", f.login)
	r.Post("/logout", f.d.Authenticate, f.logout)
	r.Post("/language", f.d.Authenticate, f.setLanguage)
	r.Get("/verify/:number", f.gzip, f.d.Authenticate, f.verifyCertificate)

	signedIn := func(h fiber.Handler) []fiber.Handler {
		return []fiber.Handler{f.gzip, f.d.Authenticate, f.requireUser, h}
	}
	// Every page route is registered whatever is wired, so the routes (and their OpenAPI
	// entries) do not depend on the wiring; an area whose service is missing answers 503.
	f.mountLearn(r, f.needs(f.d.Courses != nil, signedIn))
	f.mountTeach(r, f.needs(f.d.Teaching != nil, signedIn))
	f.mountQuiz(r, f.needs(f.d.Assessment != nil, signedIn))
	f.mountLive(r, f.needs(f.d.Live != nil, signedIn))
	f.mountBanks(r, f.needs(f.d.Authoring != nil, signedIn))
	f.mountReports(r, f.needs(f.d.Reports != nil, signedIn))
	f.mountAudit(r, f.needs(f.d.Audit != nil, signedIn))
	r.Get("/account", signedIn(f.accountPage)...)
	r.Post("/account/password", signedIn(f.changePassword)...)

	r.Get("/admin/units", signedIn(f.unitsPage)...)
	r.Post("/admin/units", signedIn(f.createUnit)...)
	r.Post("/admin/units/:id", signedIn(f.updateUnit)...)
	r.Get("/admin/users", signedIn(f.usersPage)...)
	r.Get("/admin/users/new", signedIn(f.newUserPage)...)
	r.Post("/admin/users", signedIn(f.createUser)...)
	r.Get("/admin/users/import", signedIn(f.importPage)...)
	r.Post("/admin/users/import", signedIn(f.importUsers)...)
	r.Get("/admin/users/:id", signedIn(f.editUserPage)...) // after the fixed paths above
	r.Post("/admin/users/:id", signedIn(f.updateUser)...)
}

// needs wraps signedIn so that, when the area's service is not wired, its pages answer
// 503 unavailable instead of failing.
func (f *Frontend) needs(wired bool, signedIn func(fiber.Handler) []fiber.Handler) func(fiber.Handler) []fiber.Handler {
	if wired {
		return signedIn
	}
	return func(fiber.Handler) []fiber.Handler {
		return signedIn(func(*fiber.Ctx) error {
			return fmt.Errorf("this part of Hoctap is not enabled on this server: %w", errs.ErrUnavailable)
		})
	}
}

// requireUser sends anonymous visitors to the sign-in page, coming back here afterwards.
func (f *Frontend) requireUser(c *fiber.Ctx) error {
	if _, ok := f.d.Principal(c); ok {
		return c.Next()
	}
	return c.Redirect("/login?next="+url.QueryEscape(nextPath(c)), http.StatusSeeOther)
}

// nextPath is where to come back to after signing in: this page for a GET; for a form
// sent after the session ended, the page the form was on (so a quiz page, whose answers
// quiz.js keeps, is reopened), else home.
func nextPath(c *fiber.Ctx) string {
	if c.Method() == fiber.MethodGet {
		return string(c.Request().URI().RequestURI())
	}
	if ref, err := url.Parse(c.Get(fiber.HeaderReferer)); err == nil && ref.Host == c.Hostname() && ref.Path != "" {
		if ref.RawQuery != "" {
			return safeNext(ref.Path + "?" + ref.RawQuery)
		}
		return safeNext(ref.Path)
	}
	return "/"
}

// safeNext returns p when it is a path on this site, else "/", so a crafted link cannot
// send a person elsewhere after signing in.
func safeNext(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/"
	}
	return p
}

// home sends each person to where their work is.
func (f *Frontend) home(c *fiber.Ctx) error {
	p, ok := f.d.Principal(c)
	if !ok {
		return c.Redirect("/login", http.StatusSeeOther)
	}
	return c.Redirect(f.homeFor(p), http.StatusSeeOther)
}

func (f *Frontend) homeFor(p accounts.Principal) string {
	switch {
	case p.Has(accounts.RoleAdmin), p.Has(accounts.RoleUnitAdmin):
		return "/admin/units"
	case f.d.Teaching != nil && p.Has(accounts.RoleLecturer):
		return "/teach/courses"
	case f.d.Teaching != nil && p.Has(accounts.RoleTrainer):
		return "/teach/classes"
	case f.d.Courses != nil:
		return "/learn"
	}
	return "/account"
}

// view is what every template receives: the request's language, caller and CSRF token,
// and the page's own Data.
type view struct {
	f       *Frontend
	Lang    string
	User    *accounts.User
	CSRF    string
	Path    string // the request path and query, for "come back here" links
	Section string // the navigation entry to mark current
	Flash   string // a translated notice
	Notice  string // "ok", "info" or "error"
	Scripts []string
	Errors  map[string]string // field → translated reason
	Form    map[string]string // submitted values to show again
	Data    any
	Pager   pager // the page links of a paged list ("pager" partial)
}

// pager is the page links of a paged list: which page of how many, and the links to the
// pages before and after (empty at either end).
type pager struct {
	Page, Pages      int
	PrevURL, NextURL string
}

// newPager makes the links of page (1-based) of pages, pageURL building a page's link.
func newPager(page, pages int, pageURL func(n int) string) pager {
	p := pager{Page: page, Pages: pages}
	if page > 1 {
		p.PrevURL = pageURL(min(page-1, pages))
	}
	if page < pages {
		p.NextURL = pageURL(page + 1)
	}
	return p
}

// T returns the text of key in the page's language.
func (v *view) T(key string, args ...any) string { return v.f.msgs.text(v.Lang, key, args...) }

// Static returns the versioned URL of a static file.
func (v *view) Static(name string) string { return v.f.staticURL(name) }

// Date and DateTime show a time (time.Time or *time.Time) in Asia/Ho_Chi_Minh as
// dd/MM/yyyy (HH:mm).
func (v *view) Date(t any) string     { return FormatDate(toTime(t)) }
func (v *view) DateTime(t any) string { return FormatDateTime(toTime(t)) }

func toTime(t any) time.Time {
	switch x := t.(type) {
	case time.Time:
		return x
	case *time.Time:
		if x != nil {
			return *x
		}
	}
	return time.Time{}
}

// Num shows a number with decimals in the page's language's style.
func (v *view) Num(x any, decimals int) string { return FormatNumber(toFloat(x), decimals, v.Lang) }

// Percent shows a percentage in the page's language's style.
func (v *view) Percent(x any) string { return FormatPercent(toFloat(x), v.Lang) }

// Has reports whether the caller holds a role.
func (v *view) Has(role string) bool { return v.User != nil && v.User.Has(accounts.Role(role)) }

// RoleName is the translated name of a role.
func (v *view) RoleName(r accounts.Role) string { return v.T("role." + string(r)) }

// Err returns the reason of a field error, or "".
func (v *view) Err(field string) string { return v.Errors[field] }

// Val returns a submitted form value to show again.
func (v *view) Val(field string) string { return v.Form[field] }

func toFloat(x any) float64 {
	switch n := x.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case float64:
		return n
	case float32:
		return float64(n)
	case *float64:
		if n != nil {
			return *n
		}
	case *int:
		if n != nil {
			return float64(*n)
		}
	}
	return 0
}

// newView prepares the view of the current request.
func (f *Frontend) newView(c *fiber.Ctx, section string) *view {
	v := &view{f: f, Lang: f.language(c), Path: string(c.Request().URI().RequestURI()), Section: section}
	if p, ok := f.d.Principal(c); ok {
		u := p.User
		v.User, v.CSRF = &u, p.CSRFToken
	} else {
		v.CSRF = f.anonymousFormToken(c)
	}
	if key, ok := flashes[c.Query("ok")]; ok {
		v.Flash, v.Notice = v.T(key), "ok"
	}
	return v
}

// flashes are the notices a redirect after a successful form may ask for with ?ok=.
var flashes = map[string]string{
	"unit_created":     "flash.unit_created",
	"unit_saved":       "flash.unit_saved",
	"user_created":     "flash.user_created",
	"password_changed": "flash.password_changed",
	"language_changed": "flash.language_changed",
}

// language is the caller's chosen language, the anonymous visitor's cookie, or Vietnamese.
func (f *Frontend) language(c *fiber.Ctx) string {
	if p, ok := f.d.Principal(c); ok && validLanguage(p.User.Language) {
		return p.User.Language
	}
	if l := c.Cookies(langCookie); validLanguage(l) {
		return l
	}
	return DefaultLanguage
}

// anonymousFormToken returns the double-submit token of anonymous forms, setting its
// cookie on first use. Signed-in forms carry the session's CSRF token instead.
func (f *Frontend) anonymousFormToken(c *fiber.Ctx) string {
	if t := c.Cookies(formCookie); len(t) == 32 {
		return t
	}
	t := newToken(16)
	c.Cookie(&fiber.Cookie{Name: formCookie, Value: t, Path: "/", HTTPOnly: true,
		Secure: f.d.SecureCookies, SameSite: fiber.CookieSameSiteStrictMode})
	return t
}

// validAnonymousForm checks an anonymous form's double-submit token.
func validAnonymousForm(c *fiber.Ctx) bool {
	want := c.Cookies(formCookie)
	got := c.FormValue(csrfField)
	return len(want) == 32 && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// render writes page with v, status 200 unless set before.
func (f *Frontend) render(c *fiber.Ctx, page string, v *view) error {
	t, ok := f.pages[page]
	if !ok {
		panic("frontend: no template " + page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return err
	}
	f.pageHeaders(c, v.User != nil)
	return c.Send(buf.Bytes())
}

func (f *Frontend) pageHeaders(c *fiber.Ctx, private bool) {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderContentSecurityPolicy, f.csp)
	if private {
		c.Set(fiber.HeaderCacheControl, "no-store")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
}

// RenderError renders an error for a browser: an expired or missing session goes to the
// sign-in page with a polite notice; everything else shows an error page in the caller's
// language. It implements server.PageErrorRenderer.
func (f *Frontend) RenderError(c *fiber.Ctx, status int, code, message string) error {
	if status == http.StatusUnauthorized {
		return c.Redirect("/login?expired=1&next="+url.QueryEscape(nextPath(c)), http.StatusSeeOther)
	}
	v := f.newView(c, "")
	if !f.msgs.has("error." + code + ".title") {
		code = "internal"
	}
	if code == "invalid" && c.Method() == fiber.MethodPost {
		// Page handlers answer their own invalid input; what reaches here from a form
		// is the server refusing a missing or stale CSRF token.
		code = "form_expired"
	}
	v.Data = errorData{Status: status, Code: code}
	c.Status(status)
	return f.render(c, "error", v)
}

type errorData struct {
	Status int
	Code   string // error.<Code>.title and .text in the catalogues
}

// newToken returns a random hex token of n bytes.
func newToken(n int) string {
	raw := make([]byte, n)
	_, _ = rand.Read(raw)
	return hex.EncodeToString(raw)
}

// navItem is one entry of the main navigation.
type navItem struct {
	Href, Key, Section string
}

// Nav lists the areas the caller's roles open, in the order of their work.
func (v *view) Nav() []navItem {
	if v.User == nil {
		return nil
	}
	var items []navItem
	if v.f.d.Courses != nil {
		items = append(items, navItem{"/learn", "nav.learn", "learn"})
	}
	if v.f.d.Teaching != nil && (v.Has("lecturer") || v.Has("admin")) {
		items = append(items, navItem{"/teach/courses", "nav.courses", "courses"})
	}
	if v.f.d.Authoring != nil && (v.Has("lecturer") || v.Has("admin")) {
		items = append(items, navItem{"/teach/banks", "nav.banks", "banks"})
	}
	if v.f.d.Teaching != nil && (v.Has("trainer") || v.Has("unit_admin") || v.Has("admin")) {
		items = append(items, navItem{"/teach/classes", "nav.classes", "classes"})
	}
	if v.f.d.Reports != nil && (v.Has("admin") || v.Has("unit_admin")) {
		items = append(items, navItem{"/reports", "nav.reports", "reports"})
	}
	if v.Has("admin") || v.Has("unit_admin") {
		items = append(items,
			navItem{"/admin/units", "nav.units", "units"},
			navItem{"/admin/users", "nav.users", "users"})
		if v.f.d.Audit != nil {
			items = append(items, navItem{"/admin/audit", "nav.audit", "audit"})
		}
	}
	if v.f.d.Reports != nil {
		items = append(items, navItem{"/certificates", "nav.certificates", "certificates"})
	}
	return append(items, navItem{"/account", "nav.account", "account"})
}
