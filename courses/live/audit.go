package live

import (
	"context"
	"strconv"

	"hoctap/audit/trail"
)

// moderationEntry is the audit entry of a stored moderation event ev (chat.deleted,
// user.muted or slowmode.set) that by sent in session sess, or false for any other
// event. Its id is fixed by the event, so it is recorded once.
func moderationEntry(by Actor, sess Session, ev Event) (trail.Entry, bool) {
	e := trail.Actor{ID: by.ID, Name: by.Username, UnitID: by.UnitID}.
		Did(trail.LiveModeration, "live_session:"+sess.ID, sess.Title).
		With("type", ev.Type).With("class_id", sess.ClassID).With("seq", strconv.FormatInt(ev.Seq, 10))
	switch ev.Type {
	case TypeChatDeleted:
		e = e.With("event_seq", strconv.FormatInt(ev.EventSeq, 10))
	case TypeUserMuted:
		e = e.About(ev.UserID).With("user_id", ev.UserID).With("minutes", strconv.Itoa(ev.Minutes))
	case TypeSlowmodeSet:
		e = e.With("seconds", strconv.Itoa(ev.Seconds))
	default:
		return trail.Entry{}, false
	}
	e.ID = string(trail.LiveModeration) + ":" + ev.ID
	return e, true
}

// auditModeration records the moderation events of a stored batch and returns the
// failures by event id. It runs in the batch's store goroutine, never in the room's.
func auditModeration(ctx context.Context, r trail.Recorder, sess Session, batch []pendingEvent, res storeResult) map[string]error {
	if r == nil {
		return nil
	}
	var failed map[string]error
	for _, ev := range res.stored {
		p := batch[res.owner[ev.ID]]
		if p.from == nil {
			continue // the room's own events (session.ended) are not moderation
		}
		e, ok := moderationEntry(p.from.actor, sess, ev)
		if !ok {
			continue
		}
		if err := trail.Record(ctx, r, e); err != nil {
			if failed == nil {
				failed = map[string]error{}
			}
			failed[ev.ID] = err
		}
	}
	return failed
}
