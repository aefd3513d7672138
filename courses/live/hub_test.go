package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"hoctap/internal/errs"
)

func TestSessionScheduling(t *testing.T) {
	e := newEnv(t, fastOptions())
	ctx := context.Background()
	starts := e.clk.Now().Add(time.Hour)

	if _, err := e.svc.CreateSession(ctx, learner1, e.classID, NewSession{Title: "x", StartsAt: starts}); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("learner create: %v", err)
	}
	if _, err := e.svc.CreateSession(ctx, trainerA, "other-class", NewSession{Title: "x", StartsAt: starts}); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("trainer of another class: %v", err)
	}
	for name, in := range map[string]NewSession{
		"no title":       {StartsAt: starts},
		"no start":       {Title: "x"},
		"ftp stream":     {Title: "x", StartsAt: starts, StreamURL: "ftp://example.org/x"},
		"js stream":      {Title: "x", StartsAt: starts, StreamURL: "javascript:alert(1)"},
		"no host":        {Title: "x", StartsAt: starts, StreamURL: "https://"},
		"control chars":  {Title: "a\x00b", StartsAt: starts},
		"relative URL":   {Title: "x", StartsAt: starts, StreamURL: "/live/1"},
		"title too long": {Title: string(make([]byte, 300)), StartsAt: starts},
	} {
		_, err := e.svc.CreateSession(ctx, trainerA, e.classID, in)
		var fe *errs.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: want a field error, got %v", name, err)
		}
	}
	before, _ := e.svc.ListSessions(ctx, trainerA, e.classID)

	s, err := e.svc.CreateSession(ctx, admin, e.classID, NewSession{Title: " Buổi 2 ", StartsAt: starts, StreamURL: "https://stream.example.vn/a"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Title != "Buổi 2" || s.StreamURL != "https://stream.example.vn/a" || s.Ended() {
		t.Errorf("created %+v", s)
	}
	got, err := e.svc.GetSession(ctx, learner1, s.ID)
	if err != nil || got.ID != s.ID {
		t.Errorf("learner get: %+v %v", got, err)
	}
	if _, err := e.svc.GetSession(ctx, outsider, s.ID); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("outsider get: %v", err)
	}
	if _, err := e.svc.GetSession(ctx, strangerLearner, s.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("learner of another class get: %v", err)
	}
	if _, err := e.svc.GetSession(ctx, learner1, "000000000000000000000000"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, err := e.svc.GetSession(ctx, learner1, "not-an-id"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("malformed id: %v", err)
	}
	list, err := e.svc.ListSessions(ctx, learner2, e.classID)
	if err != nil || len(list) != len(before)+1 {
		t.Errorf("list: %d sessions, %v", len(list), err)
	}
	if _, err := e.svc.ListSessions(ctx, outsider, e.classID); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("outsider list: %v", err)
	}
	if _, err := e.svc.ListSessions(ctx, strangerLearner, e.classID); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("learner of another class list: %v", err)
	}

	// Another process has the running session cached.
	other := NewService(e.db.Database, e.clk.Now, e.members)
	if got, err := other.GetSession(ctx, learner1, s.ID); err != nil || got.Ended() {
		t.Fatalf("other process: %+v %v", got, err)
	}
	if _, err := e.hub.EndSession(ctx, learner1, s.ID); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("learner end: %v", err)
	}
	ended, err := e.hub.EndSession(ctx, trainerA, s.ID)
	if err != nil || !ended.Ended() {
		t.Fatalf("end: %+v %v", ended, err)
	}
	if _, err := e.hub.EndSession(ctx, trainerA, s.ID); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("end twice: %v", err)
	}
	// The other process notices the end once its cached copy is old enough.
	e.clk.Advance(sessionCacheTTL)
	if got, err := other.GetSession(ctx, learner1, s.ID); err != nil || !got.Ended() {
		t.Errorf("other process after the end: %+v %v", got, err)
	}
	// A fresh service reads the end from the store.
	fresh := NewService(e.db.Database, e.clk.Now, e.members)
	got, err = fresh.GetSession(ctx, trainerA, s.ID)
	if err != nil || !got.Ended() {
		t.Errorf("fresh get: %+v %v", got, err)
	}
}

func TestJoinRefusesOutsiders(t *testing.T) {
	e := newEnv(t, fastOptions())
	conn := newConn()
	if _, err := e.hub.Join(context.Background(), outsider, e.sess.ID, 0, conn); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("outsider join: %v", err)
	}
	if _, err := e.hub.Join(context.Background(), strangerLearner, e.sess.ID, 0, conn); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("learner of another class join: %v", err)
	}
	if _, err := e.hub.Join(context.Background(), learner1, "000000000000000000000000", 0, conn); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	if _, err := e.hub.Join(context.Background(), learner1, e.sess.ID, -1, conn); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("negative since: %v", err)
	}
	if len(conn.frames) != 0 {
		t.Fatalf("refused connection got frames")
	}
}

// Messages from several clients get sequence numbers 1…n with no gap, every client
// receives all of them in order, and the store holds exactly them.
func TestChatOrdering(t *testing.T) {
	e := newEnv(t, fastOptions())
	var clients []*Client
	var conns []*fakeConn
	for _, a := range []Actor{trainerA, learner1, learner2, learner3} {
		c, conn := e.join(e.hub, a, 0)
		clients, conns = append(clients, c), append(conns, conn)
	}
	const per = 25
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range per {
				send(c, `{"type":"chat.send","client_id":"m%d-%d","text":"tin nhắn %d của %d"}`, i, j, j, i)
			}
		}()
	}
	wg.Wait()
	n := per * len(clients)
	var first []wire
	// A client that takes frames in batches and joins late: its replay comes batched.
	bconn := &batchConn{fakeConn: newConn()}
	if _, err := e.hub.Join(context.Background(), learner1, e.sess.ID, 0, bconn); err != nil {
		t.Fatal(err)
	}
	conns = append(conns, bconn.fakeConn)
	for k, conn := range conns {
		got := conn.events(t, 0, n)
		if k == 0 {
			first = got
		}
		for i := range got {
			if got[i].Text != first[i].Text || got[i].Type != TypeChatMessage {
				t.Fatalf("client %d event %d differs: %+v vs %+v", k, i, got[i], first[i])
			}
		}
	}
	// Each sender's messages keep their order.
	last := map[string]int{}
	for _, w := range first {
		var i, j int
		fmt.Sscanf(w.ClientID, "m%d-%d", &i, &j)
		if prev, ok := last[w.User.ID]; ok && j != prev+1 {
			t.Fatalf("sender %s: message %d after %d", w.User.ID, j, prev)
		}
		last[w.User.ID] = j
	}
	if bconn.batches.Load() == 0 {
		t.Errorf("the batching connection got no batch")
	}
	if evs := e.stored(); len(evs) != n {
		t.Fatalf("stored %d events, want %d", len(evs), n)
	}
	st := e.hub.Stats()
	t.Logf("%d events stored in %d insertMany batches", st.Stored, st.Batches)
	if st.Stored != int64(n) || st.Batches < 1 || st.Batches > st.Stored {
		t.Errorf("stats %+v", st)
	}
}

// A client that reconnects with since=N receives exactly the events after N, then live
// ones: from the recent ring, and from the store when the ring no longer holds them.
func TestReconnectWithSince(t *testing.T) {
	for _, ring := range []int{4096, 4} {
		t.Run(fmt.Sprintf("ring%d", ring), func(t *testing.T) {
			opt := fastOptions()
			opt.RecentEvents = ring
			e := newEnv(t, opt)
			c, conn := e.join(e.hub, learner1, 0)
			for i := range 20 {
				send(c, `{"type":"chat.send","client_id":"a%d","text":"%d"}`, i, i)
			}
			conn.events(t, 0, 20)
			c.Leave()

			c2, conn2 := e.join(e.hub, learner1, 7)
			got := conn2.events(t, 7, 13)
			if got[0].Text != "7" || got[12].Text != "19" {
				t.Fatalf("replay %q … %q", got[0].Text, got[12].Text)
			}
			send(c2, `{"type":"chat.send","client_id":"b","text":"live"}`)
			if w := conn2.events(t, 20, 1)[0]; w.Text != "live" {
				t.Fatalf("live %+v", w)
			}
			// since at the last event: nothing to replay, live only.
			_, conn3 := e.join(e.hub, learner2, 21)
			send(c2, `{"type":"chat.send","client_id":"c","text":"after"}`)
			if w := conn3.next(t); w.Seq != 22 || w.Text != "after" {
				t.Fatalf("since beyond end got %+v", w)
			}
		})
	}
}

// Replay and live events racing: clients join with since while messages keep coming;
// each sees every event after its since exactly once, in order.
func TestJoinDuringTraffic(t *testing.T) {
	opt := fastOptions()
	opt.RecentEvents = 8 // force replays through the store
	e := newEnv(t, opt)
	sender, _ := e.join(e.hub, trainerA, 0)
	const total = 200
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			send(sender, `{"type":"chat.send","client_id":"x%d","text":"%d"}`, i, i)
			if i%20 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	type joiner struct {
		since int64
		conn  *fakeConn
	}
	var joiners []joiner
	for k := range 10 {
		since := int64(k * 7)
		_, conn := e.join(e.hub, learner1, since)
		joiners = append(joiners, joiner{since, conn})
		time.Sleep(2 * time.Millisecond)
	}
	<-done
	for _, j := range joiners {
		j.conn.events(t, j.since, total-int(j.since))
		j.conn.quiet(t, 50*time.Millisecond)
	}
}

// A resend with the same client_id is stored once; a resender that reconnected after it
// was stored gets the original event (same seq) back as acknowledgement, nobody gets it twice.
func TestDuplicateClientID(t *testing.T) {
	e := newEnv(t, fastOptions())
	c, conn := e.join(e.hub, learner1, 0)
	_, other := e.join(e.hub, learner2, 0)
	send(c, `{"type":"chat.send","client_id":"dup-1","text":"một lần"}`)
	send(c, `{"type":"chat.send","client_id":"dup-1","text":"một lần"}`)
	orig := conn.events(t, 0, 1)[0]
	conn.quiet(t, 100*time.Millisecond)
	other.events(t, 0, 1)
	other.quiet(t, 50*time.Millisecond)

	c.Leave()
	c2, conn2 := e.join(e.hub, learner1, orig.Seq)
	send(c2, `{"type":"chat.send","client_id":"dup-1","text":"một lần"}`)
	ack := conn2.next(t)
	if ack.Seq != orig.Seq || ack.ClientID != "dup-1" || ack.Text != "một lần" {
		t.Fatalf("ack %+v, want original %+v", ack, orig)
	}
	other.quiet(t, 100*time.Millisecond)
	// Reconnected before the event (since 0): the replay carries it, no extra ack.
	c3, conn3 := e.join(e.hub, learner1, 0)
	send(c3, `{"type":"chat.send","client_id":"dup-1","text":"một lần"}`)
	conn3.events(t, 0, 1)
	conn3.quiet(t, 100*time.Millisecond)
	// Another user's identical client_id is a different message.
	c4, _ := e.join(e.hub, learner2, 1)
	send(c4, `{"type":"chat.send","client_id":"dup-1","text":"khác"}`)
	other.events(t, 1, 1)
	if n := len(e.stored()); n != 2 {
		t.Fatalf("stored %d events, want 2", n)
	}
	// A question resent is stored once too.
	send(c4, `{"type":"question.ask","client_id":"q-1","text":"Hỏi?"}`)
	send(c4, `{"type":"question.ask","client_id":"q-1","text":"Hỏi?"}`)
	q := other.events(t, 2, 1)[0]
	other.quiet(t, 100*time.Millisecond)
	if q.Type != TypeQuestionAsked || q.QuestionID == "" {
		t.Fatalf("question %+v", q)
	}
}

// A poll's votes arrive by the hundred: the store writes them in batches FerretDB takes
// (one update command of 100 or more that find their documents stalls it for good).
func TestStoreBatchManyVotes(t *testing.T) {
	e := newEnv(t, fastOptions())
	ctx := context.Background()
	var votes []voteDoc
	for i := range 150 {
		uid := fmt.Sprintf("u%03d", i)
		votes = append(votes, voteDoc{ID: "p1/" + uid, SessionID: e.sess.ID, PollID: "p1", UserID: uid, Choice: i % 3, At: e.clk.Now()})
	}
	if r := e.svc.storeBatch(ctx, e.sess.ID, 1, nil, votes); r.votesErr != nil {
		t.Fatalf("storing 150 votes: %v", r.votesErr)
	}
	// Everybody changes their mind: each upsert now finds its vote.
	for i := range votes {
		votes[i].Choice = (votes[i].Choice + 1) % 3
	}
	if r := e.svc.storeBatch(ctx, e.sess.ID, 1, nil, votes); r.votesErr != nil {
		t.Fatalf("storing 150 changed votes: %v", r.votesErr)
	}
	stored, err := e.svc.loadVotes(ctx, []string{"p1"})
	if err != nil || len(stored) != 150 {
		t.Fatalf("%d votes stored, want 150 (%v)", len(stored), err)
	}
	for _, v := range stored {
		var i int
		fmt.Sscanf(v.UserID, "u%03d", &i)
		if v.Choice != (i%3+1)%3 {
			t.Fatalf("vote %s holds %d, not the changed choice", v.ID, v.Choice)
		}
	}
}

// The store settles a duplicate key even when the room did not know of the original
// (another process stored it): the resender gets the original, nothing is stored twice.
func TestStoreBatchConflicts(t *testing.T) {
	e := newEnv(t, fastOptions())
	ctx := context.Background()
	mk := func(key, text string) Event {
		return Event{ID: fmt.Sprint("id-", text), SessionID: e.sess.ID, Type: TypeChatMessage, At: e.clk.Now(), Text: text, Key: key}
	}
	r1 := e.svc.storeBatch(ctx, e.sess.ID, 1, []Event{mk("", "a"), mk("k1", "b")}, nil)
	if len(r1.stored) != 2 || r1.next != 3 || len(r1.failed) != 0 {
		t.Fatalf("first batch %+v", r1)
	}
	// A second process that still believes next is 1.
	r2 := e.svc.storeBatch(ctx, e.sess.ID, 1, []Event{mk("", "c"), mk("k1", "b-again"), mk("", "d")}, nil)
	if len(r2.failed) != 0 {
		t.Fatalf("failed %v", r2.failed)
	}
	if len(r2.foreign) != 2 || r2.foreign[0].Seq != 1 || r2.foreign[1].Seq != 2 {
		t.Fatalf("foreign %+v", r2.foreign)
	}
	if d, ok := r2.dups[1]; !ok || d.Seq != 2 || d.Text != "b" {
		t.Fatalf("dups %+v", r2.dups)
	}
	if len(r2.stored) != 2 || r2.stored[0].Text != "c" || r2.stored[0].Seq != 3 || r2.stored[1].Seq != 4 || r2.next != 5 {
		t.Fatalf("stored %+v next %d", r2.stored, r2.next)
	}
	if n := len(e.stored()); n != 4 {
		t.Fatalf("stored %d", n)
	}
}

// A client whose connection stops reading is dropped (1013) once its queue is full,
// while the others keep receiving every event.
func TestSlowClientDropped(t *testing.T) {
	opt := fastOptions()
	opt.SendQueue = 8
	e := newEnv(t, opt)
	sender, fast := e.join(e.hub, trainerA, 0)
	slowConn := newConn()
	slowConn.blocked = true
	if _, err := e.hub.Join(context.Background(), learner1, e.sess.ID, 0, slowConn); err != nil {
		t.Fatal(err)
	}
	_, fast2 := e.join(e.hub, learner2, 0)
	const n = 100
	for i := range n { // at the pace of the fast readers
		send(sender, `{"type":"chat.send","client_id":"s%d","text":"%d"}`, i, i)
		fast.events(t, int64(i), 1)
		fast2.events(t, int64(i), 1)
	}
	if code := slowConn.waitClosed(t); code != CloseTryAgainLater {
		t.Fatalf("slow client closed with %d", code)
	}
	if st := e.hub.Stats(); st.Dropped < 1 {
		t.Errorf("stats %+v", st)
	}
	// It reconnects and catches up from its last sequence (here: nothing read).
	_, again := e.join(e.hub, learner1, 0)
	again.events(t, 0, n)
}

func TestModeration(t *testing.T) {
	e := newEnv(t, fastOptions())
	tr, trc := e.join(e.hub, trainerA, 0)
	l1, l1c := e.join(e.hub, learner1, 0)

	// Learners may not moderate.
	for _, f := range []string{
		`{"type":"poll.open","client_id":"p","question":"q","choices":["a","b"]}`,
		`{"type":"user.mute","client_id":"p","user_id":"learner2","minutes":5}`,
		`{"type":"slowmode.set","client_id":"p","seconds":5}`,
		`{"type":"chat.delete","client_id":"p","event_seq":1}`,
		`{"type":"question.answered","client_id":"p","question_id":"x"}`,
		`{"type":"poll.close","client_id":"p","poll_id":"x"}`,
	} {
		l1.Receive([]byte(f))
		if w := l1c.next(t); w.Type != TypeError || w.Code != "forbidden" || w.ClientID != "p" {
			t.Fatalf("%s: got %+v", f, w)
		}
	}
	// Bad frames get error frames, the connection stays.
	l1.Receive([]byte(`{"type":`))
	if w := l1c.next(t); w.Type != TypeError || w.Code != "invalid" {
		t.Fatalf("malformed: %+v", w)
	}
	send(l1, `{"type":"chat.send","client_id":"m1","text":"chào"}`)
	msg := l1c.events(t, 0, 1)[0]
	trc.events(t, 0, 1)

	// Delete.
	send(tr, `{"type":"chat.delete","event_seq":%d}`, msg.Seq)
	del := l1c.events(t, 1, 1)[0]
	if del.Type != TypeChatDeleted || del.EventSeq != msg.Seq || del.User.ID != trainerA.ID {
		t.Fatalf("delete %+v", del)
	}
	trc.events(t, 1, 1)
	send(tr, `{"type":"chat.delete","client_id":"d2","event_seq":%d}`, msg.Seq)
	if w := trc.next(t); w.Code != "conflict" {
		t.Fatalf("delete twice %+v", w)
	}
	send(tr, `{"type":"chat.delete","client_id":"d3","event_seq":2}`) // seq 2 is not a chat message
	if w := trc.next(t); w.Code != "not_found" {
		t.Fatalf("delete non-chat %+v", w)
	}

	// Mute: the muted learner's chat and questions are refused, others unaffected.
	send(tr, `{"type":"user.mute","user_id":"%s","minutes":10}`, learner1.ID)
	mute := l1c.events(t, 2, 1)[0]
	if mute.Type != TypeUserMuted || mute.UserID != learner1.ID || mute.Minutes != 10 || mute.Until == nil {
		t.Fatalf("mute %+v", mute)
	}
	trc.events(t, 2, 1)
	send(l1, `{"type":"chat.send","client_id":"m2","text":"vẫn nói"}`)
	if w := l1c.next(t); w.Code != "forbidden" || w.ClientID != "m2" {
		t.Fatalf("muted chat %+v", w)
	}
	send(l1, `{"type":"question.ask","client_id":"m3","text":"hỏi"}`)
	if w := l1c.next(t); w.Code != "forbidden" {
		t.Fatalf("muted question %+v", w)
	}
	// The mute expires with time.
	e.clk.Advance(11 * time.Minute)
	send(l1, `{"type":"chat.send","client_id":"m4","text":"hết bị cấm"}`)
	if w := l1c.events(t, 3, 1)[0]; w.Text != "hết bị cấm" {
		t.Fatalf("after mute %+v", w)
	}
	trc.events(t, 3, 1)
	// Mute and lift.
	send(tr, `{"type":"user.mute","user_id":"%s","minutes":10}`, learner1.ID)
	send(tr, `{"type":"user.mute","user_id":"%s","minutes":0}`, learner1.ID)
	l1c.events(t, 4, 2)
	trc.events(t, 4, 2)
	send(l1, `{"type":"chat.send","client_id":"m5","text":"lại nói"}`)
	l1c.events(t, 6, 1)
	trc.events(t, 6, 1)

	// Slow mode: one chat message per 30 s for learners; trainers are exempt.
	send(tr, `{"type":"slowmode.set","seconds":30}`)
	if w := l1c.events(t, 7, 1)[0]; w.Type != TypeSlowmodeSet || w.Seconds != 30 {
		t.Fatalf("slowmode %+v", w)
	}
	trc.events(t, 7, 1)
	e.clk.Advance(30 * time.Second) // l1's last message was just now
	send(l1, `{"type":"chat.send","client_id":"s1","text":"một"}`)
	l1c.events(t, 8, 1)
	send(l1, `{"type":"chat.send","client_id":"s2","text":"hai"}`)
	if w := l1c.next(t); w.Code != "rate_limited" || w.ClientID != "s2" {
		t.Fatalf("slow mode %+v", w)
	}
	send(tr, `{"type":"chat.send","text":"trainer 1"}`)
	send(tr, `{"type":"chat.send","text":"trainer 2"}`)
	l1c.events(t, 9, 2)
	e.clk.Advance(30 * time.Second)
	send(l1, `{"type":"chat.send","client_id":"s2","text":"hai"}`)
	if w := l1c.events(t, 11, 1)[0]; w.Text != "hai" {
		t.Fatalf("after slow mode wait %+v", w)
	}
	if n := len(e.stored()); n != 12 {
		t.Fatalf("stored %d", n)
	}
}

func TestRateLimit(t *testing.T) {
	opt := fastOptions()
	opt.FrameRate, opt.FrameBurst = 2, 3
	e := newEnv(t, opt)
	c, conn := e.join(e.hub, learner1, 0)
	for i := range 4 {
		send(c, `{"type":"chat.send","client_id":"r%d","text":"%d"}`, i, i)
	}
	var events int
	var refused wire
	for events < 3 || refused.Code == "" {
		w := conn.next(t)
		if w.Type == TypeError {
			refused = w
		} else {
			events++
		}
	}
	if events != 3 || refused.Code != "rate_limited" || refused.ClientID != "r3" {
		t.Fatalf("%d events, error %+v", events, refused)
	}
	e.clk.Advance(time.Second) // two more tokens
	send(c, `{"type":"chat.send","client_id":"r3","text":"3"}`)
	conn.events(t, 3, 1)
	select {
	case <-c.Done():
		t.Fatal("rate limiting disconnected the client")
	default:
	}
}

func TestPolls(t *testing.T) {
	e := newEnv(t, fastOptions())
	tr, trc := e.join(e.hub, trainerA, 0)
	l1, l1c := e.join(e.hub, learner1, 0)
	l2, _ := e.join(e.hub, learner2, 0)

	send(tr, `{"type":"poll.open","question":"Đã hiểu bài?","choices":["Có","Chưa","Một phần"]}`)
	opened := trc.events(t, 0, 1)[0]
	if opened.Type != TypePollOpened || opened.PollID == "" || len(opened.Choices) != 3 {
		t.Fatalf("opened %+v", opened)
	}
	l1c.events(t, 0, 1)
	pid := opened.PollID

	send(l1, `{"type":"poll.vote","poll_id":"%s","choice":0}`, pid)
	if w := l1c.nextOf(t, TypePollVoted); *w.Choice != 0 || w.PollID != pid {
		t.Fatalf("vote ack %+v", w)
	}
	send(l1, `{"type":"poll.vote","poll_id":"%s","choice":"Chưa"}`, pid) // changes the vote
	l1c.nextOf(t, TypePollVoted)
	send(l2, `{"type":"poll.vote","poll_id":"%s","choice":1}`, pid)
	send(l1, `{"type":"poll.vote","poll_id":"%s","choice":7}`, pid)
	if w := l1c.nextOf(t, TypeError); w.Code != "invalid" {
		t.Fatalf("bad choice %+v", w)
	}
	send(l1, `{"type":"poll.vote","poll_id":"nope","choice":1}`)
	if w := l1c.nextOf(t, TypeError); w.Code != "not_found" {
		t.Fatalf("unknown poll %+v", w)
	}
	// Live tallies arrive (at most once a tick) until they show both votes on "Chưa".
	for {
		w := trc.nextOf(t, TypePollResults)
		if fmt.Sprint(w.Counts) == "[0 2 0]" && w.Votes == 2 {
			break
		}
	}
	send(tr, `{"type":"poll.close","poll_id":"%s"}`, pid)
	closed := trc.nextOf(t, TypePollClosed)
	if fmt.Sprint(closed.Counts) != "[0 2 0]" || closed.Votes != 2 {
		t.Fatalf("closed %+v", closed)
	}
	send(l1, `{"type":"poll.vote","poll_id":"%s","choice":0}`, pid)
	if w := l1c.nextOf(t, TypeError); w.Code != "conflict" {
		t.Fatalf("vote after close %+v", w)
	}
	send(tr, `{"type":"poll.close","client_id":"again","poll_id":"%s"}`, pid)
	if w := trc.nextOf(t, TypeError); w.Code != "conflict" {
		t.Fatalf("close twice %+v", w)
	}
	// Votes were stored, one per learner.
	if n := e.count(CollVotes); n != 2 {
		t.Fatalf("%d stored votes", n)
	}
	// The final result is kept: a new hub on the same store replays it.
	evs := e.stored()
	last := evs[len(evs)-1]
	if last.Type != TypePollClosed || fmt.Sprint(last.Counts) != "[0 2 0]" {
		t.Fatalf("last stored %+v", last)
	}
}

// A vote survives a restart: a new hub reads the open poll's votes from the store.
func TestPollVotesSurviveRestart(t *testing.T) {
	e := newEnv(t, fastOptions())
	tr, trc := e.join(e.hub, trainerA, 0)
	l1, l1c := e.join(e.hub, learner1, 0)
	send(tr, `{"type":"poll.open","question":"q","choices":["a","b"]}`)
	pid := trc.events(t, 0, 1)[0].PollID
	send(l1, `{"type":"poll.vote","poll_id":"%s","choice":1}`, pid)
	l1c.nextOf(t, TypePollVoted)
	trc.nextOf(t, TypePollResults)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.hub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	h2 := e.newHub(fastOptions())
	since := int64(len(e.stored()))
	tr2, trc2 := e.join(h2, trainerA, since)
	send(tr2, `{"type":"poll.close","poll_id":"%s"}`, pid)
	closed := trc2.nextOf(t, TypePollClosed)
	if fmt.Sprint(closed.Counts) != "[0 1]" {
		t.Fatalf("closed after restart %+v", closed)
	}
}

func TestQuestions(t *testing.T) {
	e := newEnv(t, fastOptions())
	tr, trc := e.join(e.hub, trainerA, 0)
	l1, l1c := e.join(e.hub, learner1, 0)
	l2, _ := e.join(e.hub, learner2, 0)
	send(l1, `{"type":"question.ask","client_id":"q1","text":"Nghị định nào áp dụng?"}`)
	q := trc.events(t, 0, 1)[0]
	if q.Type != TypeQuestionAsked || q.QuestionID == "" || q.User.ID != learner1.ID || q.User.FullName != learner1.FullName {
		t.Fatalf("asked %+v", q)
	}
	send(l2, `{"type":"question.upvote","question_id":"%s"}`, q.QuestionID)
	send(l2, `{"type":"question.upvote","client_id":"again","question_id":"%s"}`, q.QuestionID)
	send(l1, `{"type":"question.upvote","question_id":"%s"}`, q.QuestionID)
	up := trc.events(t, 1, 2)
	if up[0].Type != TypeQuestionUpvoted || up[0].Upvotes != 1 || up[1].Upvotes != 2 {
		t.Fatalf("upvotes %+v", up)
	}
	trc.quiet(t, 100*time.Millisecond)
	send(l2, `{"type":"question.upvote","client_id":"third","question_id":"%s"}`, q.QuestionID)
	send(l1, `{"type":"question.upvote","question_id":"nope"}`)
	if w := l1c.nextOf(t, TypeError); w.Code != "not_found" {
		t.Fatalf("unknown question %+v", w)
	}
	send(tr, `{"type":"question.answered","question_id":"%s"}`, q.QuestionID)
	if w := trc.events(t, 3, 1)[0]; w.Type != TypeQuestionAnswered || w.QuestionID != q.QuestionID {
		t.Fatalf("answered %+v", w)
	}
	send(tr, `{"type":"question.answered","client_id":"x","question_id":"%s"}`, q.QuestionID)
	if w := trc.nextOf(t, TypeError); w.Code != "conflict" {
		t.Fatalf("answered twice %+v", w)
	}
	if n := len(e.stored()); n != 4 {
		t.Fatalf("stored %d", n)
	}
}

func TestPresence(t *testing.T) {
	e := newEnv(t, fastOptions())
	_, c1 := e.join(e.hub, learner1, 0)
	if w := c1.nextOf(t, TypePresence); w.Count != 1 {
		t.Fatalf("presence %+v", w)
	}
	e.join(e.hub, learner2, 0)
	e.join(e.hub, learner2, 0) // a second device counts once
	for {
		if w := c1.nextOf(t, TypePresence); w.Count == 2 {
			break
		}
	}
}

func TestAttendance(t *testing.T) {
	e := newEnv(t, fastOptions())
	ctx := context.Background()
	a, _ := e.join(e.hub, learner1, 0) // laptop from 0 to 30 min
	e.clk.Advance(10 * time.Minute)    //
	b, _ := e.join(e.hub, learner1, 0) // phone from 10 to 40 min
	e.join(e.hub, learner2, 0)         // learner 2 stays until shutdown, 10 to 50 min
	e.clk.Advance(20 * time.Minute)    //
	a.Leave()                          //
	e.clk.Advance(10 * time.Minute)    //
	b.Leave()                          //
	e.join(e.hub, trainerA, 0)         // trainers are not in the report
	if err := e.hub.FlushAttendance(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Attendance(ctx, learner1, e.sess.ID); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("learner reads attendance: %v", err)
	}
	e.clk.Advance(10 * time.Minute)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := e.hub.Close(cctx); err != nil { // a clean shutdown records every leave
		t.Fatal(err)
	}
	if n := e.count(CollNodes); n != 1 {
		t.Errorf("%d hub heartbeats stored", n)
	}
	e.clk.Advance(60 * time.Minute)
	rows, err := e.svc.Attendance(ctx, Actor{ID: "ua", UnitAdmin: true}, e.sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	byID := map[string]AttendanceRow{}
	for _, r := range rows {
		byID[r.UserID] = r
	}
	r1, r2 := byID[learner1.ID], byID[learner2.ID]
	if r1.MinutesPresent != 40 || r1.Connections != 2 || r1.LeftAt == nil || r1.LeftAt.Sub(r1.JoinedAt) != 40*time.Minute {
		t.Errorf("learner1 %+v", r1)
	}
	if r2.MinutesPresent != 40 || r2.LeftAt == nil {
		t.Errorf("learner2 (left at shutdown) %+v", r2)
	}
}

// A new hub on the same database (a restarted process) continues the sequence.
func TestNodeRestartContinuesSequence(t *testing.T) {
	e := newEnv(t, fastOptions())
	c, conn := e.join(e.hub, learner1, 0)
	for i := range 5 {
		send(c, `{"type":"chat.send","client_id":"a%d","text":"%d"}`, i, i)
	}
	conn.events(t, 0, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.hub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if code := conn.waitClosed(t); code != CloseGoingAway {
		t.Fatalf("close code %d", code)
	}
	svc2 := NewService(e.db.Database, e.clk.Now, e.members)
	h2 := NewHub(svc2, fastOptions())
	t.Cleanup(func() { _ = h2.Close(context.Background()) })
	conn2 := newConn()
	c2, err := h2.Join(ctx, learner1, e.sess.ID, 3, conn2)
	if err != nil {
		t.Fatal(err)
	}
	conn2.events(t, 3, 2)
	// A resend of a stored message: the client joined with since 3 < 5, so the replay
	// carried the original and nothing more comes.
	send(c2, `{"type":"chat.send","client_id":"a4","text":"4"}`)
	conn2.quiet(t, 100*time.Millisecond)
	send(c2, `{"type":"chat.send","client_id":"b","text":"mới"}`)
	if w := conn2.events(t, 5, 1)[0]; w.Text != "mới" {
		t.Fatalf("after restart %+v", w)
	}
	if n := len(e.stored()); n != 6 {
		t.Fatalf("stored %d", n)
	}
}

// After EndSession the room is read-only; its record and events stay.
func TestEndedSessionIsReadOnly(t *testing.T) {
	e := newEnv(t, fastOptions())
	ctx := context.Background()
	l1, l1c := e.join(e.hub, learner1, 0)
	send(l1, `{"type":"chat.send","client_id":"a","text":"trước"}`)
	l1c.events(t, 0, 1)
	if _, err := e.hub.EndSession(ctx, trainerA, e.sess.ID); err != nil {
		t.Fatal(err)
	}
	if w := l1c.events(t, 1, 1)[0]; w.Type != TypeSessionEnded || w.User.ID != trainerA.ID {
		t.Fatalf("ended %+v", w)
	}
	send(l1, `{"type":"chat.send","client_id":"b","text":"sau"}`)
	if w := l1c.next(t); w.Code != "conflict" || w.ClientID != "b" {
		t.Fatalf("chat after end %+v", w)
	}
	tr, trc := e.join(e.hub, trainerA, 0)
	trc.events(t, 0, 2)
	send(tr, `{"type":"poll.open","question":"q","choices":["a","b"]}`)
	if w := trc.next(t); w.Code != "conflict" {
		t.Fatalf("poll after end %+v", w)
	}
	if n := len(e.stored()); n != 2 {
		t.Fatalf("stored %d", n)
	}
	page, err := e.svc.Events(ctx, learner1, e.sess.ID, 0, 0)
	if err != nil || len(page.Items) != 2 || page.Items[1].Type != TypeSessionEnded || page.More {
		t.Fatalf("events %+v %v", page, err)
	}
	if _, err := e.svc.Events(ctx, outsider, e.sess.ID, 0, 0); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("outsider events: %v", err)
	}
	if _, err := e.svc.Events(ctx, strangerLearner, e.sess.ID, 0, 0); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("learner of another class events: %v", err)
	}
	if page, err := e.svc.Events(ctx, learner1, e.sess.ID, 1, 1); err != nil || len(page.Items) != 1 || page.Items[0].Seq != 2 || page.Next != 2 {
		t.Fatalf("page after 1: %+v %v", page, err)
	}
}

// If the process stopped after storing the end but before its event, the room adds the
// event when it next loads.
func TestEndEventHealedOnLoad(t *testing.T) {
	e := newEnv(t, fastOptions())
	ctx := context.Background()
	if _, err := e.svc.markEnded(ctx, e.sess, trainerA.ID, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	_, conn := e.join(e.hub, learner1, 0)
	if w := conn.events(t, 0, 1)[0]; w.Type != TypeSessionEnded {
		t.Fatalf("got %+v", w)
	}
}

func TestFrameTooLargeCloses(t *testing.T) {
	e := newEnv(t, fastOptions())
	c, conn := e.join(e.hub, learner1, 0)
	c.Receive(make([]byte, MaxFrameBytes+1))
	if code := conn.waitClosed(t); code != CloseTooLarge {
		t.Fatalf("close code %d", code)
	}
}

// A process that died never wrote its connections' leaves: they end at its last
// heartbeat, while a live process's open connections still count until now.
func TestAttendanceAfterCrash(t *testing.T) {
	e := newEnv(t, fastOptions())
	ctx := context.Background()
	start := e.clk.Now()
	recs := []any{
		attendanceRecord{ID: "c1/join", ConnID: "c1", Node: "dead", SessionID: e.sess.ID, UserID: learner1.ID, FullName: learner1.FullName, Role: RoleLearner, Kind: attJoin, At: start},
		attendanceRecord{ID: "c2/join", ConnID: "c2", Node: "alive", SessionID: e.sess.ID, UserID: learner2.ID, FullName: learner2.FullName, Role: RoleLearner, Kind: attJoin, At: start},
	}
	if _, err := e.db.Database.Collection(CollAttendance).InsertMany(ctx, recs); err != nil {
		t.Fatal(err)
	}
	now := start.Add(60 * time.Minute)
	beats := []any{nodeDoc{ID: "dead", LastSeen: start.Add(10 * time.Minute)}, nodeDoc{ID: "alive", LastSeen: now.Add(-10 * time.Second)}}
	if _, err := e.db.Database.Collection(CollNodes).InsertMany(ctx, beats); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(60 * time.Minute)
	rows, err := e.svc.Attendance(ctx, trainerA, e.sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]AttendanceRow{}
	for _, r := range rows {
		byID[r.UserID] = r
	}
	if r := byID[learner1.ID]; r.MinutesPresent != 10 || r.LeftAt == nil || !r.LeftAt.Equal(start.Add(10*time.Minute)) {
		t.Errorf("on the dead process: %+v", r)
	}
	if r := byID[learner2.ID]; r.MinutesPresent != 60 || r.LeftAt != nil {
		t.Errorf("on the live process: %+v", r)
	}
}
