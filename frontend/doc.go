// Package frontend is what a person sees of Hoctap: server-rendered pages (html/template),
// their static assets and message catalogues, all embedded with go:embed, so `go run .`
// serves them with no Node.js and no build step. Vietnamese first, English second.
//
// # Wiring
//
// The server builds one Frontend with New(Deps) and calls Mount(app) after its API routes;
// it also gives the Frontend to its error handler as the PageErrorRenderer, so browsers get
// HTML error pages and an expired session becomes a polite redirect to /login. Deps is
// narrow: the domain services as small interfaces (*accounts.Service, *courses.Service,
// *assessment.Service, *reports.Service, *media.Service and live's Service with its Hub
// satisfy them), the server's authentication middleware, a func returning the caller it
// stored, and the session-cookie helpers. The frontend never imports server.
//
// Every page route is registered whatever is wired (so docs/openapi.yaml, section
// "pages", does not depend on the wiring); an area whose service is nil answers 503 and
// is left out of the navigation.
//
// # Pages
//
//	/login /logout /language /account /account/password       everyone
//	/learn /learn/classes/{id} /learn/classes/{id}/lessons/{l} learners: dashboard, outline, player
//	/learn/quizzes/{id} /learn/attempts/{id}                    learners: quizzes
//	/live/{id} /live/{id}/attendance                            live room, attendance
//	/certificates                                               learners: certificates
//	/teach/courses /teach/courses/{id}                          lecturers: course builder
//	/teach/banks /teach/bank /teach/questions/{id}              lecturers: question banks
//	/teach/quizzes/{id}                                         quiz results, settings, essays
//	/teach/classes /teach/classes/{id}                          trainers: classes, enrolment
//	/admin/units /admin/users /admin/users/{id}                 personnel officers, admins
//	/admin/audit                                                the audit log (their units' part)
//	/reports /reports/targets/{id}                              targets and dashboards
//
// Pages work without JavaScript wherever the job allows: reading, navigation and forms
// (POST, then a 303 redirect). Small ES modules under static/js add what cannot work
// without them: player.js (video heartbeats), quiz.js (countdown, autosave, offline
// resend), live.js (the live room's websocket) and upload.js (uploads straight to
// storage). The Content-Security-Policy allows no inline script or style.
//
// # Text
//
// Every visible word comes from i18n/vi.json and i18n/en.json (same keys; tests check
// that every key a template or the Go code uses exists in both and that no template holds
// hard-coded text). Templates call {{.T "key" args…}}. Dates show as dd/MM/yyyy in
// Asia/Ho_Chi_Minh, numbers as 1.234,5 in Vietnamese, and lists of people in Vietnamese
// name order (CompareNames, SortByName).
//
// # Tests
//
// Unit tests cover the pure functions, the catalogues and templates, and every page
// against the real services on an embedded database. frontend/e2e drives the real server
// in headless Chromium at 1280 px and 360 px, runs axe-core on each main page, and with
// HOCTAP_SCREENSHOTS=1 writes screenshots to docs/screenshots/.
package frontend
