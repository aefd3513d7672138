package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/dbtest"
)

// fakeMembers is a Membership over a map: class id → user id → role.
type fakeMembers struct {
	mu    sync.Mutex
	roles map[string]map[string]string
}

func (m *fakeMembers) set(classID, userID, role string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.roles == nil {
		m.roles = map[string]map[string]string{}
	}
	if m.roles[classID] == nil {
		m.roles[classID] = map[string]string{}
	}
	m.roles[classID][userID] = role
}

func (m *fakeMembers) ClassRole(_ context.Context, classID, userID string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.roles[classID][userID], nil
}

// fakeConn is a Conn that hands written frames to the test. With blocked set, writes
// hang until Close, like a peer that stopped reading.
type fakeConn struct {
	frames  chan []byte
	blocked bool
	closed  chan struct{}
	once    sync.Once
	mu      sync.Mutex
	code    int
}

func newConn() *fakeConn {
	return &fakeConn{frames: make(chan []byte, 100_000), closed: make(chan struct{})}
}

func (c *fakeConn) WriteFrame(f []byte) error {
	if c.blocked {
		<-c.closed
		return errors.New("closed")
	}
	select {
	case <-c.closed:
		return errors.New("closed")
	default:
	}
	select {
	case c.frames <- f:
		return nil
	case <-c.closed:
		return errors.New("closed")
	}
}

// batchConn is a fakeConn that also takes frames in batches, as the websocket adapter does.
type batchConn struct {
	*fakeConn
	batches atomic.Int64
}

func (c *batchConn) WriteFrames(frames [][]byte) error {
	c.batches.Add(1)
	for _, f := range frames {
		if err := c.WriteFrame(f); err != nil {
			return err
		}
	}
	return nil
}

func (c *fakeConn) Close(code int, _ string) {
	c.once.Do(func() {
		c.mu.Lock()
		c.code = code
		c.mu.Unlock()
		close(c.closed)
	})
}

func (c *fakeConn) closeCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code
}

// wire is any frame a client receives.
type wire struct {
	Event
	Code    string `json:"code"`
	Message string `json:"message"`
	Count   int    `json:"count"`
	Choice  *int   `json:"choice"`
}

const waitFor = 15 * time.Second

// next returns the next frame that is not presence.
func (c *fakeConn) next(t testing.TB) wire {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case f := <-c.frames:
			var w wire
			if err := json.Unmarshal(f, &w); err != nil {
				t.Fatalf("bad frame %s: %v", f, err)
			}
			if w.Type == TypePresence {
				continue
			}
			return w
		case <-deadline:
			t.Fatalf("no frame within %v", waitFor)
		}
	}
}

// nextOf returns the next frame of the given type, skipping others.
func (c *fakeConn) nextOf(t testing.TB, typ string) wire {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case f := <-c.frames:
			var w wire
			if err := json.Unmarshal(f, &w); err != nil {
				t.Fatalf("bad frame %s: %v", f, err)
			}
			if w.Type == typ {
				return w
			}
		case <-deadline:
			t.Fatalf("no %s frame within %v", typ, waitFor)
		}
	}
}

// events reads n sequenced events and checks they are from+1 … from+n.
func (c *fakeConn) events(t testing.TB, from int64, n int) []wire {
	t.Helper()
	out := make([]wire, 0, n)
	for len(out) < n {
		w := c.next(t)
		if w.Seq == 0 {
			continue // error or other unsequenced frame
		}
		if want := from + int64(len(out)) + 1; w.Seq != want {
			t.Fatalf("got seq %d (%s), want %d", w.Seq, w.Type, want)
		}
		out = append(out, w)
	}
	return out
}

// quiet checks no sequenced event arrives for a moment.
func (c *fakeConn) quiet(t testing.TB, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case f := <-c.frames:
			var w wire
			_ = json.Unmarshal(f, &w)
			if w.Seq != 0 {
				t.Fatalf("unexpected event %s", f)
			}
		case <-deadline:
			return
		}
	}
}

func (c *fakeConn) waitClosed(t testing.TB) int {
	t.Helper()
	select {
	case <-c.closed:
		return c.closeCode()
	case <-time.After(waitFor):
		t.Fatal("connection not closed")
		return 0
	}
}

type env struct {
	t       *testing.T
	db      *database.DB
	clk     *clock.Fixed
	members *fakeMembers
	svc     *Service
	hub     *Hub
	sess    Session
	trainer Actor
	classID string
}

var (
	trainerA = Actor{ID: "trainer1", FullName: "Nguyễn Thị Huấn"}
	learner1 = Actor{ID: "learner1", FullName: "Trần Văn Một"}
	learner2 = Actor{ID: "learner2", FullName: "Lê Thị Hai"}
	learner3 = Actor{ID: "learner3", FullName: "Phạm Ba"}
	outsider = Actor{ID: "outsider", FullName: "Người Ngoài"} // staff of another class
	// strangerLearner is a learner of another class: told not found, never forbidden.
	strangerLearner = Actor{ID: "stranger", FullName: "Học Viên Khác", OnlyLearner: true}
	admin           = Actor{ID: "admin", FullName: "Quản Trị", Admin: true}
)

func fastOptions() HubOptions {
	return HubOptions{FrameRate: 1e6, FrameBurst: 1e6, Tick: 20 * time.Millisecond, IdleRoom: time.Hour,
		AttendanceEvery: 20 * time.Millisecond, GapWait: 20 * time.Millisecond}
}

// newEnv opens a database, a service and a hub with one class and one session.
func newEnv(t *testing.T, opt HubOptions) *env {
	t.Helper()
	e := &env{t: t, db: dbtest.New(t), clk: clock.NewFixed(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)),
		members: &fakeMembers{}, trainer: trainerA, classID: "class1"}
	e.members.set(e.classID, trainerA.ID, RoleTrainer)
	for _, l := range []Actor{learner1, learner2, learner3} {
		e.members.set(e.classID, l.ID, RoleLearner)
	}
	e.svc = NewService(e.db.Database, e.clk.Now, e.members)
	ctx := context.Background()
	if err := e.svc.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	var err error
	e.sess, err = e.svc.CreateSession(ctx, trainerA, e.classID, NewSession{Title: "Chuyên đề 1", StartsAt: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	e.hub = e.newHub(opt)
	return e
}

func (e *env) newHub(opt HubOptions) *Hub {
	h := NewHub(e.svc, opt)
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			e.t.Error(err)
		}
	})
	return h
}

func (e *env) join(h *Hub, a Actor, since int64) (*Client, *fakeConn) {
	e.t.Helper()
	conn := newConn()
	c, err := h.Join(context.Background(), a, e.sess.ID, since, conn)
	if err != nil {
		e.t.Fatalf("join %s: %v", a.ID, err)
	}
	return c, conn
}

func send(c *Client, format string, args ...any) {
	c.Receive(fmt.Appendf(nil, format, args...))
}

// stored returns the session's stored events.
func (e *env) stored() []Event {
	e.t.Helper()
	evs, err := e.svc.loadEvents(context.Background(), e.sess.ID, 0, 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			e.t.Fatalf("stored sequence has a gap: position %d holds seq %d", i, ev.Seq)
		}
	}
	return evs
}

func (e *env) count(coll string) int64 {
	e.t.Helper()
	n, err := e.db.Database.Collection(coll).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}
