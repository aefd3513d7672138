package live

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"hoctap/audit/trail"
	"hoctap/audit/trail/trailtest"
	"hoctap/internal/errs"
)

func TestModerationEntry(t *testing.T) {
	by := Actor{ID: "t1", FullName: "Huấn", Username: "huan", UnitID: "u1"}
	sess := Session{ID: "s1", ClassID: "c1", Title: "Chuyên đề"}
	cases := []struct {
		ev      Event
		ok      bool
		details map[string]string
		users   []string
	}{
		{Event{ID: "e1", Seq: 4, Type: TypeChatDeleted, EventSeq: 2}, true, map[string]string{"type": "chat.deleted", "event_seq": "2", "seq": "4", "class_id": "c1"}, nil},
		{Event{ID: "e2", Seq: 5, Type: TypeUserMuted, UserID: "l1", Minutes: 10}, true, map[string]string{"type": "user.muted", "user_id": "l1", "minutes": "10"}, []string{"l1"}},
		{Event{ID: "e3", Seq: 6, Type: TypeSlowmodeSet, Seconds: 30}, true, map[string]string{"type": "slowmode.set", "seconds": "30"}, nil},
		{Event{ID: "e4", Seq: 7, Type: TypeChatMessage, Text: "chào"}, false, nil, nil},
		{Event{ID: "e5", Seq: 8, Type: TypePollOpened}, false, nil, nil},
	}
	for _, c := range cases {
		e, ok := moderationEntry(by, sess, c.ev)
		if ok != c.ok {
			t.Errorf("%s: ok = %v", c.ev.Type, ok)
			continue
		}
		if !ok {
			continue
		}
		if e.Action != trail.LiveModeration || e.Actor != "t1" || e.ActorName != "huan" || e.ActorUnitID != "u1" ||
			e.Object != "live_session:s1" || e.ID != "live.moderation:"+c.ev.ID || !slices.Equal(e.UserIDs, c.users) {
			t.Errorf("%s: entry %+v", c.ev.Type, e)
		}
		for k, v := range c.details {
			if e.Details[k] != v {
				t.Errorf("%s: details[%s] = %q, want %q", c.ev.Type, k, e.Details[k], v)
			}
		}
	}
}

func TestModerationIsAudited(t *testing.T) {
	rec := &trailtest.Recorder{}
	opt := fastOptions()
	opt.Auditor = rec
	e := newEnv(t, opt)
	trainer := trainerA
	trainer.Username, trainer.UnitID = "huan", "unit1"
	tr, trc := e.join(e.hub, trainer, 0)
	l1, l1c := e.join(e.hub, learner1, 0)
	send(l1, `{"type":"chat.send","client_id":"m1","text":"chào"}`)
	msg := l1c.events(t, 0, 1)[0]
	trc.events(t, 0, 1)
	send(tr, `{"type":"chat.delete","event_seq":%d}`, msg.Seq)
	send(tr, `{"type":"user.mute","user_id":"%s","minutes":10}`, learner1.ID)
	send(tr, `{"type":"slowmode.set","seconds":30}`)
	trc.events(t, 1, 3)
	l1c.events(t, 1, 3)
	got := rec.Entries()
	var types []string
	for _, en := range got {
		types = append(types, en.Details["type"])
		if en.Actor != trainer.ID || en.ActorName != "huan" || en.Object != "live_session:"+e.sess.ID {
			t.Errorf("entry %+v", en)
		}
	}
	if !slices.Equal(types, []string{TypeChatDeleted, TypeUserMuted, TypeSlowmodeSet}) {
		t.Fatalf("recorded %v", types)
	}

	// The audit log fails: the moderation is stored and broadcast, and the trainer is
	// told that it was not recorded.
	rec.Fail(errors.Join(errs.ErrUnavailable))
	send(tr, `{"type":"slowmode.set","client_id":"s2","seconds":0}`)
	if ev := l1c.events(t, 4, 1)[0]; ev.Type != TypeSlowmodeSet || ev.Seconds != 0 {
		t.Fatalf("learner got %+v", ev)
	}
	trc.events(t, 4, 1)
	w := trc.next(t)
	if w.Type != TypeError || w.Code != "unavailable" || !strings.Contains(w.Message, "audit log") {
		t.Fatalf("trainer got %+v", w)
	}
	l1c.quiet(t, 50*time.Millisecond) // the learner hears nothing of it
}
