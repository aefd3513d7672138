package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/websocket"

	"hoctap/courses/live"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/dbtest"
)

// liveMembers is a live.Membership the test fills once it knows the users' ids.
type liveMembers struct {
	mu    sync.Mutex
	roles map[string]string // class id + "/" + user id → role
}

func (m *liveMembers) set(classID, userID, role string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.roles[classID+"/"+userID] = role
}

func (m *liveMembers) ClassRole(_ context.Context, classID, userID string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.roles[classID+"/"+userID], nil
}

// newLiveTestServer is startTestServer with the live hub on a test Membership (the
// courses service provides the real one).
func newLiveTestServer(t *testing.T) (*testServer, *liveMembers) {
	t.Helper()
	members := &liveMembers{roles: map[string]string{}}
	return newLiveTestServerOn(t, dbtest.New(t), members, ""), members
}

// newLiveTestServerOn starts a server on db (which several test servers may share, like
// several processes on one database), joined to others through NATS when natsURL is set.
func newLiveTestServerOn(t *testing.T, db *database.DB, members live.Membership, natsURL string) *testServer {
	t.Helper()
	cfg := testConfig(t)
	cfg.NATSURL = natsURL
	log := NewLogger(io.Discard, "error")
	ln := listen(t)
	cfg.PublicURL = "http://" + ln.Addr().String()
	mln := listen(t)
	cfg.MediaPublicURL = "http://" + mln.Addr().String()
	ctx := context.Background()
	store, disk, err := openStore(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if disk != nil {
		ms := mediaServer(disk)
		go serveMedia(ms, mln, log)
		t.Cleanup(func() { ms.Close() })
	}
	svc, closeServices, err := buildServices(ctx, cfg, db, store, clock.System, log)
	if err != nil {
		t.Fatal(err)
	}
	hub, closeLive, err := buildLive(ctx, db, members, clock.System, cfg.NATSURL, live.HubOptions{AttendanceEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	svc.Live = hub
	if err := ensureAdmin(ctx, cfg, svc.Accounts, log); err != nil {
		t.Fatal(err)
	}
	srv := New(cfg, log, clock.System, svc)
	go func() { _ = srv.app.Listener(ln) }()
	t.Cleanup(func() {
		_ = srv.app.ShutdownWithTimeout(5 * time.Second)
		closeLive()
		closeServices()
	})
	return &testServer{Server: srv, URL: cfg.PublicURL, DB: db, svc: svc, client: &http.Client{Timeout: 60 * time.Second}}
}

type liveUser struct {
	ID, Token, Name string
}

// liveUsers creates users with the given roles through the API and signs them in.
func liveUsers(t *testing.T, ts *testServer, specs ...[2]string) []liveUser {
	t.Helper()
	admin := ts.adminToken(t)
	var unit struct{ ID string }
	ts.call(t, "POST", "/api/v1/units", admin, map[string]string{"name": "Sở Nội vụ", "code": "SNV"}, http.StatusCreated, &unit)
	var out []liveUser
	for _, sp := range specs {
		username, role := sp[0], sp[1]
		var u struct{ ID, FullName string }
		ts.call(t, "POST", "/api/v1/users", admin, map[string]any{
			"username": username, "password": "password-" + username, "full_name": "Cán bộ " + username,
			"unit_id": unit.ID, "position": "chuyên viên", "roles": []string{role},
		}, http.StatusCreated, &u)
		out = append(out, liveUser{ID: u.ID, Name: u.FullName, Token: ts.login(t, username, "password-"+username)})
	}
	return out
}

func wsURL(ts *testServer, sessionID, query string) string {
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/live/" + sessionID
	if query != "" {
		u += "?" + query
	}
	return u
}

func dialLive(t *testing.T, ts *testServer, sessionID, query string, header http.Header) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(wsURL(ts, sessionID, query), header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

type liveFrame struct {
	Seq      int64  `json:"seq"`
	Type     string `json:"type"`
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
	Code     string `json:"code"`
	Count    int    `json:"count"`
	User     struct {
		ID       string `json:"id"`
		FullName string `json:"full_name"`
	} `json:"user"`
}

// readFrame returns the next frame other than presence.
func readFrame(t *testing.T, c *websocket.Conn) liveFrame {
	t.Helper()
	for {
		_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var f liveFrame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("frame %s: %v", data, err)
		}
		if f.Type != live.TypePresence {
			return f
		}
	}
}

// readEvents reads n events and checks they carry sequence numbers from+1 … from+n.
func readEvents(t *testing.T, c *websocket.Conn, from int64, n int) []liveFrame {
	t.Helper()
	var out []liveFrame
	for len(out) < n {
		f := readFrame(t, c)
		if f.Seq == 0 {
			t.Fatalf("unexpected frame %+v", f)
		}
		if want := from + int64(len(out)) + 1; f.Seq != want {
			t.Fatalf("seq %d, want %d", f.Seq, want)
		}
		out = append(out, f)
	}
	return out
}

// closedWith reads until the connection closes and returns the close code; it fails if
// a sequenced event arrives first.
func closedWith(t *testing.T, c *websocket.Conn) int {
	t.Helper()
	for {
		_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
		_, data, err := c.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var f liveFrame
		_ = json.Unmarshal(data, &f)
		if f.Seq != 0 {
			t.Fatalf("got event %s before the close", data)
		}
	}
}

func writeJSON(t *testing.T, c *websocket.Conn, format string, args ...any) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, format, args...)); err != nil {
		t.Fatal(err)
	}
}

func TestLiveSessionsOverHTTPAndWebsocket(t *testing.T) {
	ts, members := newLiveTestServer(t)
	us := liveUsers(t, ts, [2]string{"trainer1", "trainer"}, [2]string{"hocvien1", "learner"},
		[2]string{"hocvien2", "learner"}, [2]string{"nguoingoai", "learner"})
	trainer, l1, l2, outsider := us[0], us[1], us[2], us[3]
	const classID = "class-1"
	members.set(classID, trainer.ID, live.RoleTrainer)
	members.set(classID, l1.ID, live.RoleLearner)
	members.set(classID, l2.ID, live.RoleLearner)

	// Scheduling.
	path := "/api/v1/classes/" + classID + "/live-sessions"
	body := map[string]any{"title": "Chuyên đề chuyển đổi số", "starts_at": "2026-03-02T01:00:00Z", "stream_url": "https://stream.example.vn/live/1"}
	ts.callErr(t, "POST", path, l1.Token, body, http.StatusForbidden, "forbidden")
	ts.callErr(t, "POST", path, trainer.Token, map[string]any{"title": "x", "starts_at": "2026-03-02T01:00:00Z", "stream_url": "file:///etc/passwd"}, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "POST", path, trainer.Token, map[string]any{"title": "x", "starts_at": "2026-03-02T01:00:00Z", "extra": 1}, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "POST", path, trainer.Token, `{"title":`, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "POST", path, "", body, http.StatusUnauthorized, "unauthenticated")
	if n := ts.count(t, live.CollSessions); n != 0 {
		t.Fatalf("refused requests stored %d sessions", n)
	}
	var sess live.Session
	ts.call(t, "POST", path, trainer.Token, body, http.StatusCreated, &sess)
	if sess.ID == "" || sess.ClassID != classID || sess.StreamURL != body["stream_url"] {
		t.Fatalf("session %+v", sess)
	}
	ts.call(t, "GET", "/api/v1/live-sessions/"+sess.ID, l1.Token, nil, http.StatusOK, nil)
	// A learner of another class is told the session does not exist, as its class does.
	ts.callErr(t, "GET", "/api/v1/live-sessions/"+sess.ID, outsider.Token, nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "GET", "/api/v1/live-sessions/000000000000000000000000", l1.Token, nil, http.StatusNotFound, "not_found")
	var sessions struct {
		Items []live.Session
		Total int
	}
	ts.call(t, "GET", path, l2.Token, nil, http.StatusOK, &sessions)
	if sessions.Total != 1 {
		t.Fatalf("list %+v", sessions)
	}

	// Who may connect: refusals come before any event.
	if _, resp, err := websocket.DefaultDialer.Dial(wsURL(ts, sess.ID, ""), http.Header{
		"Authorization": {"Bearer " + l1.Token}, "Origin": {"https://evil.example.com"},
	}); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v %v", err, resp)
	}
	if code := closedWith(t, dialLive(t, ts, sess.ID, "", nil)); code != websocket.ClosePolicyViolation {
		t.Fatalf("anonymous: close %d", code)
	}
	if code := closedWith(t, dialLive(t, ts, sess.ID, "token=wrong", nil)); code != websocket.ClosePolicyViolation {
		t.Fatalf("bad token: close %d", code)
	}
	if code := closedWith(t, dialLive(t, ts, sess.ID, "", bearer(outsider.Token))); code != websocket.ClosePolicyViolation {
		t.Fatalf("outsider: close %d", code)
	}
	if code := closedWith(t, dialLive(t, ts, "000000000000000000000000", "", bearer(l1.Token))); code != websocket.ClosePolicyViolation {
		t.Fatalf("unknown session: close %d", code)
	}
	if code := closedWith(t, dialLive(t, ts, sess.ID, "since=-4", bearer(l1.Token))); code != websocket.ClosePolicyViolation {
		t.Fatalf("bad since: close %d", code)
	}
	resp := ts.do(t, "GET", "/ws/live/"+sess.ID, l1.Token, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("plain GET: %d", resp.StatusCode)
	}

	// The three ways to authenticate, and a same-origin browser.
	tc := dialLive(t, ts, sess.ID, "", bearer(trainer.Token))
	c1 := dialLive(t, ts, sess.ID, "token="+l1.Token, nil)
	c2 := dialLive(t, ts, sess.ID, "", http.Header{"Cookie": {sessionCookie + "=" + l2.Token}, "Origin": {ts.URL}})

	writeJSON(t, c1, `{"type":"chat.send","client_id":"a1","text":"Xin chào thầy"}`)
	writeJSON(t, c2, `{"type":"question.ask","client_id":"q1","text":"Hạn nộp báo cáo?"}`)
	writeJSON(t, c1, `{"type":"chat.send","client_id":"a1","text":"Xin chào thầy"}`) // resent: stored once
	writeJSON(t, tc, `{"type":"poll.open","question":"Đã rõ chưa?","choices":["Rõ","Chưa rõ"]}`)
	for _, c := range []*websocket.Conn{tc, c1, c2} {
		evs := readEvents(t, c, 0, 3)
		for _, e := range evs {
			if e.User.ID == "" || e.User.FullName == "" {
				t.Fatalf("event without user %+v", e)
			}
		}
	}
	// A learner may not moderate; bad frames get an error frame, not a disconnect.
	writeJSON(t, c1, `{"type":"user.mute","client_id":"m","user_id":"%s","minutes":5}`, l2.ID)
	if f := readFrame(t, c1); f.Type != "error" || f.Code != "forbidden" || f.ClientID != "m" {
		t.Fatalf("learner mute: %+v", f)
	}
	writeJSON(t, c1, `{"type":"chat.send","text":`)
	if f := readFrame(t, c1); f.Type != "error" || f.Code != "invalid" {
		t.Fatalf("malformed: %+v", f)
	}

	// Reconnect with since: exactly what was missed, then live.
	c1.Close()
	c1 = dialLive(t, ts, sess.ID, "since=1", bearer(l1.Token))
	readEvents(t, c1, 1, 2)
	writeJSON(t, c2, `{"type":"chat.send","client_id":"b1","text":"Em đã rõ"}`)
	readEvents(t, c1, 3, 1)
	readEvents(t, c2, 3, 1)
	readEvents(t, tc, 3, 1)

	// A frame over 4 KB closes that connection with 1009; the others stay.
	big := dialLive(t, ts, sess.ID, "since=4", bearer(l2.Token))
	// (the server may close before the client has written it all: ignore the write error)
	_ = big.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"type":"chat.send","text":"%s"}`, strings.Repeat("a", live.MaxFrameBytes)))
	if code := closedWith(t, big); code != websocket.CloseMessageTooBig {
		t.Fatalf("big frame: close %d", code)
	}

	// Stored events over HTTP.
	var page live.EventPage
	ts.call(t, "GET", "/api/v1/live-sessions/"+sess.ID+"/events?since=1", l2.Token, nil, http.StatusOK, &page)
	if len(page.Items) != 3 || page.Items[0].Seq != 2 || page.Next != 4 || page.More {
		t.Fatalf("events %+v", page)
	}
	ts.callErr(t, "GET", "/api/v1/live-sessions/"+sess.ID+"/events?since=x", l2.Token, nil, http.StatusUnprocessableEntity, "invalid")
	ts.callErr(t, "GET", "/api/v1/live-sessions/"+sess.ID+"/events", outsider.Token, nil, http.StatusNotFound, "not_found")

	// Ending makes the room read-only.
	ts.callErr(t, "POST", "/api/v1/live-sessions/"+sess.ID+"/end", l1.Token, nil, http.StatusForbidden, "forbidden")
	var ended live.Session
	ts.call(t, "POST", "/api/v1/live-sessions/"+sess.ID+"/end", trainer.Token, nil, http.StatusOK, &ended)
	if ended.EndedAt == nil {
		t.Fatalf("ended %+v", ended)
	}
	for _, c := range []*websocket.Conn{tc, c1, c2} {
		if f := readEvents(t, c, 4, 1)[0]; f.Type != live.TypeSessionEnded {
			t.Fatalf("end event %+v", f)
		}
	}
	writeJSON(t, c1, `{"type":"chat.send","client_id":"late","text":"muộn"}`)
	if f := readFrame(t, c1); f.Code != "conflict" || f.ClientID != "late" {
		t.Fatalf("chat after end %+v", f)
	}
	ts.callErr(t, "POST", "/api/v1/live-sessions/"+sess.ID+"/end", trainer.Token, nil, http.StatusConflict, "conflict")

	// Attendance: learners only, JSON and CSV; learners may not read it.
	c1.Close()
	c2.Close()
	ts.callErr(t, "GET", "/api/v1/live-sessions/"+sess.ID+"/attendance", l1.Token, nil, http.StatusForbidden, "forbidden")
	var att struct {
		Items []live.AttendanceRow
		Total int
	}
	deadline := time.Now().Add(15 * time.Second)
	for { // leaves reach the hub when the server notices the closed sockets
		ts.call(t, "GET", "/api/v1/live-sessions/"+sess.ID+"/attendance", trainer.Token, nil, http.StatusOK, &att)
		if att.Total == 2 && att.Items[0].LeftAt != nil && att.Items[1].LeftAt != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if att.Total != 2 {
		t.Fatalf("attendance %+v", att)
	}
	for _, r := range att.Items {
		if r.UserID != l1.ID && r.UserID != l2.ID || r.LeftAt == nil {
			t.Fatalf("row %+v", r)
		}
	}
	resp = ts.do(t, "GET", "/api/v1/live-sessions/"+sess.ID+"/attendance?format=csv", trainer.Token, nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(string(raw), "user_id,full_name,joined_at,left_at,minutes_present,connections\n") ||
		strings.Count(string(raw), "\n") != 3 {
		t.Fatalf("csv %d %s:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	ts.callErr(t, "GET", "/api/v1/live-sessions/"+sess.ID+"/attendance?format=xml", trainer.Token, nil, http.StatusUnprocessableEntity, "invalid")

	// The hub's counters are on /metrics.
	resp = ts.do(t, "GET", "/metrics", "", nil)
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{"hoctap_live_connections", "hoctap_live_events_stored_total 5", "hoctap_live_dropped_total"} {
		if !strings.Contains(string(raw), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func TestAppendTextFrame(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		payload := []byte(strings.Repeat("x", n))
		b := appendTextFrame(nil, payload)
		if b[0] != 0x81 {
			t.Fatalf("%d: first byte %x", n, b[0])
		}
		var length, hdr int
		switch l := int(b[1]); {
		case l < 126:
			length, hdr = l, 2
		case l == 126:
			length, hdr = int(b[2])<<8|int(b[3]), 4
		default:
			for _, c := range b[2:10] {
				length = length<<8 | int(c)
			}
			hdr = 10
		}
		if length != n || len(b) != hdr+n {
			t.Fatalf("%d: header says %d, frame is %d bytes with a %d-byte header", n, length, len(b), hdr)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	for _, tt := range []struct {
		origin, public string
		want           bool
	}{
		{"https://hoctap.gov.vn", "https://hoctap.gov.vn", true},
		{"https://hoctap.gov.vn:443", "https://hoctap.gov.vn", true},
		{"https://HOCTAP.gov.vn", "https://hoctap.gov.vn:443", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"http://hoctap.gov.vn", "https://hoctap.gov.vn", false},
		{"https://evil.example.com", "https://hoctap.gov.vn", false},
		{"https://hoctap.gov.vn.evil.com", "https://hoctap.gov.vn", false},
		{"https://hoctap.gov.vn:8443", "https://hoctap.gov.vn", false},
		{"null", "https://hoctap.gov.vn", false},
	} {
		if got := sameOrigin(tt.origin, tt.public); got != tt.want {
			t.Errorf("sameOrigin(%q, %q) = %v", tt.origin, tt.public, got)
		}
	}
}

// A peer that answers pings stays; one that has stopped answering is dropped once the
// read timeout passes, and its leave is recorded. The keep-alive runs here with short
// periods on a second listener that serves the same Server.
func TestLiveSocketKeepAlive(t *testing.T) {
	ts, members := newLiveTestServer(t)
	us := liveUsers(t, ts, [2]string{"trainer1", "trainer"}, [2]string{"hocvien1", "learner"}, [2]string{"hocvien2", "learner"})
	trainer, alive, dead := us[0], us[1], us[2]
	for _, u := range us[1:] {
		members.set("class-k", u.ID, live.RoleLearner)
	}
	members.set("class-k", trainer.ID, live.RoleTrainer)
	var sess live.Session
	ts.call(t, "POST", "/api/v1/classes/class-k/live-sessions", trainer.Token,
		map[string]any{"title": "Giữ kết nối", "starts_at": "2026-03-02T01:00:00Z"}, http.StatusCreated, &sess)

	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/ws/live/:session_id", ts.liveUpgrade, ts.liveSocketHandler(keepAlive{ping: 50 * time.Millisecond, read: 300 * time.Millisecond}))
	ln := listen(t)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	url := "ws://" + ln.Addr().String() + "/ws/live/" + sess.ID

	pings := make(chan struct{}, 100)
	ok, _, err := websocket.DefaultDialer.Dial(url, bearer(alive.Token))
	if err != nil {
		t.Fatal(err)
	}
	defer ok.Close()
	ok.SetPingHandler(func(data string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return ok.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	frames := make(chan liveFrame, 100)
	go func() {
		for {
			_, data, err := ok.ReadMessage()
			if err != nil {
				close(frames)
				return
			}
			var f liveFrame
			_ = json.Unmarshal(data, &f)
			frames <- f
		}
	}()

	silent, _, err := websocket.DefaultDialer.Dial(url, bearer(dead.Token))
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.SetPingHandler(func(string) error { return nil }) // a peer that stopped answering
	_ = silent.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		if _, _, err := silent.ReadMessage(); err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the silent peer was not dropped")
			}
			break
		}
	}
	// The answering peer saw several pings and is still served.
	for range 3 {
		select {
		case <-pings:
		case <-time.After(15 * time.Second):
			t.Fatal("no ping")
		}
	}
	writeJSON(t, ok, `{"type":"chat.send","client_id":"k1","text":"vẫn ở đây"}`)
	for f := range frames {
		if f.Type == live.TypeChatMessage {
			break
		}
	}
	var att struct{ Items []live.AttendanceRow }
	deadline := time.Now().Add(15 * time.Second)
	for {
		ts.call(t, "GET", "/api/v1/live-sessions/"+sess.ID+"/attendance", trainer.Token, nil, http.StatusOK, &att)
		var left bool
		for _, r := range att.Items {
			left = left || r.UserID == dead.ID && r.LeftAt != nil
		}
		if left {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dropped peer's leave was not recorded: %+v", att.Items)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startNATS runs Debian's nats-server on a free loopback port; the test fails, it is not
// skipped, when the binary is missing (scripts/test-deps.sh installs it).
func startNATS(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nats-server"); serr == nil {
			bin, err = "/usr/sbin/nats-server", nil
		}
	}
	if err != nil {
		t.Fatal("nats-server is not installed: run scripts/test-deps.sh (apt-get install -y nats-server)")
	}
	ln := listen(t)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two server processes on one database, joined by NATS (HOCTAP_NATS_URL): a client on
// each sees every event of the session once and in order.
func TestLiveAcrossTwoServers(t *testing.T) {
	natsURL := startNATS(t)
	db := dbtest.New(t)
	members := &liveMembers{roles: map[string]string{}}
	a := newLiveTestServerOn(t, db, members, natsURL)
	b := secondLiveServer(t, a, members, natsURL)
	us := liveUsers(t, a, [2]string{"trainer1", "trainer"}, [2]string{"hocvien1", "learner"})
	trainer, learner := us[0], us[1]
	members.set("class-n", trainer.ID, live.RoleTrainer)
	members.set("class-n", learner.ID, live.RoleLearner)
	var sess live.Session
	a.call(t, "POST", "/api/v1/classes/class-n/live-sessions", trainer.Token,
		map[string]any{"title": "Hai máy chủ", "starts_at": "2026-03-02T01:00:00Z"}, http.StatusCreated, &sess)

	ca := dialLive(t, a, sess.ID, "", bearer(trainer.Token))
	cb := dialLive(t, b, sess.ID, "", bearer(learner.Token))
	const n = 8 // within the default burst of 10 frames per connection
	for i := range n {
		writeJSON(t, ca, `{"type":"chat.send","client_id":"a%d","text":"A %d"}`, i, i)
		writeJSON(t, cb, `{"type":"chat.send","client_id":"b%d","text":"B %d"}`, i, i)
	}
	ea, eb := readEvents(t, ca, 0, 2*n), readEvents(t, cb, 0, 2*n)
	for i := range ea {
		if ea[i].Text != eb[i].Text {
			t.Fatalf("seq %d: %q on server A, %q on server B", i+1, ea[i].Text, eb[i].Text)
		}
	}
	var page live.EventPage
	b.call(t, "GET", "/api/v1/live-sessions/"+sess.ID+"/events?limit=500", learner.Token, nil, http.StatusOK, &page)
	if len(page.Items) != 2*n {
		t.Fatalf("stored %d events", len(page.Items))
	}
}

// secondLiveServer starts another server process on a's database and services (building
// every service twice on one embedded database only races their index creation), with a
// live hub of its own joined through NATS.
func secondLiveServer(t *testing.T, a *testServer, members live.Membership, natsURL string) *testServer {
	t.Helper()
	cfg := testConfig(t)
	ln := listen(t)
	cfg.PublicURL = "http://" + ln.Addr().String()
	hub, closeLive, err := buildLive(context.Background(), a.DB, members, clock.System, natsURL, live.HubOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc := a.svc
	svc.Live = hub
	srv := New(cfg, NewLogger(io.Discard, "error"), clock.System, svc)
	go func() { _ = srv.app.Listener(ln) }()
	t.Cleanup(func() {
		_ = srv.app.ShutdownWithTimeout(5 * time.Second)
		closeLive()
	})
	return &testServer{Server: srv, URL: cfg.PublicURL, DB: a.DB, svc: svc, client: &http.Client{Timeout: 60 * time.Second}}
}

func TestBuildLiveRefusesBadNATS(t *testing.T) {
	ln := listen(t) // a port where no NATS server answers
	addr := ln.Addr().String()
	ln.Close()
	_, _, err := buildLive(context.Background(), dbtest.New(t), &liveMembers{}, clock.System, "nats://"+addr, live.HubOptions{})
	if err == nil || !strings.Contains(err.Error(), "HOCTAP_NATS_URL") {
		t.Fatalf("err %v", err)
	}
}

// The real wiring: the courses service answers who belongs to a class. A class's trainer
// schedules and runs the session; an enrolled learner joins; a learner of another class,
// a trainer of no class and an unenrolled learner are refused.
func TestLiveWithCoursesMembership(t *testing.T) {
	ts := newTestServer(t)
	f := newCourseFixture(t, ts)
	var c struct{ ID string }
	ts.call(t, "POST", "/api/v1/courses", f.lecturer, map[string]any{"code": "CDS-01", "title": "Chuyển đổi số", "category": "ky_nang_so"}, http.StatusCreated, &c)
	var m struct{ ID string }
	ts.call(t, "POST", "/api/v1/courses/"+c.ID+"/modules", f.lecturer, map[string]any{"title": "Chương 1"}, http.StatusCreated, &m)
	ts.call(t, "POST", "/api/v1/courses/"+c.ID+"/modules/"+m.ID+"/lessons", f.lecturer, map[string]any{"title": "Đọc", "kind": "text", "body": "Nội dung"}, http.StatusCreated, nil)
	ts.call(t, "POST", "/api/v1/courses/"+c.ID+"/publish", f.lecturer, nil, http.StatusOK, nil)
	var class struct{ ID string }
	ts.call(t, "POST", "/api/v1/courses/"+c.ID+"/classes", f.trainer, map[string]any{
		"name": "Lớp 1", "starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-06-01T00:00:00Z", "capacity": 50,
	}, http.StatusCreated, &class)
	ts.call(t, "POST", "/api/v1/classes/"+class.ID+"/enrolments", f.trainer, map[string]any{"user_ids": []string{f.learnerID}}, http.StatusOK, nil)

	path := "/api/v1/classes/" + class.ID + "/live-sessions"
	body := map[string]any{"title": "Buổi 1", "starts_at": "2026-03-02T01:00:00Z"}
	ts.callErr(t, "POST", path, f.trainer2, body, http.StatusForbidden, "forbidden")
	ts.callErr(t, "POST", path, f.learner, body, http.StatusForbidden, "forbidden")
	var sess live.Session
	ts.call(t, "POST", path, f.trainer, body, http.StatusCreated, &sess)
	ts.call(t, "GET", "/api/v1/live-sessions/"+sess.ID, f.learner, nil, http.StatusOK, nil)
	ts.callErr(t, "GET", "/api/v1/live-sessions/"+sess.ID, f.learner2, nil, http.StatusNotFound, "not_found")
	ts.callErr(t, "GET", "/api/v1/live-sessions/"+sess.ID, f.trainer2, nil, http.StatusForbidden, "forbidden")

	for name, token := range map[string]string{"unenrolled learner": f.learner2, "learner elsewhere": f.outsider, "another trainer": f.trainer2} {
		if code := closedWith(t, dialLive(t, ts, sess.ID, "", bearer(token))); code != websocket.ClosePolicyViolation {
			t.Fatalf("%s: close %d", name, code)
		}
	}
	tc := dialLive(t, ts, sess.ID, "", bearer(f.trainer))
	lc := dialLive(t, ts, sess.ID, "token="+f.learner, nil)
	writeJSON(t, lc, `{"type":"question.ask","client_id":"q","text":"Khi nào có chứng chỉ?"}`)
	q := readEvents(t, tc, 0, 1)[0]
	if q.Type != live.TypeQuestionAsked || q.User.ID != f.learnerID {
		t.Fatalf("question %+v", q)
	}
	readEvents(t, lc, 0, 1)
	writeJSON(t, tc, `{"type":"slowmode.set","seconds":10}`)
	readEvents(t, lc, 1, 1)
}
