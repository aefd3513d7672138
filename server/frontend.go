package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/courses/live"
	"hoctap/frontend"
)

// newFrontend builds the pages with the narrow view of the server they need: the
// authentication middleware, the caller it stores, and the session-cookie helpers.
func (s *Server) newFrontend() *frontend.Frontend {
	secure := s.secureCookies()
	var media []string
	if ep := s.cfg.S3PublicEndpoint; ep != "" || s.cfg.S3Endpoint != "" {
		if ep == "" {
			ep = s.cfg.S3Endpoint
		}
		scheme := "http://"
		if s.cfg.S3UseTLS {
			scheme = "https://"
		}
		media = append(media, scheme+ep)
	} else {
		media = append(media, s.cfg.MediaPublicURL)
	}
	deps := frontend.Deps{
		Accounts:     s.accounts,
		Authenticate: s.authenticate,
		Principal: func(c *fiber.Ctx) (accounts.Principal, bool) {
			p, ok := c.Locals(principalKey).(accounts.Principal)
			return p, ok
		},
		SessionToken: func(c *fiber.Ctx) string { return c.Cookies(sessionCookie) },
		SetSession: func(c *fiber.Ctx, token string, expires time.Time) {
			setSessionCookie(c, token, expires, secure)
		},
		ClearSession:  func(c *fiber.Ctx) { clearSessionCookie(c, secure) },
		SecureCookies: secure,
		MediaOrigins:  media,
		Log:           s.log,
		Now:           s.now,
	}
	if s.media != nil {
		deps.Media = s.media
	}
	if s.reports != nil {
		deps.Reports = s.reports
	}
	if s.audit != nil {
		deps.Audit = s.audit
	}
	if s.courses != nil {
		deps.Courses, deps.Teaching = s.courses, s.courses
	}
	if s.assessment != nil {
		deps.Assessment, deps.Authoring = s.assessment, s.assessment
	}
	if s.live != nil {
		deps.Live = struct {
			*live.Service
			*live.Hub
		}{s.live.Service(), s.live}
	}
	return frontend.New(deps)
}
