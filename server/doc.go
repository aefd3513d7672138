// Package server is Hoctap's composition root and HTTP edge: configuration, wiring of the
// domain services, the Fiber app and its middleware (request ids, access logs, panic
// recovery, body limits, security headers, authentication, CSRF, metrics), the JSON API
// under /api/v1, the websocket endpoints under /ws, and the one error handler that maps
// the domain error vocabulary (internal/errs) to status codes.
//
// # Adding an area
//
// Each area of the API (accounts, courses, assessment, live, reports, …) lives in its own
// file, server/<area>.go, with one method that registers its routes:
//
//	func (s *Server) routeCourses(api fiber.Router) {
//		api.Post("/courses", requireAuth, s.createCourse)
//		…
//	}
//
// and one line in (*Server).routes in server.go that calls it. The area's service is a
// field of Services and of Server (both in server.go), made in buildServices (run.go),
// which Run and the tests share, so tests exercise the same wiring as production.
//
// A handler reads its input, calls the domain service with the caller, and writes JSON:
//
//	func (s *Server) createCourse(c *fiber.Ctx) error {
//		var b courseBody                       // a struct with json tags, in this file
//		if err := s.decodeJSON(c, &b); err != nil { // strict: unknown fields, types, size
//			return err
//		}
//		course, err := s.courses.CreateCourse(c.UserContext(), principal(c), …)
//		if err != nil {
//			return err // the error handler picks the status from the errs vocabulary
//		}
//		return c.Status(http.StatusCreated).JSON(course)
//	}
//
// A route that only answers a service call on the caller and the path's id needs no
// handler of its own: api.Get("/courses/:id", requireAuth, byID(s.courses.GetCourse)).
//
// Handlers never decide status codes for errors and never talk to MongoDB. Permission
// checks live in the domain services (they take the accounts.Principal); handlers only
// require sign-in with requireAuth. Path ids come from idParam; lists use pageParams and
// answer newList(items, total). Files come from uploadedFile.
//
// Every route must be documented in docs/openapi.yaml (TestOpenAPIMatchesRoutes fails
// otherwise), under the area's tag.
//
// # Tests
//
// newTestServer(t) (testserver_test.go) starts the real server on a loopback port with a
// fresh embedded database; ts.login, ts.do and ts.call drive it over real HTTP.
package server
