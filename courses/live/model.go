// Package live runs a class's live sessions: scheduling, and the rooms where cadres chat,
// ask and upvote questions, answer polls and are counted present. It is transport-agnostic:
// the server adapts a websocket to the small Conn interface and feeds incoming frames to
// Client.Receive; this package never imports fiber or a websocket library.
//
// Every room event is stored in live_events with a per-session sequence number (1, 2, 3, …,
// no gaps, unique index on (session_id, seq)) before it is broadcast, so a client that
// reconnects with the last sequence it saw receives exactly what it missed. Several server
// processes share a session through a Bus (NATS); sequence numbers stay unique and gap-free
// because the database's unique index, not a process, decides who owns a number.
package live

import (
	"context"
	"time"

	"hoctap/accounts"
)

// Event types: the sequenced, stored events of a room, as clients receive them.
const (
	TypeChatMessage      = "chat.message"
	TypeQuestionAsked    = "question.asked"
	TypeQuestionUpvoted  = "question.upvoted"
	TypeQuestionAnswered = "question.answered"
	TypePollOpened       = "poll.opened"
	TypePollResults      = "poll.results"
	TypePollClosed       = "poll.closed"
	TypeChatDeleted      = "chat.deleted"
	TypeUserMuted        = "user.muted"
	TypeSlowmodeSet      = "slowmode.set"
	TypeSessionEnded     = "session.ended"
)

// Unsequenced frame types: sent to clients but never stored.
const (
	TypePresence  = "presence"
	TypeError     = "error"
	TypePollVoted = "poll.voted" // private acknowledgement of the caller's own vote
)

// Class roles a Membership reports.
const (
	RoleLearner = "learner"
	RoleTrainer = "trainer"
)

// Membership tells who belongs to a class; the courses package implements it. ClassRole
// returns "learner", "trainer" or "" (not a member), and an error only when it cannot
// answer (an unknown class is "" with a nil error, or an error wrapping errs.ErrNotFound).
type Membership interface {
	ClassRole(ctx context.Context, classID, userID string) (string, error)
}

// Actor is the authenticated person calling the service (ActorOf makes it from a
// principal): Admin for the admin role, UnitAdmin for unit_admin (which may read
// attendance reports).
type Actor struct {
	ID        string
	FullName  string
	Admin     bool
	UnitAdmin bool
	// OnlyLearner is set when the person has no staff role. A learner who is not in a
	// class is told its sessions are not found rather than forbidden, as classes
	// themselves answer, so that their existence does not leak.
	OnlyLearner bool
	// Username and UnitID name a trainer in the audit log when they moderate.
	Username string
	UnitID   string
}

// ActorOf is the live view of an authenticated principal.
func ActorOf(p accounts.Principal) Actor {
	return Actor{ID: p.User.ID, FullName: p.User.FullName, Username: p.User.Username, UnitID: p.User.UnitID,
		Admin: p.Has(accounts.RoleAdmin), UnitAdmin: p.Has(accounts.RoleUnitAdmin), OnlyLearner: !p.User.IsStaff()}
}

// Session is a scheduled live session of a class.
type Session struct {
	ID        string     `bson:"_id" json:"id"`
	ClassID   string     `bson:"class_id" json:"class_id"`
	Title     string     `bson:"title" json:"title"`
	StartsAt  time.Time  `bson:"starts_at" json:"starts_at"`
	StreamURL string     `bson:"stream_url,omitempty" json:"stream_url,omitempty"`
	CreatedBy string     `bson:"created_by" json:"created_by"`
	CreatedAt time.Time  `bson:"created_at" json:"created_at"`
	EndedAt   *time.Time `bson:"ended_at,omitempty" json:"ended_at,omitempty"`
	EndedBy   string     `bson:"ended_by,omitempty" json:"ended_by,omitempty"`
}

// Ended reports whether the session was ended and is now read-only.
func (s Session) Ended() bool { return s.EndedAt != nil }

// NewSession is what a trainer submits to schedule a session.
type NewSession struct {
	Title     string    `json:"title"`
	StartsAt  time.Time `json:"starts_at"`
	StreamURL string    `json:"stream_url"`
}

// UserRef names the person who caused an event.
type UserRef struct {
	ID       string `bson:"id" json:"id"`
	FullName string `bson:"full_name" json:"full_name"`
}

// Event is one stored room event, in the form clients receive it. Which payload fields are
// set depends on Type:
//
//	chat.message       text, client_id
//	question.asked     question_id, text, client_id
//	question.upvoted   question_id, upvotes (the new count)
//	question.answered  question_id
//	poll.opened        poll_id, question, choices
//	poll.results       poll_id, counts (per choice), votes (total): the live tally
//	poll.closed        poll_id, counts, votes: the final result
//	chat.deleted       event_seq (the deleted chat.message)
//	user.muted         user_id, minutes (0 lifts a mute), until
//	slowmode.set       seconds (0 turns slow mode off)
//	session.ended      nothing else
type Event struct {
	ID        string    `bson:"_id" json:"-"`
	SessionID string    `bson:"session_id" json:"-"`
	Seq       int64     `bson:"seq" json:"seq"`
	Type      string    `bson:"type" json:"type"`
	At        time.Time `bson:"at" json:"at"`
	User      UserRef   `bson:"user" json:"user"`
	// Key makes an event unique within its session (a client's client_id, one upvote per
	// user and question, one close per poll); stored as "<session>/<key>" under a unique
	// sparse index so that a retry on any process stores nothing twice.
	Key string `bson:"key,omitempty" json:"-"`

	ClientID   string     `bson:"client_id,omitempty" json:"client_id,omitempty"`
	Text       string     `bson:"text,omitempty" json:"text,omitempty"`
	QuestionID string     `bson:"question_id,omitempty" json:"question_id,omitempty"`
	Upvotes    int        `bson:"upvotes,omitempty" json:"upvotes,omitempty"`
	PollID     string     `bson:"poll_id,omitempty" json:"poll_id,omitempty"`
	Question   string     `bson:"question,omitempty" json:"question,omitempty"`
	Choices    []string   `bson:"choices,omitempty" json:"choices,omitempty"`
	Counts     []int      `bson:"counts,omitempty" json:"counts,omitempty"`
	Votes      int        `bson:"votes,omitempty" json:"votes,omitempty"`
	EventSeq   int64      `bson:"event_seq,omitempty" json:"event_seq,omitempty"`
	UserID     string     `bson:"user_id,omitempty" json:"user_id,omitempty"`
	Minutes    int        `bson:"minutes,omitempty" json:"minutes,omitempty"`
	Until      *time.Time `bson:"until,omitempty" json:"until,omitempty"`
	Seconds    int        `bson:"seconds,omitempty" json:"seconds,omitempty"`
}

// EventPage is a page of stored events in sequence order. Next is the since to ask with
// for the following page; More says whether there is one.
type EventPage struct {
	Items []Event `json:"items"`
	Total int     `json:"total"`
	Next  int64   `json:"next"`
	More  bool    `json:"more"`
}
