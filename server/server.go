package server

import (
	"log/slog"
	"reflect"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"hoctap/accounts"
	"hoctap/assessment"
	"hoctap/audit"
	"hoctap/courses"
	"hoctap/courses/live"
	"hoctap/frontend"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/media"
	"hoctap/reports"
)

// Services are the domain services the HTTP edge calls. buildServices makes them for Run
// and for tests alike.
type Services struct {
	DB       *database.DB
	Store    media.Store
	Accounts *accounts.Service
	Media    *media.Service
	Live     *live.Hub
	Courses  *courses.Service
	Reports  *reports.Service
	// Assessment may be nil in tests that do not need it.
	Assessment *assessment.Service
	// Audit is the audit log that the services above record into.
	Audit *audit.Log
}

// Server is the HTTP edge: the Fiber app and what its handlers need.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     clock.Clock
	metrics *metrics
	checks  []check
	app     *fiber.App

	accounts *accounts.Service
	media    *media.Service
	live     *live.Hub
	reports  *reports.Service
	courses  *courses.Service
	pages    *frontend.Frontend

	assessment *assessment.Service
	audit      *audit.Log

	// bodyTypes are the JSON body types of the routes withBody and byIDWithBody serve,
	// listed as the routes are built, for the decoder fuzz test.
	bodyTypes []reflect.Type
}

// New builds the Fiber app with its middleware and every route.
func New(cfg Config, log *slog.Logger, now clock.Clock, svc Services) *Server {
	s := &Server{
		cfg: cfg, log: log, now: now, metrics: newMetrics(),
		accounts: svc.Accounts,
		media:    svc.Media,
		live:     svc.Live,
		reports:  svc.Reports,
		courses:  svc.Courses,

		assessment: svc.Assessment,
		audit:      svc.Audit,
		checks:     []check{{name: "database", ping: svc.DB.Ping}, {name: "storage", ping: svc.Store.Ping}},
	}
	s.pages = s.newFrontend()
	s.app = fiber.New(fiber.Config{
		AppName:                 "hoctap",
		ErrorHandler:            errorHandler(log, s.pages),
		BodyLimit:               cfg.MaxBodyMB << 20,
		ReadBufferSize:          16 << 10, // request line and headers; larger answers 431
		ReadTimeout:             60 * time.Second,
		WriteTimeout:            60 * time.Second,
		IdleTimeout:             120 * time.Second,
		DisableStartupMessage:   true,
		EnableTrustedProxyCheck: len(cfg.TrustedProxies) > 0,
		TrustedProxies:          cfg.TrustedProxies,
		ProxyHeader:             proxyHeader(cfg),
	})
	s.app.Use(recoverer(log), requestid.New(), accessLog(log), s.metrics.middleware, securityHeaders(s.secureCookies()), limitQuery)
	s.routes()
	return s
}

func proxyHeader(cfg Config) string {
	if len(cfg.TrustedProxies) > 0 {
		return fiber.HeaderXForwardedFor
	}
	return ""
}

// App returns the Fiber app, for tests and for Run.
func (s *Server) App() *fiber.App { return s.app }

// routes registers every route. Each area adds its routes in its own file through one
// method called here; see doc.go.
func (s *Server) routes() {
	s.app.Get("/healthz", s.healthz)
	s.app.Get("/readyz", s.readyz)
	s.app.Get("/metrics", s.metricsHandler())

	api := s.app.Group("/api/v1", s.authenticate)
	s.routeReportsHooks(api) // before the accounts routes and pages it watches
	s.routeAccounts(api)
	s.routeMedia(api)
	s.routeCourses(api)
	s.routeLive(api)
	s.routeLiveSocket(s.app)
	s.routeReports(api)
	s.routeAssessment(api)
	s.routeAudit(api)

	s.pages.Mount(s.app) // pages and /static/*, after the API so unknown paths still 404
}
