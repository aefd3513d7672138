package live

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// room is one session's state on this process. Everything in it is owned by its goroutine
// (run); other goroutines talk to it by posting closures on in. Nothing the goroutine does
// blocks on a client or the database: sends to clients never wait (a full queue closes
// the connection) and stores run in a goroutine of their own, one batch at a time.
type room struct {
	hub     *Hub
	id      string
	sess    Session
	in      chan func(*room)
	stopped chan struct{}
	refs    int // guarded by hub.mu: joined or joining clients, and EndSession calls

	loadErr error
	st      *roomState
	clients map[*Client]struct{}
	users   map[string]int // user id → connections here

	next      int64           // the next sequence number to try
	delivered int64           // the last sequence number broadcast here
	pend      map[int64]Event // stored events waiting for a missing predecessor
	recent    ring

	queue       []pendingEvent // accepted, not yet handed to the store
	votes       []voteDoc
	inflight    bool
	storeDone   chan storeOutcome
	flushC      <-chan time.Time
	pendingKeys map[string]bool
	ending      bool

	gapC       <-chan time.Time
	gapFilling bool
	lastChat   map[string]time.Time

	remote        map[string]remoteCount
	lastPresence  int
	lastPublished int
	publishedAt   time.Time
	ticks         int
	idleSince     time.Time
	unsub         func()
}

type remoteCount struct {
	count int
	at    time.Time
}

// pendingEvent is an accepted event waiting to be stored. from is the client that sent
// it (nil for the room's own events); done, if set, learns the outcome.
type pendingEvent struct {
	ev   Event
	from *Client
	done chan<- error
}

type storeOutcome struct {
	batch []pendingEvent
	votes []voteDoc
	res   storeResult
	// auditErrs holds, by event id, the failure to record a stored moderation event in the
	// audit log.
	auditErrs map[string]error
}

func newRoom(h *Hub, sess Session) *room {
	return &room{
		hub: h, id: sess.ID, sess: sess,
		in: make(chan func(*room), 1024), stopped: make(chan struct{}), storeDone: make(chan storeOutcome, 1),
		st: newRoomState(), clients: map[*Client]struct{}{}, users: map[string]int{},
		next: 1, pend: map[int64]Event{}, recent: newRing(h.opt.RecentEvents),
		pendingKeys: map[string]bool{}, lastChat: map[string]time.Time{}, remote: map[string]remoteCount{},
		lastPresence: -1, lastPublished: -1,
	}
}

// post runs f in the room goroutine; false if the room has stopped.
func (r *room) post(f func(*room)) bool {
	select {
	case r.in <- f:
		return true
	case <-r.stopped:
		return false
	}
}

// postFrom is post for a client's frame: it gives up when the client is gone.
func (r *room) postFrom(c *Client, f func(*room)) {
	select {
	case r.in <- f:
	case <-c.done:
	case <-r.stopped:
	}
}

func (r *room) run() {
	defer r.hub.wg.Done()
	r.loadErr = r.load()
	if r.loadErr != nil {
		r.hub.log.Error("live: room could not load its history", "session", r.id, "err", r.loadErr)
	}
	tick := time.NewTicker(r.hub.opt.Tick)
	defer tick.Stop()
	for {
		select {
		case f := <-r.in:
			f(r)
		case out := <-r.storeDone:
			r.stored(out)
		case <-r.flushC:
			r.flushC = nil
			r.flush()
		case <-r.gapC:
			r.gapC = nil
			r.fillGap()
		case <-tick.C:
			if r.tick() {
				return
			}
		case <-r.hub.ctx.Done():
			r.shutdown()
			return
		}
	}
}

// load folds the stored events into the state, keeps the most recent ones encoded for
// replay, reads the open polls' votes and subscribes to the bus.
func (r *room) load() error {
	ctx, cancel := context.WithTimeout(r.hub.ctx, time.Minute)
	defer cancel()
	if r.hub.opt.Bus != nil {
		// Subscribe first: events stored by others from now on arrive by the bus, earlier
		// ones are in the store.
		unsub, err := r.hub.opt.Bus.Subscribe(r.id, r.fromBus)
		if err != nil {
			return err
		}
		r.unsub = unsub
	}
	err := r.hub.svc.eachEvent(ctx, r.id, 0, func(ev Event) error {
		if ev.Seq != r.delivered+1 {
			return fmt.Errorf("live: session %s: stored sequence jumps from %d to %d", r.id, r.delivered, ev.Seq)
		}
		r.deliver(ev)
		return nil
	})
	if err != nil {
		return err
	}
	r.next = r.delivered + 1
	var open []string
	for id, p := range r.st.polls {
		if p.open {
			open = append(open, id)
		}
	}
	votes, err := r.hub.svc.loadVotes(ctx, open)
	if err != nil {
		return err
	}
	for _, v := range votes {
		if p := r.st.polls[v.PollID]; p != nil && v.Choice >= 0 && v.Choice < len(p.choices) {
			p.votes[v.UserID] = v.Choice
		}
	}
	if r.sess.Ended() && !r.st.ended {
		// The end was stored but its event was not (the process stopped in between).
		r.endSession(UserRef{ID: r.sess.EndedBy}, nil)
	}
	return nil
}

// fromBus runs in the bus's goroutine.
func (r *room) fromBus(m BusMessage) {
	if m.Node == r.hub.node {
		return
	}
	r.post(func(r *room) {
		switch m.Kind {
		case BusKindEvent:
			if m.Event != nil {
				ev := m.Event.Event
				ev.ID, ev.Key, ev.SessionID = m.Event.ID, m.Event.Key, r.id
				ev.At = ev.At.UTC()
				r.accept(ev)
			}
		case BusKindVote:
			if v := m.Vote; v != nil {
				if p := r.st.polls[v.PollID]; p != nil && p.open && v.Choice >= 0 && v.Choice < len(p.choices) {
					p.votes[v.UserID] = v.Choice
				}
			}
		case BusKindPresence:
			r.remote[m.Node] = remoteCount{count: m.Count, at: time.Now()}
		}
	})
}

func (r *room) publish(m BusMessage) {
	if r.hub.opt.Bus == nil {
		return
	}
	m.Node = r.hub.node
	if err := r.hub.opt.Bus.Publish(r.id, m); err != nil {
		// Other processes read what they miss from the store; presence and votes catch up.
		r.hub.log.Warn("live: bus publish failed", "session", r.id, "err", err)
	}
}

// join registers c and decides what it must be replayed: events after c.since up to the
// last one delivered here come from the recent ring or the store; later ones reach it
// live through its queue. Registering and choosing happen in the room goroutine, so no
// event falls between replay and live, and none comes twice.
func (r *room) join(c *Client) error {
	if r.loadErr != nil {
		return fmt.Errorf("live: room unavailable: %v: %w", r.loadErr, errs.ErrUnavailable)
	}
	r.clients[c] = struct{}{}
	r.users[c.actor.ID]++
	r.idleSince = time.Time{}
	upTo := r.delivered
	if c.since < upTo {
		low := r.recent.low(upTo)
		if c.since+1 < low {
			c.storeFrom, c.storeTo = c.since, low-1
			c.backlog = r.recent.frames(low, upTo)
		} else {
			c.backlog = r.recent.frames(c.since+1, upTo)
		}
	}
	return nil
}

// remove forgets c (once) and records its leave.
func (r *room) remove(c *Client) {
	if _, ok := r.clients[c]; !ok {
		return
	}
	delete(r.clients, c)
	if r.users[c.actor.ID]--; r.users[c.actor.ID] <= 0 {
		delete(r.users, c.actor.ID)
	}
	r.hub.conns.Add(-1)
	r.hub.att.add(attendanceRecord{ConnID: c.id, Node: r.hub.node, SessionID: r.id, UserID: c.actor.ID, FullName: c.actor.FullName,
		Role: c.role, Kind: attLeave, At: r.hub.now().UTC().Truncate(time.Millisecond)})
	r.hub.release(r)
}

func (r *room) sendTo(c *Client, frame []byte) {
	if _, ok := r.clients[c]; ok {
		c.send(frame)
	}
}

func (r *room) refuse(c *Client, clientID, code, format string, args ...any) {
	if code == "rate_limited" {
		r.hub.limited.Add(1)
	}
	r.sendTo(c, errorFrame(code, clientID, format, args...).Encode())
}

// handle applies one client frame: checks it against the room's state and queues the
// resulting event for storage, or answers with an error frame.
func (r *room) handle(c *Client, f Frame) {
	if _, ok := r.clients[c]; !ok {
		return
	}
	if r.st.ended || r.ending {
		r.refuse(c, f.ClientID, "conflict", "the session has ended")
		return
	}
	if f.TrainerOnly() && c.role != RoleTrainer {
		r.refuse(c, f.ClientID, "forbidden", "only a trainer may send %s", f.Type)
		return
	}
	now := r.hub.now().UTC().Truncate(time.Millisecond)
	uid := c.actor.ID
	ev := Event{ID: ids.New(), SessionID: r.id, At: now, User: UserRef{ID: uid, FullName: c.actor.FullName}}
	switch f.Type {
	case FrameChatSend, FrameQuestionAsk:
		if f.ClientID != "" {
			ev.ClientID = f.ClientID
			ev.Key = r.id + "/c/" + uid + "/" + f.ClientID
			if seq, ok := r.st.keys[ev.Key]; ok {
				r.ack(c, seq)
				return
			}
			if r.pendingKeys[ev.Key] {
				return // the original is on its way to the store and then to this client
			}
		}
		if until, ok := r.st.mutes[uid]; ok && until.After(now) {
			r.refuse(c, f.ClientID, "forbidden", "you are muted until %s", until.Format(time.RFC3339))
			return
		}
		ev.Text = f.Text
		if f.Type == FrameChatSend {
			if slow := time.Duration(r.st.slowSecs) * time.Second; slow > 0 && c.role != RoleTrainer {
				if last, ok := r.lastChat[uid]; ok && now.Sub(last) < slow {
					r.refuse(c, f.ClientID, "rate_limited", "slow mode: one message every %d seconds", r.st.slowSecs)
					return
				}
			}
			r.lastChat[uid] = now
			ev.Type = TypeChatMessage
		} else {
			ev.Type, ev.QuestionID = TypeQuestionAsked, ids.New()
		}
	case FrameQuestionUpvote:
		q := r.st.questions[f.QuestionID]
		if q == nil {
			r.refuse(c, f.ClientID, "not_found", "no such question")
			return
		}
		ev.Key = r.id + "/u/" + f.QuestionID + "/" + uid
		if _, ok := r.st.keys[ev.Key]; ok || r.pendingKeys[ev.Key] {
			r.refuse(c, f.ClientID, "conflict", "you have already upvoted this question")
			return
		}
		q.assigned++
		ev.Type, ev.QuestionID, ev.Upvotes = TypeQuestionUpvoted, f.QuestionID, q.assigned
	case FrameQuestionAnswered:
		q := r.st.questions[f.QuestionID]
		if q == nil {
			r.refuse(c, f.ClientID, "not_found", "no such question")
			return
		}
		ev.Key = r.id + "/a/" + f.QuestionID
		if q.answered || r.pendingKeys[ev.Key] {
			r.refuse(c, f.ClientID, "conflict", "the question is already marked answered")
			return
		}
		ev.Type, ev.QuestionID = TypeQuestionAnswered, f.QuestionID
	case FramePollOpen:
		ev.Type, ev.PollID, ev.Question, ev.Choices = TypePollOpened, ids.New(), f.Question, f.Choices
	case FramePollVote:
		r.vote(c, f)
		return
	case FramePollClose:
		p := r.st.polls[f.PollID]
		if p == nil {
			r.refuse(c, f.ClientID, "not_found", "no such poll")
			return
		}
		if !p.open || p.closing {
			r.refuse(c, f.ClientID, "conflict", "the poll is already closed")
			return
		}
		p.closing = true
		ev.Type, ev.PollID, ev.Key = TypePollClosed, f.PollID, r.id+"/pc/"+f.PollID
		ev.Counts, ev.Votes = p.tally()
	case FrameChatDelete:
		shown, ok := r.st.chats[f.EventSeq]
		if !ok {
			r.refuse(c, f.ClientID, "not_found", "no chat message has sequence number %d", f.EventSeq)
			return
		}
		ev.Key = r.id + "/d/" + strconv.FormatInt(f.EventSeq, 10)
		if !shown || r.pendingKeys[ev.Key] {
			r.refuse(c, f.ClientID, "conflict", "the message is already deleted")
			return
		}
		ev.Type, ev.EventSeq = TypeChatDeleted, f.EventSeq
	case FrameUserMute:
		ev.Type, ev.UserID, ev.Minutes = TypeUserMuted, f.UserID, f.Minutes
		if f.Minutes > 0 {
			until := now.Add(time.Duration(f.Minutes) * time.Minute)
			ev.Until = &until
		}
	case FrameSlowmodeSet:
		ev.Type, ev.Seconds = TypeSlowmodeSet, f.Seconds
	default:
		r.refuse(c, f.ClientID, "invalid", "unknown frame type")
		return
	}
	r.enqueue(pendingEvent{ev: ev, from: c})
}

// ack answers a resend whose event is stored as seq. A client that joined after seq has
// it already (and may have missed its acknowledgement), so it gets it again; one that
// joined before will receive it in its replay or live, and must not get it twice.
func (r *room) ack(c *Client, seq int64) {
	if seq > c.since {
		return
	}
	if f := r.recent.frame(seq, r.delivered); f != nil {
		r.sendTo(c, f)
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(r.hub.ctx, 30*time.Second)
		defer cancel()
		evs, err := r.hub.svc.loadEvents(ctx, r.id, seq-1, seq, 1)
		if err != nil || len(evs) == 0 {
			return // the client resends again; nothing was lost
		}
		f := encodeEvent(&evs[0])
		r.post(func(r *room) { r.sendTo(c, f) })
	}()
}

// vote records a learner's choice (replacing an earlier one) in memory, queues it for the
// store with the next batch, tells other processes and acknowledges privately. The tally
// goes out as poll.results at most once a tick.
func (r *room) vote(c *Client, f Frame) {
	p := r.st.polls[f.PollID]
	if p == nil {
		r.refuse(c, f.ClientID, "not_found", "no such poll")
		return
	}
	if !p.open || p.closing {
		r.refuse(c, f.ClientID, "conflict", "the poll is closed")
		return
	}
	choice := f.Choice
	if choice < 0 {
		choice = slices.Index(p.choices, f.ChoiceText)
	}
	if choice < 0 || choice >= len(p.choices) {
		r.refuse(c, f.ClientID, "invalid", "choice must be the index (from 0) or the text of one of the poll's %d choices", len(p.choices))
		return
	}
	uid := c.actor.ID
	if prev, ok := p.votes[uid]; !ok || prev != choice {
		p.votes[uid] = choice
		p.dirty = true
		r.votes = append(r.votes, voteDoc{ID: f.PollID + "/" + uid, SessionID: r.id, PollID: f.PollID, UserID: uid,
			Choice: choice, At: r.hub.now().UTC().Truncate(time.Millisecond)})
		r.scheduleFlush()
		r.publish(BusMessage{Kind: BusKindVote, Vote: &BusVote{PollID: f.PollID, UserID: uid, Choice: choice}})
	}
	r.sendTo(c, fmt.Appendf(nil, `{"type":%q,"poll_id":%q,"choice":%d}`, TypePollVoted, f.PollID, choice))
}

// endSession queues the session.ended event (once).
func (r *room) endSession(by UserRef, done chan<- error) {
	if r.loadErr != nil {
		if done != nil {
			done <- fmt.Errorf("live: room unavailable: %v: %w", r.loadErr, errs.ErrUnavailable)
		}
		return
	}
	if r.st.ended || r.ending {
		if done != nil {
			done <- nil
		}
		return
	}
	r.ending = true
	now := r.hub.now().UTC().Truncate(time.Millisecond)
	r.enqueue(pendingEvent{ev: Event{ID: ids.New(), SessionID: r.id, Type: TypeSessionEnded, At: now, User: by,
		Key: r.id + "/end"}, done: done})
}

func (r *room) enqueue(p pendingEvent) {
	if p.ev.Key != "" {
		r.pendingKeys[p.ev.Key] = true
	}
	r.queue = append(r.queue, p)
	r.scheduleFlush()
}

func (r *room) scheduleFlush() {
	if !r.inflight && r.flushC == nil {
		r.flushC = time.After(r.hub.opt.BatchDelay)
	}
}

// flush hands everything queued to the store in one batch, unless a batch is in flight
// (then stored starts the next one as soon as it returns).
func (r *room) flush() {
	if r.inflight || (len(r.queue) == 0 && len(r.votes) == 0) {
		return
	}
	// A batch is delivered to every client at once, so it must fit their send queues.
	n := min(len(r.queue), r.hub.opt.MaxBatch)
	batch, votes := r.queue[:n:n], dedupeVotes(r.votes)
	r.queue, r.votes = r.queue[n:], nil
	if len(r.queue) == 0 {
		r.queue = nil
	}
	r.inflight = true
	evs := make([]Event, len(batch))
	for i := range batch {
		evs[i] = batch[i].ev
	}
	next, svc, id, sess, auditor := r.next, r.hub.svc, r.id, r.sess, r.hub.opt.Auditor
	go func() {
		// Not the hub's context: a batch accepted before shutdown is still stored.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res := svc.storeBatch(ctx, id, next, evs, votes)
		r.storeDone <- storeOutcome{batch: batch, votes: votes, res: res, auditErrs: auditModeration(ctx, auditor, sess, batch, res)}
	}()
}

// dedupeVotes keeps each learner's last vote per poll.
func dedupeVotes(v []voteDoc) []voteDoc {
	if len(v) < 2 {
		return v
	}
	last := map[string]int{}
	for i, d := range v {
		last[d.ID] = i
	}
	out := v[:0:0]
	for i, d := range v {
		if last[d.ID] == i {
			out = append(out, d)
		}
	}
	return out
}

// stored takes a batch's outcome: events are delivered in sequence order (with any that
// other processes stored meanwhile), resends are acknowledged, failures reported.
func (r *room) stored(out storeOutcome) {
	r.inflight = false
	res := out.res
	r.next = max(r.next, res.next)
	if res.votesErr != nil {
		r.hub.log.Warn("live: votes not stored, retrying", "session", r.id, "err", res.votesErr)
		r.votes = append(out.votes, r.votes...)
	}
	if n := len(res.stored); n > 0 {
		r.hub.batches.Add(1)
		r.hub.stored.Add(int64(n))
	}
	for _, ev := range res.foreign {
		r.accept(ev)
	}
	for _, ev := range res.stored {
		p := out.batch[res.owner[ev.ID]]
		delete(r.pendingKeys, ev.Key)
		r.publish(BusMessage{Kind: BusKindEvent, Event: &BusEvent{Event: ev, ID: ev.ID, Key: ev.Key}})
		r.accept(ev)
		if p.done != nil {
			p.done <- nil
		}
		if err := out.auditErrs[ev.ID]; err != nil {
			// Done and broadcast, but without its trace: the trainer is told, and so is the
			// operator, since no request handler sees this error.
			r.hub.log.Error("live: moderation not recorded in the audit log", "session", r.id, "type", ev.Type, "err", err)
			if p.from != nil {
				r.refuse(p.from, p.ev.ClientID, "unavailable", "%s was done, but it could not be recorded in the audit log", ev.Type)
			}
		}
	}
	for i, orig := range res.dups {
		p := out.batch[i]
		delete(r.pendingKeys, p.ev.Key)
		r.undo(p.ev)
		r.accept(orig)
		switch {
		case p.done != nil:
			p.done <- nil // the session had already ended
		case p.from == nil:
		case p.ev.ClientID != "":
			r.ack(p.from, orig.Seq)
		default:
			r.refuse(p.from, "", "conflict", "that was already done")
		}
	}
	for i, err := range res.failed {
		p := out.batch[i]
		delete(r.pendingKeys, p.ev.Key)
		r.undo(p.ev)
		r.hub.log.Error("live: event not stored", "session", r.id, "type", p.ev.Type, "err", err)
		if p.from != nil {
			r.refuse(p.from, p.ev.ClientID, "unavailable", "the message could not be stored; send it again")
		}
		if p.done != nil {
			p.done <- fmt.Errorf("live: store session.ended: %w", errs.ErrUnavailable)
		}
	}
	if len(r.queue) > 0 || len(r.votes) > 0 {
		r.flush()
	}
}

// undo reverts the in-memory marks an event that was not stored had set.
func (r *room) undo(ev Event) {
	switch ev.Type {
	case TypePollClosed:
		if p := r.st.polls[ev.PollID]; p != nil {
			p.closing = false
		}
	case TypeSessionEnded:
		r.ending = false
	}
}

// accept takes a stored event from anywhere (this process's store, another's via the bus
// or the store) and delivers every event that is now next in sequence.
func (r *room) accept(ev Event) {
	if ev.Seq <= r.delivered {
		return
	}
	r.next = max(r.next, ev.Seq+1)
	if _, ok := r.pend[ev.Seq]; !ok {
		r.pend[ev.Seq] = ev
	}
	for {
		next, ok := r.pend[r.delivered+1]
		if !ok {
			break
		}
		delete(r.pend, next.Seq)
		r.deliver(next)
	}
	if len(r.pend) > 0 && r.gapC == nil && !r.gapFilling {
		r.gapC = time.After(r.hub.opt.GapWait)
	}
}

// deliver applies the next event to the state and sends it to every client.
func (r *room) deliver(ev Event) {
	r.delivered = ev.Seq
	r.st.apply(&ev)
	if ev.Type == TypeSessionEnded {
		r.ending = false
		r.hub.svc.sessionEnded(r.id, ev.At, ev.User.ID)
	}
	f := encodeEvent(&ev)
	r.recent.push(ev.Seq, f)
	for c := range r.clients {
		if ev.Seq > c.since { // a client that joined claiming a later since has it already
			c.send(f)
		}
	}
}

// fillGap reads from the store the events after the last delivered one: the bus lost or
// has not yet brought them.
func (r *room) fillGap() {
	if r.gapFilling {
		return
	}
	r.gapFilling = true
	from, svc, id := r.delivered, r.hub.svc, r.id
	go func() {
		ctx, cancel := context.WithTimeout(r.hub.ctx, 30*time.Second)
		defer cancel()
		evs, err := svc.loadEvents(ctx, id, from, 0, 1000)
		r.post(func(r *room) {
			r.gapFilling = false
			if err != nil {
				r.hub.log.Warn("live: reading missed events failed", "session", r.id, "err", err)
			}
			for _, ev := range evs {
				r.accept(ev)
			}
			if len(r.pend) > 0 && r.gapC == nil {
				r.gapC = time.After(r.hub.opt.GapWait)
			}
		})
	}()
}

// tick sends the live poll tallies and the presence count, looks for events the bus may
// have lost, and stops an idle room. It reports whether the room stopped.
func (r *room) tick() bool {
	r.ticks++
	if r.loadErr == nil && !r.st.ended && !r.ending {
		for id, p := range r.st.polls {
			if p.dirty && p.open && !p.closing {
				p.dirty = false
				counts, total := p.tally()
				r.enqueue(pendingEvent{ev: Event{ID: ids.New(), SessionID: r.id, Type: TypePollResults,
					At: r.hub.now().UTC().Truncate(time.Millisecond), User: p.opener, PollID: id, Counts: counts, Votes: total}})
			}
		}
	}
	now := time.Now()
	local := len(r.users)
	if r.hub.opt.Bus != nil && (local != r.lastPublished || now.Sub(r.publishedAt) >= 2*r.hub.opt.Tick) {
		r.lastPublished, r.publishedAt = local, now
		r.publish(BusMessage{Kind: BusKindPresence, Count: local})
	}
	total := local
	for node, rc := range r.remote {
		if now.Sub(rc.at) > 5*r.hub.opt.Tick {
			delete(r.remote, node)
			continue
		}
		total += rc.count
	}
	if total != r.lastPresence && len(r.clients) > 0 {
		r.lastPresence = total
		f := fmt.Appendf(nil, `{"type":%q,"count":%d}`, TypePresence, total)
		for c := range r.clients {
			c.send(f)
		}
	}
	if r.hub.opt.Bus != nil && len(r.clients) > 0 && r.ticks%5 == 0 {
		r.fillGap()
	}
	busy := len(r.clients) > 0 || r.inflight || len(r.queue) > 0 || len(r.votes) > 0 || r.gapFilling
	if busy {
		r.idleSince = time.Time{}
		return false
	}
	if r.idleSince.IsZero() {
		r.idleSince = now
	}
	if r.loadErr == nil && now.Sub(r.idleSince) < r.hub.opt.IdleRoom {
		return false
	}
	h := r.hub
	h.mu.Lock()
	if r.refs > 0 {
		h.mu.Unlock()
		return false
	}
	delete(h.rooms, r.id)
	close(r.stopped)
	h.mu.Unlock()
	if r.unsub != nil {
		r.unsub()
	}
	return true
}

// shutdown, on hub close: every connection is closed and its leave recorded, and what
// was accepted is stored.
func (r *room) shutdown() {
	for c := range r.clients {
		c.shut(CloseGoingAway, "server shutting down")
		r.remove(c)
	}
	for r.inflight || len(r.queue) > 0 || len(r.votes) > 0 {
		if !r.inflight {
			r.flush()
		}
		r.stored(<-r.storeDone)
	}
	h := r.hub
	h.mu.Lock()
	delete(h.rooms, r.id)
	close(r.stopped)
	h.mu.Unlock()
	if r.unsub != nil {
		r.unsub()
	}
}

// ring keeps the encoded frames of the most recent events.
type ring struct {
	buf       [][]byte
	lo, hi    int64 // the sequence numbers held: lo..hi (none while hi == 0)
	size      int64
	hasFrames bool
}

func newRing(n int) ring { return ring{buf: make([][]byte, n), size: int64(n)} }

// push adds the frame of seq, which follows the last one pushed.
func (g *ring) push(seq int64, f []byte) {
	if !g.hasFrames {
		g.lo, g.hasFrames = seq, true
	}
	g.buf[seq%g.size] = f
	g.hi = seq
	if g.hi-g.lo+1 > g.size {
		g.lo = g.hi - g.size + 1
	}
}

// low returns the lowest sequence held, or upTo+1 when none is.
func (g *ring) low(upTo int64) int64 {
	if !g.hasFrames {
		return upTo + 1
	}
	return g.lo
}

// frames returns the frames from..to (all held).
func (g *ring) frames(from, to int64) [][]byte {
	if from > to {
		return nil
	}
	out := make([][]byte, 0, to-from+1)
	for s := from; s <= to; s++ {
		out = append(out, g.buf[s%g.size])
	}
	return out
}

// frame returns the frame of seq if held.
func (g *ring) frame(seq, delivered int64) []byte {
	if !g.hasFrames || seq < g.lo || seq > g.hi || seq > delivered {
		return nil
	}
	return g.buf[seq%g.size]
}
