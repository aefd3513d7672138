package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"hoctap/accounts"
	"hoctap/courses/live"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/errs"
)

// Websocket keep-alive: a ping every livePingEvery; a peer that answers nothing (no pong,
// no frame) for liveReadTimeout is dropped, so a dead peer is noticed within a minute.
const (
	livePingEvery    = 25 * time.Second
	liveReadTimeout  = 55 * time.Second
	liveWriteTimeout = 10 * time.Second
)

func (s *Server) routeLive(api fiber.Router) {
	s.registerLiveMetrics()
	api.Post("/classes/:id/live-sessions", requireAuth, s.createLiveSession)
	api.Get("/classes/:id/live-sessions", requireAuth, s.listLiveSessions)
	api.Get("/live-sessions/:id", requireAuth, s.getLiveSession)
	api.Post("/live-sessions/:id/end", requireAuth, s.endLiveSession)
	api.Get("/live-sessions/:id/events", requireAuth, s.liveEvents)
	api.Get("/live-sessions/:id/attendance", requireAuth, s.liveAttendance)
}

// routeLiveSocket registers the websocket endpoint, outside /api/v1: it authenticates
// by bearer header, token query parameter or cookie itself.
func (s *Server) routeLiveSocket(app fiber.Router) {
	app.Get("/ws/live/:session_id", s.liveUpgrade, s.liveSocketHandler(keepAlive{ping: livePingEvery, read: liveReadTimeout}))
}

// keepAlive says how often the server pings and how long a silent peer may stay.
type keepAlive struct {
	ping, read time.Duration
}

func (s *Server) liveSocketHandler(ka keepAlive) fiber.Handler {
	return websocket.New(func(c *websocket.Conn) { s.liveSocket(c, ka) }, websocket.Config{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   live.MaxFrameBytes,
		WriteBufferSize:  4096,
		// Idle sockets hold no write buffer: most of the time a room is quiet.
		WriteBufferPool: &sync.Pool{},
	})
}

// registerLiveMetrics exports the hub's counters to /metrics.
func (s *Server) registerLiveMetrics() {
	if s.live == nil {
		return
	}
	gauge := func(name, help string, f func(live.HubStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(s.live.Stats()) })
	}
	counter := func(name, help string, f func(live.HubStats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return f(s.live.Stats()) })
	}
	s.metrics.registry.MustRegister(
		gauge("hoctap_live_rooms", "Live-session rooms loaded on this process.", func(st live.HubStats) float64 { return float64(st.Rooms) }),
		gauge("hoctap_live_connections", "Live-session websocket connections on this process.", func(st live.HubStats) float64 { return float64(st.Connections) }),
		counter("hoctap_live_events_stored_total", "Live-session events this process stored.", func(st live.HubStats) float64 { return float64(st.Stored) }),
		counter("hoctap_live_store_batches_total", "insertMany calls that stored live-session events.", func(st live.HubStats) float64 { return float64(st.Batches) }),
		counter("hoctap_live_dropped_total", "Live-session connections closed for being too slow (1013).", func(st live.HubStats) float64 { return float64(st.Dropped) }),
		counter("hoctap_live_rate_limited_total", "Live-session frames refused by a rate limit or slow mode.", func(st live.HubStats) float64 { return float64(st.RateLimited) }),
	)
}

type liveSessionBody struct {
	Title     string    `json:"title"`
	StartsAt  time.Time `json:"starts_at"`
	StreamURL string    `json:"stream_url"`
}

func (s *Server) createLiveSession(c *fiber.Ctx) error {
	classID, err := idParam(c, "id") // copied by the service before it keeps it
	if err != nil {
		return err
	}
	var b liveSessionBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	sess, err := s.live.Service().CreateSession(c.UserContext(), live.ActorOf(principal(c)), classID,
		live.NewSession{Title: b.Title, StartsAt: b.StartsAt, StreamURL: b.StreamURL})
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(sess)
}

func (s *Server) listLiveSessions(c *fiber.Ctx) error {
	classID, err := idParam(c, "id")
	if err != nil {
		return err
	}
	items, err := s.live.Service().ListSessions(c.UserContext(), live.ActorOf(principal(c)), classID)
	if err != nil {
		return err
	}
	return c.JSON(newList(items, len(items)))
}

func (s *Server) getLiveSession(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	sess, err := s.live.Service().GetSession(c.UserContext(), live.ActorOf(principal(c)), id)
	if err != nil {
		return err
	}
	return c.JSON(sess)
}

func (s *Server) endLiveSession(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	sess, err := s.live.EndSession(c.UserContext(), live.ActorOf(principal(c)), id)
	if err != nil {
		return err
	}
	return c.JSON(sess)
}

// sinceParam reads the since query parameter: a sequence number, 0 when absent.
func sinceParam(c *fiber.Ctx) (int64, error) {
	v := c.Query("since")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errs.Field("since", "must be a whole number of at least 0")
	}
	return n, nil
}

func (s *Server) liveEvents(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	since, err := sinceParam(c)
	if err != nil {
		return err
	}
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return errs.Field("limit", "must be a whole number from 1 to 500")
		}
		limit = n
	}
	page, err := s.live.Service().Events(c.UserContext(), live.ActorOf(principal(c)), id, since, limit)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) liveAttendance(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	format := c.Query("format", "json")
	if format != "json" && format != "csv" {
		return errs.Field("format", "must be json or csv")
	}
	// Joins and leaves are written once a second; write them now so the report is current.
	if err := s.live.FlushAttendance(c.UserContext()); err != nil {
		return err
	}
	rows, err := s.live.Service().Attendance(c.UserContext(), live.ActorOf(principal(c)), id)
	if err != nil {
		return err
	}
	if format == "csv" {
		var b strings.Builder
		if err := live.WriteAttendanceCSV(&b, rows); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="attendance-`+id+`.csv"`)
		return c.SendString(b.String())
	}
	return c.JSON(newList(rows, len(rows)))
}

// liveUpgrade runs before the websocket upgrade: it refuses plain HTTP requests and
// foreign origins (a page on another site must not ride a learner's cookie) and
// identifies the caller by bearer header, token query parameter or session cookie. An
// anonymous caller is let through to be closed with 1008 after the upgrade, where a
// browser can read the reason.
func (s *Server) liveUpgrade(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return errs.Invalid("this endpoint speaks websocket only", nil)
	}
	if origin := c.Get(fiber.HeaderOrigin); origin != "" && !sameOrigin(origin, s.cfg.PublicURL) {
		return fmt.Errorf("websocket from origin %q refused: %w", origin, errs.ErrForbidden)
	}
	token := bearerToken(c)
	if token == "" {
		token = c.Query("token")
	}
	if token == "" {
		token = c.Cookies(sessionCookie)
	}
	if token != "" {
		p, err := s.accounts.Authenticate(c.UserContext(), token)
		switch {
		case err == nil:
			c.Locals(principalKey, p)
		case !errors.Is(err, errs.ErrUnauthenticated):
			return err
		}
	}
	return c.Next()
}

// sameOrigin reports whether origin (scheme://host[:port]) is the public URL's origin.
func sameOrigin(origin, publicURL string) bool {
	o, err1 := url.Parse(origin)
	p, err2 := url.Parse(publicURL)
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(o.Scheme, p.Scheme) && strings.EqualFold(hostPort(o), hostPort(p))
}

// hostPort returns the URL's host with the scheme's default port made explicit, so that
// https://a.vn and https://a.vn:443 are the same origin.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if strings.EqualFold(u.Scheme, "https") {
		return u.Host + ":443"
	}
	return u.Host + ":80"
}

// liveSocket serves one websocket: it joins the room (closing with 1008 before any
// event if the caller may not), then reads frames into the room until either side ends.
// The hub writes to the socket from its own goroutine through wsConn.
func (s *Server) liveSocket(c *websocket.Conn, ka keepAlive) {
	conn := &wsConn{raw: c.Conn}
	defer conn.release() // first deferred, so it runs last: no write after the handler
	p, ok := c.Locals(principalKey).(accounts.Principal)
	if !ok {
		conn.Close(live.ClosePolicy, "sign in first")
		return
	}
	since, err := strconv.ParseInt(c.Query("since", "0"), 10, 64)
	if err != nil || since < 0 {
		conn.Close(live.ClosePolicy, "since must be a whole number of at least 0")
		return
	}
	c.SetReadLimit(live.MaxFrameBytes) // over it the library closes with 1009
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	client, err := s.live.Join(ctx, live.ActorOf(p), c.Params("session_id"), since, conn)
	cancel()
	if err != nil {
		code := live.ClosePolicy
		if errors.Is(err, errs.ErrUnavailable) {
			code = live.CloseTryAgainLater
		}
		detail, _ := describe(err)
		conn.Close(code, detail.Code+": "+truncateReason(detail.Message))
		return
	}
	defer client.Leave()

	_ = c.SetReadDeadline(time.Now().Add(ka.read))
	c.SetPongHandler(func(string) error {
		return c.SetReadDeadline(time.Now().Add(ka.read))
	})
	// Pings come from a timer, not a goroutine per connection: ten thousand idle
	// sockets should not hold ten thousand stacks just to wait.
	var mu sync.Mutex
	stopped := false
	var timer *time.Timer
	mu.Lock()
	timer = time.AfterFunc(ka.ping, func() {
		if conn.ping() != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			timer.Reset(ka.ping)
		}
	})
	mu.Unlock()
	defer func() {
		mu.Lock()
		stopped = true
		timer.Stop()
		mu.Unlock()
	}()
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(ka.read))
		client.Receive(data)
	}
}

// truncateReason keeps a close reason within the 123 bytes a close frame allows.
func truncateReason(s string) string {
	if len(s) <= 100 {
		return s
	}
	s = s[:100]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s
}

// appendTextFrame appends one unmasked, final websocket text frame (RFC 6455 §5.2) as a
// server sends it.
func appendTextFrame(b, payload []byte) []byte {
	n := len(payload)
	b = append(b, 0x81) // FIN, opcode text
	switch {
	case n < 126:
		b = append(b, byte(n))
	case n < 1<<16:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, payload...)
}

// wsRaw is the part of the websocket connection the adapter uses. It holds the library's
// connection itself, not contrib's pooled wrapper, which is recycled when the handler
// returns while the hub's writer may still be finishing.
type wsRaw interface {
	WriteMessage(messageType int, data []byte) error
	WriteControl(messageType int, data []byte, deadline time.Time) error
	SetWriteDeadline(t time.Time) error
	UnderlyingConn() net.Conn
	Close() error
}

// wsConn adapts a websocket to live.Conn (and live.BatchConn).
//
// The hub writes from its own goroutine, which can outlive the handler: when liveSocket
// returns, fasthttp releases the hijacked connection to a pool, and a write after that
// dereferences nil and kills the process. So every operation holds gate for reading and
// checks gone; release (deferred first in liveSocket, so it runs last) takes gate for
// writing, waits for the operations in progress, and turns every later one into
// errSocketGone. Operations may run together (a Close unblocks a stuck write, and each
// frame is written with one Write call, so frames never interleave).
type wsConn struct {
	raw  wsRaw
	once sync.Once
	gate sync.RWMutex
	gone bool
	buf  []byte // WriteFrames' buffer; only the hub's writer goroutine uses it
}

var errSocketGone = errors.New("live: the websocket has ended")

// use runs op unless the socket has been released.
func (w *wsConn) use(op func() error) error {
	w.gate.RLock()
	defer w.gate.RUnlock()
	if w.gone {
		return errSocketGone
	}
	return op()
}

// release ends the socket for the hub's writer; liveSocket calls it before returning.
func (w *wsConn) release() {
	w.gate.Lock()
	w.gone = true
	w.gate.Unlock()
}

// WriteFrames writes several text frames with one write to the socket. The library keeps
// no partly written message between calls and writes each control frame (ping, close)
// with a single write of its own, so frames never interleave.
func (w *wsConn) WriteFrames(frames [][]byte) error {
	return w.use(func() error {
		w.buf = w.buf[:0]
		for _, f := range frames {
			w.buf = appendTextFrame(w.buf, f)
		}
		_ = w.raw.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
		_, err := w.raw.UnderlyingConn().Write(w.buf)
		if cap(w.buf) > 256<<10 {
			w.buf = nil // do not keep a burst's buffer for the connection's life
		}
		return err
	})
}

// WriteFrame writes one text frame within liveWriteTimeout.
func (w *wsConn) WriteFrame(frame []byte) error {
	return w.use(func() error {
		_ = w.raw.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
		return w.raw.WriteMessage(websocket.TextMessage, frame)
	})
}

// Close sends a close frame with code and reason, then closes the connection, which
// ends the reader and any write in progress.
func (w *wsConn) Close(code int, reason string) {
	_ = w.use(func() error {
		w.once.Do(func() {
			_ = w.raw.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
			_ = w.raw.Close()
		})
		return nil
	})
}

func (w *wsConn) ping() error {
	return w.use(func() error {
		return w.raw.WriteControl(websocket.PingMessage, nil, time.Now().Add(liveWriteTimeout))
	})
}

// buildLive makes the live-session service and this process's hub on db, with members
// telling who belongs to a class (the courses service). With natsURL set, rooms share
// their events with the other server processes through NATS. The returned func closes
// the hub (every socket gets 1001, accepted events are stored, every leave is written),
// then the NATS connection.
func buildLive(ctx context.Context, db *database.DB, members live.Membership, now clock.Clock, natsURL string, opt live.HubOptions) (*live.Hub, func(), error) {
	svc := live.NewService(db.Database, now, members)
	if err := svc.EnsureIndexes(ctx); err != nil {
		return nil, nil, err
	}
	var nc *nats.Conn
	if natsURL != "" {
		var err error
		nc, err = nats.Connect(natsURL, nats.Name("hoctap"), nats.MaxReconnects(-1))
		if err != nil {
			return nil, nil, fmt.Errorf("setting HOCTAP_NATS_URL: %w", err)
		}
		opt.Bus = live.NewNATSBus(nc, "")
	}
	hub := live.NewHub(svc, opt)
	return hub, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = hub.Close(ctx) // it logs what it could not write; nothing more to do at shutdown
		if nc != nil {
			nc.Close()
		}
	}, nil
}

// liveMembership returns v as the live package's Membership when it implements it (the
// courses service, with its ClassRole method); otherwise a Membership that answers
// unavailable, so that joins fail loudly rather than letting anyone in.
func liveMembership(v any) live.Membership {
	if m, ok := v.(live.Membership); ok && m != nil {
		return m
	}
	return unwiredMembership{}
}

type unwiredMembership struct{}

func (unwiredMembership) ClassRole(context.Context, string, string) (string, error) {
	return "", fmt.Errorf("class membership is not available: the courses service does not provide ClassRole: %w", errs.ErrUnavailable)
}
