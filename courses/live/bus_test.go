package live

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// startNATS runs Debian's nats-server on a free loopback port for the test and returns
// its URL. The test fails (it is not skipped) when the binary is missing.
func startNATS(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nats-server", "/usr/bin/nats-server"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
				break
			}
		}
	}
	if err != nil {
		t.Fatalf("nats-server is not installed; the multi-process live tests need it: run `apt-get update && apt-get install -y nats-server`")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not start on %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func natsBus(t *testing.T, url string) Bus {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return NewNATSBus(nc, "test.live")
}

// Two hubs (two processes) share one database and a bus: clients on either see every
// event once, in one gap-free order, while both store concurrently.
func TestTwoHubs(t *testing.T) {
	t.Run("nats", func(t *testing.T) {
		url := startNATS(t)
		testTwoHubs(t, natsBus(t, url), natsBus(t, url))
	})
	t.Run("local", func(t *testing.T) {
		b := NewLocalBus()
		testTwoHubs(t, b, b)
	})
}

func testTwoHubs(t *testing.T, busA, busB Bus) {
	optA, optB := fastOptions(), fastOptions()
	optA.Bus, optB.Bus = busA, busB
	e := newEnv(t, optA)
	hubA := e.hub
	// The second process has its own service (its own caches) on the same database.
	svcB := NewService(e.db.Database, e.clk.Now, e.members)
	hubB := NewHub(svcB, optB)
	t.Cleanup(func() { _ = hubB.Close(context.Background()) })

	type member struct {
		c    *Client
		conn *fakeConn
	}
	var all []member
	joinOn := func(h *Hub, a Actor) member {
		conn := newConn()
		c, err := h.Join(context.Background(), a, e.sess.ID, 0, conn)
		if err != nil {
			t.Fatal(err)
		}
		m := member{c, conn}
		all = append(all, m)
		return m
	}
	a1, a2 := joinOn(hubA, trainerA), joinOn(hubA, learner1)
	b1, b2 := joinOn(hubB, learner2), joinOn(hubB, learner3)

	// Presence adds up both processes.
	for _, m := range all {
		for {
			if w := m.conn.nextOf(t, TypePresence); w.Count == 4 {
				break
			}
		}
	}

	const per = 30
	var wg sync.WaitGroup
	for i, m := range []member{a1, a2, b1, b2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range per {
				send(m.c, `{"type":"chat.send","client_id":"m%d-%d","text":"%d/%d"}`, i, j, i, j)
				if j%3 == 0 { // many small batches from both processes, racing for numbers
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	n := 4 * per
	var ref []wire
	for k, m := range all {
		got := m.conn.events(t, 0, n)
		if k == 0 {
			ref = got
			continue
		}
		for i := range got {
			if got[i].Text != ref[i].Text {
				t.Fatalf("client %d sees %q at seq %d, client 0 sees %q", k, got[i].Text, i+1, ref[i].Text)
			}
		}
	}
	if got := len(e.stored()); got != n {
		t.Fatalf("stored %d, want %d", got, n)
	}

	// One upvote per learner across processes, and a resend on the other process is
	// stored once.
	send(a2.c, `{"type":"question.ask","client_id":"q","text":"Hỏi?"}`)
	q := b1.conn.events(t, int64(n), 1)[0]
	for _, m := range all[1:] {
		if m.conn != b1.conn {
			m.conn.events(t, int64(n), 1)
		}
	}
	a1.conn.events(t, int64(n), 1)
	send(b1.c, `{"type":"question.upvote","question_id":"%s"}`, q.QuestionID)
	for _, m := range all {
		if w := m.conn.events(t, int64(n)+1, 1)[0]; w.Type != TypeQuestionUpvoted {
			t.Fatalf("upvote %+v", w)
		}
	}
	// learner2 reconnects to process A and resends the same client_id.
	b1.c.Leave()
	conn := newConn()
	c, err := hubA.Join(context.Background(), learner2, e.sess.ID, int64(n)+2, conn)
	if err != nil {
		t.Fatal(err)
	}
	send(c, `{"type":"chat.send","client_id":"m2-0","text":"2/0"}`)
	ack := conn.next(t)
	if ack.Seq == 0 || ack.Text != "2/0" || ack.ClientID != "m2-0" {
		t.Fatalf("ack %+v", ack)
	}
	send(c, `{"type":"question.upvote","client_id":"u2","question_id":"%s"}`, q.QuestionID)
	if w := conn.next(t); w.Code != "conflict" {
		t.Fatalf("second upvote through the other process %+v", w)
	}
	a1.conn.quiet(t, 100*time.Millisecond)
	if got := len(e.stored()); got != n+2 {
		t.Fatalf("stored %d, want %d", got, n+2)
	}
	t.Logf("A: %+v, B: %+v", hubA.Stats(), hubB.Stats())
}

// lossyBus loses every other event message, as a bus under pressure may: rooms must fill
// the gaps from the store and still deliver every event once, in order.
type lossyBus struct {
	Bus
	mu sync.Mutex
	n  int
}

func (b *lossyBus) Publish(sessionID string, m BusMessage) error {
	if m.Kind == BusKindEvent {
		b.mu.Lock()
		b.n++
		drop := b.n%2 == 0
		b.mu.Unlock()
		if drop {
			return nil
		}
	}
	return b.Bus.Publish(sessionID, m)
}

func TestTwoHubsLossyBus(t *testing.T) {
	bus := &lossyBus{Bus: NewLocalBus()}
	optA, optB := fastOptions(), fastOptions()
	optA.Bus, optB.Bus = bus, bus
	e := newEnv(t, optA)
	hubB := e.newHub(optB)
	ca, conna := e.join(e.hub, learner1, 0)
	cb, connb := e.join(hubB, learner2, 0)
	const n = 30
	for i := range n {
		send(ca, `{"type":"chat.send","client_id":"a%d","text":"a%d"}`, i, i)
		send(cb, `{"type":"chat.send","client_id":"b%d","text":"b%d"}`, i, i)
	}
	ea, eb := conna.events(t, 0, 2*n), connb.events(t, 0, 2*n)
	for i := range ea {
		if ea[i].Text != eb[i].Text {
			t.Fatalf("seq %d differs: %q / %q", i+1, ea[i].Text, eb[i].Text)
		}
	}
	// Only A sends now: B learns of the events the bus lost from the store alone.
	for i := range n {
		send(ca, `{"type":"chat.send","client_id":"c%d","text":"c%d"}`, i, i)
	}
	got := connb.events(t, 2*n, n)
	for i, w := range got {
		if w.Text != fmt.Sprintf("c%d", i) {
			t.Fatalf("B got %q at seq %d", w.Text, w.Seq)
		}
	}
	conna.events(t, 2*n, n)
	conna.quiet(t, 100*time.Millisecond)
	connb.quiet(t, 100*time.Millisecond)
	if got := len(e.stored()); got != 3*n {
		t.Fatalf("stored %d", got)
	}
}

// noVotesBus loses every vote message.
type noVotesBus struct{ Bus }

func (b noVotesBus) Publish(sessionID string, m BusMessage) error {
	if m.Kind == BusKindVote {
		return nil
	}
	return b.Bus.Publish(sessionID, m)
}

// A poll's final result counts the votes stored by every process, even those whose vote
// messages were lost on the way.
func TestPollClosedCountsStoredVotes(t *testing.T) {
	bus := noVotesBus{NewLocalBus()}
	optA, optB := fastOptions(), fastOptions()
	optA.Bus, optB.Bus = bus, bus
	e := newEnv(t, optA)
	hubB := e.newHub(optB)
	tr, trc := e.join(e.hub, trainerA, 0)
	lb, lbc := e.join(hubB, learner2, 0)
	send(tr, `{"type":"poll.open","question":"q","choices":["a","b"]}`)
	pid := trc.events(t, 0, 1)[0].PollID
	lbc.events(t, 0, 1)
	send(lb, `{"type":"poll.vote","poll_id":"%s","choice":1}`, pid)
	lbc.nextOf(t, TypePollVoted)
	for deadline := time.Now().Add(waitFor); e.count(CollVotes) < 1; {
		if time.Now().After(deadline) {
			t.Fatal("the vote was not stored")
		}
		time.Sleep(5 * time.Millisecond)
	}
	send(tr, `{"type":"poll.close","poll_id":"%s"}`, pid)
	closed := trc.nextOf(t, TypePollClosed)
	if fmt.Sprint(closed.Counts) != "[0 1]" || closed.Votes != 1 {
		t.Fatalf("closed %+v", closed)
	}
	if w := lbc.nextOf(t, TypePollClosed); fmt.Sprint(w.Counts) != "[0 1]" {
		t.Fatalf("on the other process %+v", w)
	}
}
