package live

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
)

// Bus message kinds.
const (
	BusKindEvent    = "event"    // a stored event (Event set)
	BusKindVote     = "vote"     // a poll vote (Vote set); votes are not events
	BusKindPresence = "presence" // how many people one process has in the room (Count)
)

// BusMessage is what rooms for one session on different processes tell each other. Node
// names the sending process; a room ignores its own messages.
type BusMessage struct {
	Node  string    `json:"node"`
	Kind  string    `json:"kind"`
	Event *BusEvent `json:"event,omitempty"`
	Vote  *BusVote  `json:"vote,omitempty"`
	Count int       `json:"count,omitempty"`
}

// BusEvent is a stored event with the fields clients never see.
type BusEvent struct {
	Event
	ID  string `json:"id"`
	Key string `json:"key,omitempty"`
}

// BusVote is one learner's vote.
type BusVote struct {
	PollID string `json:"poll_id"`
	UserID string `json:"user_id"`
	Choice int    `json:"choice"`
}

// Bus carries BusMessages between the processes that hold rooms for the same session.
// Delivery may be lost or reordered: rooms deliver events in sequence order and fill gaps
// from the store. Publish must not block for long; deliver is called from one goroutine
// per subscription, in the order messages arrived.
type Bus interface {
	Publish(sessionID string, m BusMessage) error
	Subscribe(sessionID string, deliver func(BusMessage)) (unsubscribe func(), err error)
}

// LocalBus connects hubs inside one process (tests, or several hubs in one binary). A
// subscriber that falls more than 4096 messages behind loses messages, as over NATS.
type LocalBus struct {
	mu   sync.Mutex
	subs map[string]map[*localSub]struct{}
}

type localSub struct {
	ch   chan BusMessage
	done chan struct{}
}

// NewLocalBus returns an empty in-process bus.
func NewLocalBus() *LocalBus { return &LocalBus{subs: map[string]map[*localSub]struct{}{}} }

// Publish hands m to every subscriber of the session, dropping it for subscribers whose
// buffer is full.
func (b *LocalBus) Publish(sessionID string, m BusMessage) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[sessionID] {
		select {
		case s.ch <- m:
		default:
		}
	}
	return nil
}

// Subscribe calls deliver for every message published for the session until unsubscribe.
func (b *LocalBus) Subscribe(sessionID string, deliver func(BusMessage)) (func(), error) {
	s := &localSub{ch: make(chan BusMessage, 4096), done: make(chan struct{})}
	b.mu.Lock()
	if b.subs[sessionID] == nil {
		b.subs[sessionID] = map[*localSub]struct{}{}
	}
	b.subs[sessionID][s] = struct{}{}
	b.mu.Unlock()
	go func() {
		for {
			select {
			case m := <-s.ch:
				deliver(m)
			case <-s.done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs[sessionID], s)
			if len(b.subs[sessionID]) == 0 {
				delete(b.subs, sessionID)
			}
			b.mu.Unlock()
			close(s.done)
		})
	}, nil
}

// NATSBus carries room messages over NATS core subjects "<prefix>.<session id>".
type NATSBus struct {
	nc     *nats.Conn
	prefix string
}

// NewNATSBus returns a bus over an open NATS connection; prefix defaults to "hoctap.live".
// The caller owns nc and closes it after the hub.
func NewNATSBus(nc *nats.Conn, prefix string) *NATSBus {
	if prefix == "" {
		prefix = "hoctap.live"
	}
	return &NATSBus{nc: nc, prefix: strings.TrimSuffix(prefix, ".")}
}

func (b *NATSBus) subject(sessionID string) string { return b.prefix + "." + sessionID }

// Publish sends m; it returns an error wrapping NATS's when the connection refuses it.
func (b *NATSBus) Publish(sessionID string, m BusMessage) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("live: encode bus message: %w", err)
	}
	if err := b.nc.Publish(b.subject(sessionID), data); err != nil {
		return fmt.Errorf("live: publish to NATS: %w", err)
	}
	return nil
}

// Subscribe subscribes to the session's subject. Messages that do not decode are skipped.
func (b *NATSBus) Subscribe(sessionID string, deliver func(BusMessage)) (func(), error) {
	sub, err := b.nc.Subscribe(b.subject(sessionID), func(msg *nats.Msg) {
		var m BusMessage
		if json.Unmarshal(msg.Data, &m) == nil {
			deliver(m)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("live: subscribe to NATS: %w", err)
	}
	// Rooms buffer and reorder; a generous pending limit keeps bursts from being dropped.
	_ = sub.SetPendingLimits(1<<16, 256<<20)
	// Flush so that the subscription is registered on the server before the room relies on it.
	if err := b.nc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("live: subscribe to NATS: %w", err)
	}
	return func() { _ = sub.Unsubscribe() }, nil
}
