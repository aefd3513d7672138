package server

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"hoctap/accounts"
	"hoctap/internal/errs"
)

const (
	sessionCookie = "hoctap_session"
	csrfHeader    = "X-CSRF-Token"
	csrfFormField = "csrf_token"
	principalKey  = "hoctap.principal"
	viaCookieKey  = "hoctap.via_cookie"
)

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(requestid.ConfigDefault.ContextKey).(string)
	return id
}

// routePath is the registered route pattern (such as /api/v1/units/:id), which keeps
// metric labels few and access logs free of ids.
func routePath(c *fiber.Ctx) string {
	if r := c.Route(); r != nil && r.Method != "USE" {
		return r.Path
	}
	return c.Path()
}

func recoverer(log *slog.Logger) fiber.Handler {
	return recover.New(recover.Config{
		EnableStackTrace: true,
		StackTraceHandler: func(c *fiber.Ctx, e any) {
			log.Error("panic", "request_id", requestID(c), "route", c.Path(), "panic", e)
		},
	})
}

// accessLog writes one structured line per request. The query string is logged with its
// token parameter redacted, because websocket clients may authenticate with ?token=.
func accessLog(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			_, status = describe(err)
		}
		attrs := []any{
			"request_id", requestID(c), "method", c.Method(), "path", c.Path(),
			"query", redactQuery(string(c.Request().URI().QueryString())),
			"status", status, "duration_ms", float64(time.Since(start).Microseconds()) / 1000,
			"ip", c.IP(), "bytes", len(c.Response().Body()),
		}
		if p, ok := c.Locals(principalKey).(accounts.Principal); ok {
			attrs = append(attrs, "user_id", p.User.ID)
		}
		log.Info("request", attrs...)
		return err
	}
}

func redactQuery(q string) string {
	if q == "" {
		return ""
	}
	values, err := url.ParseQuery(q)
	if err != nil {
		return "(unparsable)"
	}
	for _, k := range []string{"token", "sig", "password"} {
		if values.Has(k) {
			values.Set(k, "REDACTED")
		}
	}
	return values.Encode()
}

// securityHeaders sets the headers every response carries. Pages set their own stricter
// Content-Security-Policy with a nonce; this default forbids inline scripts everywhere.
func securityHeaders(https bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set("X-Content-Type-Options", "nosniff")
		c.Set("X-Frame-Options", "DENY")
		c.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		c.Set("Cross-Origin-Opener-Policy", "same-origin")
		c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'")
		if https {
			c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000; includeSubDomains")
		}
		return c.Next()
	}
}

// maxQueryBytes bounds a request's query string. No route takes more than a few short
// parameters (a websocket's token is the longest), and every handler parses the query.
const maxQueryBytes = 8 << 10

// limitQuery refuses a query string over maxQueryBytes with 413 and the JSON error
// (code too_large) before any handler parses it.
func limitQuery(c *fiber.Ctx) error {
	if n := len(c.Request().URI().QueryString()); n > maxQueryBytes {
		return fmt.Errorf("the query string is %d bytes long; at most %d are allowed: %w", n, maxQueryBytes, errs.ErrTooLarge)
	}
	return c.Next()
}

// requestToken returns the token a request carries: its bearer header, else its session
// cookie; viaCookie says which, since cookie requests must also carry the CSRF token.
func requestToken(c *fiber.Ctx) (token string, viaCookie bool) {
	if token = bearerToken(c); token != "" {
		return token, false
	}
	return c.Cookies(sessionCookie), true
}

// bearerToken returns the token of an Authorization: Bearer header, or "".
func bearerToken(c *fiber.Ctx) string {
	h := c.Get(fiber.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticate identifies the caller from a bearer token or the session cookie. A request
// with no credentials passes through anonymous; one with bad credentials is refused, so a
// client learns its token has expired instead of silently seeing less. A cookie-
// authenticated unsafe request must carry the session's CSRF token.
func (s *Server) authenticate(c *fiber.Ctx) error {
	token, viaCookie := requestToken(c)
	if token == "" {
		return c.Next()
	}
	p, err := s.accounts.Authenticate(c.UserContext(), token)
	if err != nil {
		if viaCookie {
			clearSessionCookie(c, s.secureCookies())
		}
		return err
	}
	if viaCookie && !safeMethod(c.Method()) && !validCSRF(c, p.CSRFToken) {
		return errs.Invalid("missing or wrong CSRF token: send the X-CSRF-Token header", map[string]string{csrfHeader: "missing or wrong"})
	}
	c.Locals(principalKey, p)
	c.Locals(viaCookieKey, viaCookie)
	return c.Next()
}

func validCSRF(c *fiber.Ctx, want string) bool {
	got := c.Get(csrfHeader)
	if got == "" {
		got = c.FormValue(csrfFormField)
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

// requireAuth refuses anonymous requests with 401.
func requireAuth(c *fiber.Ctx) error {
	if _, ok := c.Locals(principalKey).(accounts.Principal); !ok {
		return fmt.Errorf("sign in first: %w", errs.ErrUnauthenticated)
	}
	return c.Next()
}

// principal returns the authenticated caller; handlers behind requireAuth always have one.
func principal(c *fiber.Ctx) accounts.Principal {
	p, _ := c.Locals(principalKey).(accounts.Principal)
	return p
}

func (s *Server) secureCookies() bool { return strings.HasPrefix(s.cfg.PublicURL, "https://") }

func setSessionCookie(c *fiber.Ctx, token string, expires time.Time, secure bool) {
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: token, Path: "/", Expires: expires,
		HTTPOnly: true, Secure: secure, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func clearSessionCookie(c *fiber.Ctx, secure bool) {
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, Secure: secure, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// idParam returns the path parameter name, refusing empty or oversized values early.
func idParam(c *fiber.Ctx, name string) (string, error) {
	v := c.Params(name)
	if v == "" || len(v) > 128 {
		return "", errs.Field(name, "missing or too long")
	}
	return v, nil
}
