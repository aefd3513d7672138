package live

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"hoctap/audit/trail"
	"hoctap/internal/clock"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// Websocket close codes the hub asks the server to use.
const (
	CloseNormal        = 1000
	CloseGoingAway     = 1001 // the server is shutting down
	ClosePolicy        = 1008 // not allowed
	CloseTooLarge      = 1009 // a frame over MaxFrameBytes
	CloseTryAgainLater = 1013 // too slow to keep up, or the history could not be read
)

// Conn is one client connection as the server adapts it (a websocket).
type Conn interface {
	// WriteFrame writes one text frame. The hub calls it from a single goroutine per
	// connection. It should give up after a write deadline, and must return promptly once
	// Close has been called.
	WriteFrame(frame []byte) error
	// Close ends the connection with a close code and reason. It may be called from any
	// goroutine and more than once.
	Close(code int, reason string)
}

// BatchConn is a Conn that can write several frames at once. The hub's writer uses it
// when frames have queued up, so that a client that fell behind catches up with one
// system call instead of one per frame: under load, writes dominate the server's CPU.
type BatchConn interface {
	Conn
	// WriteFrames writes the frames in order, each as its own text frame.
	WriteFrames(frames [][]byte) error
}

// maxWriteBatch bounds the frames handed to one WriteFrames call.
const maxWriteBatch = 64

// HubOptions tune a Hub; zero values take the defaults named.
type HubOptions struct {
	// Bus connects rooms of the same session on several processes; nil for one process.
	Bus    Bus
	Logger *slog.Logger
	// SendQueue is each connection's queue of frames not yet written (256). A connection
	// whose queue is full is closed with 1013 and catches up after reconnecting.
	SendQueue int
	// FrameRate and FrameBurst limit the frames each connection may send (5 a second,
	// bursts of 10); more are answered with a rate_limited error frame.
	FrameRate  float64
	FrameBurst int
	// MaxBatch is the most events stored in one insertMany (128, and at most half of
	// SendQueue): a stored batch reaches each client's queue at once.
	MaxBatch int
	// BatchDelay is how long a room waits to gather events into one insertMany (3 ms).
	// While a write is in flight, arriving events wait for the next one anyway.
	BatchDelay time.Duration
	// Tick is how often presence and live poll tallies are sent (1 s: at most once a second).
	Tick time.Duration
	// RecentEvents is how many recent events a room keeps encoded in memory to replay
	// to reconnecting clients without reading the store (4096).
	RecentEvents int
	// IdleRoom is how long an empty room stays loaded (1 minute).
	IdleRoom time.Duration
	// AttendanceEvery is how often joins and leaves are written (1 s).
	AttendanceEvery time.Duration
	// GapWait is how long a room waits for a missing event from the bus before reading
	// it from the store (100 ms).
	GapWait time.Duration
	// Auditor records moderation (a chat message deleted, a user muted, slow mode set) in
	// the audit log (audit.Log) once the event is stored; nil records nothing.
	Auditor trail.Recorder
}

func (o *HubOptions) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SendQueue <= 0 {
		o.SendQueue = 256
	}
	if o.FrameRate <= 0 {
		o.FrameRate = 5
	}
	if o.FrameBurst <= 0 {
		o.FrameBurst = 10
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 128
	}
	o.MaxBatch = max(1, min(o.MaxBatch, o.SendQueue/2))
	if o.BatchDelay <= 0 {
		o.BatchDelay = 3 * time.Millisecond
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.RecentEvents <= 0 {
		o.RecentEvents = 4096
	}
	if o.IdleRoom <= 0 {
		o.IdleRoom = time.Minute
	}
	if o.AttendanceEvery <= 0 {
		o.AttendanceEvery = time.Second
	}
	if o.GapWait <= 0 {
		o.GapWait = 100 * time.Millisecond
	}
}

// HubStats are counters for metrics and benchmarks.
type HubStats struct {
	Rooms       int   `json:"rooms"`
	Connections int64 `json:"connections"`
	Batches     int64 `json:"batches"`      // insertMany calls that stored events
	Stored      int64 `json:"stored"`       // events this process stored
	Dropped     int64 `json:"dropped"`      // connections closed for being too slow
	RateLimited int64 `json:"rate_limited"` // frames refused by a rate limit or slow mode
}

// Hub owns this process's rooms, one goroutine per live session with connections.
type Hub struct {
	svc  *Service
	opt  HubOptions
	log  *slog.Logger
	now  clock.Clock
	node string

	ctx    context.Context
	cancel context.CancelFunc
	att    *attendanceRecorder
	wg     sync.WaitGroup // room goroutines

	mu     sync.Mutex
	rooms  map[string]*room
	closed bool

	rmu   sync.Mutex
	roles map[string]roleEntry

	conns, batches, stored, dropped, limited atomic.Int64
}

type roleEntry struct {
	role string
	at   time.Time
}

// roleTTL bounds how long a class role is trusted for joins: enrolment changes apply to
// new connections within this time.
const roleTTL = 30 * time.Second

// NewHub returns a running hub over svc. Close it to write the last attendance and stop
// the rooms.
func NewHub(svc *Service, opt HubOptions) *Hub {
	opt.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	node := ids.New()
	return &Hub{
		svc: svc, opt: opt, log: opt.Logger, now: svc.now, node: node,
		ctx: ctx, cancel: cancel,
		att:   newAttendanceRecorder(svc.attendance, svc.nodes, node, svc.now, opt.Logger, opt.AttendanceEvery),
		rooms: map[string]*room{}, roles: map[string]roleEntry{},
	}
}

// Service returns the service the hub was built on.
func (h *Hub) Service() *Service { return h.svc }

// Stats returns the hub's counters.
func (h *Hub) Stats() HubStats {
	h.mu.Lock()
	n := len(h.rooms)
	h.mu.Unlock()
	return HubStats{Rooms: n, Connections: h.conns.Load(), Batches: h.batches.Load(), Stored: h.stored.Load(),
		Dropped: h.dropped.Load(), RateLimited: h.limited.Load()}
}

// FlushAttendance writes the joins and leaves recorded so far; reports read after it see
// them. It returns an error wrapping the database's.
func (h *Hub) FlushAttendance(ctx context.Context) error {
	return h.att.flush(ctx)
}

// Close disconnects every client (close code 1001), stores the events already accepted,
// writes the attendance (every open connection gets its leave) and stops the hub. It
// returns ctx's error if that takes longer than ctx allows.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.cancel()
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		h.att.close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("live: hub close: %w", ctx.Err())
	}
}

// role returns the actor's class role, cached for roleTTL.
func (h *Hub) role(ctx context.Context, a Actor, classID string) (string, error) {
	if a.Admin {
		return RoleTrainer, nil
	}
	key := classID + "/" + a.ID
	now := h.now()
	h.rmu.Lock()
	e, ok := h.roles[key]
	h.rmu.Unlock()
	if ok && now.Sub(e.at) < roleTTL && now.Sub(e.at) >= 0 {
		return e.role, nil
	}
	role, err := h.svc.classRole(ctx, a, classID)
	if err != nil {
		return "", err
	}
	h.rmu.Lock()
	if len(h.roles) > 200_000 {
		h.roles = map[string]roleEntry{}
	}
	h.roles[key] = roleEntry{role: role, at: now}
	h.rmu.Unlock()
	return role, nil
}

// acquire returns the session's room, starting it if needed, with one more reference;
// the caller must release it. It returns errs.ErrUnavailable once the hub is closing.
func (h *Hub) acquire(sess Session) (*room, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, fmt.Errorf("live: the server is shutting down: %w", errs.ErrUnavailable)
	}
	r := h.rooms[sess.ID]
	if r == nil {
		r = newRoom(h, sess)
		h.rooms[sess.ID] = r
		h.wg.Add(1)
		go r.run()
	}
	r.refs++
	return r, nil
}

func (h *Hub) release(r *room) {
	h.mu.Lock()
	r.refs--
	h.mu.Unlock()
}

// Join connects conn to the session's room as actor, after checking that actor is a
// learner or trainer of the session's class (admins join as trainers). The client first
// receives every stored event after since, then live events, each exactly once and in
// sequence order. Errors: errs.ErrNotFound (no such session, or a learner outside the
// class), errs.ErrForbidden (staff not a member), errs.ErrInvalid (negative since),
// errs.ErrUnavailable (shutting down, or the room could not read its history). On error nothing was sent on conn, and the caller
// closes it (1008 for forbidden).
func (h *Hub) Join(ctx context.Context, a Actor, sessionID string, since int64, conn Conn) (*Client, error) {
	if since < 0 {
		return nil, errs.Field("since", "since must be 0 or a sequence number")
	}
	sess, err := h.svc.findSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	role, err := h.role(ctx, a, sess.ClassID)
	if err != nil {
		return nil, err
	}
	if role == "" {
		return nil, notMember(a, "the session's class, whose learners and trainers join")
	}
	r, err := h.acquire(sess)
	if err != nil {
		return nil, err
	}
	c := &Client{
		hub: h, room: r, id: ids.New(), actor: a, role: role, since: since, conn: conn,
		queue: make(chan []byte, h.opt.SendQueue), done: make(chan struct{}),
		tokens: float64(h.opt.FrameBurst), last: h.now(),
	}
	reply := make(chan error, 1)
	if !r.post(func(r *room) { reply <- r.join(c) }) {
		h.release(r)
		return nil, fmt.Errorf("live: the room closed: %w", errs.ErrUnavailable)
	}
	select {
	case err = <-reply:
	case <-r.stopped:
		err = fmt.Errorf("live: the room closed: %w", errs.ErrUnavailable)
	}
	if err != nil {
		h.release(r)
		return nil, err
	}
	h.conns.Add(1)
	h.att.add(attendanceRecord{ConnID: c.id, Node: h.node, SessionID: sess.ID, UserID: a.ID, FullName: a.FullName, Role: role,
		Kind: attJoin, At: h.now().UTC().Truncate(time.Millisecond)})
	go c.writeLoop()
	return c, nil
}

// EndSession ends a session: it is stored as ended, a session.ended event is the last
// event of the room, and from then on the room refuses every frame (clients may stay to
// read). Only a trainer of the class or an admin may. Errors: errs.ErrNotFound,
// errs.ErrForbidden, errs.ErrConflict (already ended), errs.ErrUnavailable.
func (h *Hub) EndSession(ctx context.Context, a Actor, sessionID string) (Session, error) {
	sess, err := h.svc.findSession(ctx, sessionID)
	if err != nil {
		return Session{}, err
	}
	role, err := h.svc.classRole(ctx, a, sess.ClassID)
	if err != nil {
		return Session{}, err
	}
	if role != RoleTrainer {
		return Session{}, fmt.Errorf("live: only a trainer of the class may end the session: %w", errs.ErrForbidden)
	}
	if sess.Ended() {
		return Session{}, fmt.Errorf("live: the session has already ended: %w", errs.ErrConflict)
	}
	sess, err = h.svc.markEnded(ctx, sess, a.ID, h.now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return Session{}, err
	}
	r, err := h.acquire(sess)
	if err != nil {
		return Session{}, err
	}
	defer h.release(r)
	done := make(chan error, 1)
	if !r.post(func(r *room) { r.endSession(UserRef{ID: a.ID, FullName: a.FullName}, done) }) {
		return Session{}, fmt.Errorf("live: the room closed: %w", errs.ErrUnavailable)
	}
	select {
	case err = <-done:
	case <-r.stopped:
		err = fmt.Errorf("live: the room closed: %w", errs.ErrUnavailable)
	case <-ctx.Done():
		err = fmt.Errorf("live: end session: %w", ctx.Err())
	}
	if err != nil {
		return Session{}, err
	}
	return sess, nil
}

// Client is one connection in a room. The server calls Receive for each frame it reads
// and Leave when the connection ends; the hub writes to the Conn from its own goroutine.
type Client struct {
	hub   *Hub
	room  *room
	id    string
	actor Actor
	role  string
	since int64
	conn  Conn

	queue chan []byte
	done  chan struct{}
	once  sync.Once

	// Set by the room at join, before the writer starts: what to replay first.
	storeFrom, storeTo int64    // events in (storeFrom, storeTo] come from the store
	backlog            [][]byte // then these recent frames

	// Owned by the reader goroutine (Receive).
	tokens float64
	last   time.Time
}

// ID returns the connection id (the attendance record's id).
func (c *Client) ID() string { return c.id }

// Role returns the client's role in the class: "learner" or "trainer".
func (c *Client) Role() string { return c.role }

// Done is closed when the hub has ended the connection (too slow, a frame too large,
// shutdown); the server then stops reading.
func (c *Client) Done() <-chan struct{} { return c.done }

// Receive handles one frame read from the connection. Bad frames and frames over the
// rate limit are answered with an error frame; a frame over MaxFrameBytes closes the
// connection with 1009. Receive must be called from one goroutine at a time.
func (c *Client) Receive(data []byte) {
	select {
	case <-c.done:
		return
	default:
	}
	if len(data) > MaxFrameBytes {
		c.abort(CloseTooLarge, "frame too large")
		return
	}
	f, ef := ParseFrame(data)
	if ef != nil {
		c.send(ef.Encode())
		return
	}
	if !c.allow() {
		c.hub.limited.Add(1)
		c.send(errorFrame("rate_limited", f.ClientID, "too many frames; at most %g a second", c.hub.opt.FrameRate).Encode())
		return
	}
	c.room.postFrom(c, func(r *room) { r.handle(c, f) })
}

// Leave removes the client from its room and records the leave. Safe to call more than
// once and after the hub ended the connection.
func (c *Client) Leave() {
	c.abort(CloseNormal, "")
}

// allow takes a token from the client's bucket.
func (c *Client) allow() bool {
	now := c.hub.now()
	if d := now.Sub(c.last); d > 0 {
		c.tokens = min(float64(c.hub.opt.FrameBurst), c.tokens+d.Seconds()*c.hub.opt.FrameRate)
	}
	c.last = now
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

// send queues a frame for the writer, closing the connection if the queue is full.
// It reports whether the frame was queued.
func (c *Client) send(frame []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.queue <- frame:
		return true
	default:
		c.hub.dropped.Add(1)
		c.abort(CloseTryAgainLater, "too slow")
		return false
	}
}

// shut closes the connection once; it reports whether this call did.
func (c *Client) shut(code int, reason string) bool {
	first := false
	c.once.Do(func() {
		first = true
		close(c.done)
		c.conn.Close(code, reason)
	})
	return first
}

// abort closes the connection and, from outside the room goroutine, removes the client
// from the room.
func (c *Client) abort(code int, reason string) {
	if c.shut(code, reason) {
		r := c.room
		go r.post(func(r *room) { r.remove(c) })
	}
}

// writeLoop is the connection's single writer: first the replay, then the live queue.
func (c *Client) writeLoop() {
	write := func(b []byte) bool {
		if err := c.conn.WriteFrame(b); err != nil {
			c.abort(CloseGoingAway, "write failed")
			return false
		}
		return true
	}
	for from := c.storeFrom; from < c.storeTo; {
		ctx, cancel := context.WithTimeout(c.hub.ctx, 30*time.Second)
		evs, err := c.hub.svc.loadEvents(ctx, c.room.id, from, c.storeTo, 500)
		cancel()
		if err != nil || len(evs) == 0 {
			c.hub.log.Warn("live: replay from store failed", "session", c.room.id, "err", err)
			c.abort(CloseTryAgainLater, "history unavailable")
			return
		}
		for i := range evs {
			select {
			case <-c.done:
				return
			default:
			}
			if !write(encodeEvent(&evs[i])) {
				return
			}
			from = evs[i].Seq
		}
	}
	bc, batching := c.conn.(BatchConn)
	writeMany := func(frames [][]byte) bool {
		if len(frames) == 1 || !batching {
			for _, f := range frames {
				if !write(f) {
					return false
				}
			}
			return true
		}
		if err := bc.WriteFrames(frames); err != nil {
			c.abort(CloseGoingAway, "write failed")
			return false
		}
		return true
	}
	for len(c.backlog) > 0 {
		n := min(len(c.backlog), maxWriteBatch)
		if !writeMany(c.backlog[:n]) {
			return
		}
		c.backlog = c.backlog[n:]
	}
	c.backlog = nil
	batch := make([][]byte, 0, maxWriteBatch)
	for {
		select {
		case f := <-c.queue:
			batch = append(batch[:0], f)
		more:
			for len(batch) < maxWriteBatch {
				select {
				case f := <-c.queue:
					batch = append(batch, f)
				default:
					break more
				}
			}
			if !writeMany(batch) {
				return
			}
		case <-c.done:
			return
		}
	}
}

func encodeEvent(ev *Event) []byte {
	b, err := json.Marshal(ev)
	if err != nil {
		// Event holds only strings, numbers, times and slices of them.
		panic(fmt.Sprintf("live: encode event: %v", err))
	}
	return b
}
