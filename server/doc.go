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
//		api.Get("/courses", requireAuth, s.listCourses)
//		…
//	}
//
// and one line in (*Server).routes in server.go that calls it. The area's service is a
// field of Services and of Server (both in server.go), made in buildServices (run.go),
// which Run and the tests share, so tests exercise the same wiring as production.
//
// A handler reads its input, calls the domain service with the caller, and writes JSON:
//
//	func (s *Server) updateModule(c *fiber.Ctx) error {
//		id, moduleID, err := twoIDs(c, "id", "module_id")
//		if err != nil {
//			return err
//		}
//		var b courses.ModuleInput               // the domain's input type, or a body type here
//		if err := s.decodeJSON(c, &b); err != nil { // strict: unknown fields, types, size
//			return err
//		}
//		m, err := s.courses.UpdateModule(c.UserContext(), principal(c), id, moduleID, b)
//		if err != nil {
//			return err // the error handler picks the status from the errs vocabulary
//		}
//		return c.JSON(m)
//	}
//
// A route that only answers a service call needs no handler of its own when the call
// takes the caller and the path's id (byID; listByID for a whole list, noContentByID for
// no answer), the caller and the JSON body (withBody), or all three (byIDWithBody):
//
//	api.Get("/courses/:id", requireAuth, byID(s.courses.GetCourse))
//	api.Post("/courses", requireAuth, withBody(s, http.StatusCreated, s.courses.CreateCourse))
//	api.Patch("/courses/:id", requireAuth, byIDWithBody(s, http.StatusOK, s.courses.UpdateCourse))
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
