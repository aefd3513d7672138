package live

import "time"

// roomState is what a room knows about its session, folded from the stored events in
// sequence order. Every process folds the same events in the same order, so rooms for one
// session on different processes agree. Poll votes are the exception: they are not events
// (a vote is private and changes), they live in live_votes and travel over the bus.
type roomState struct {
	ended     bool
	slowSecs  int
	mutes     map[string]time.Time // user id → muted until
	chats     map[int64]bool       // chat.message seq → still shown (false once deleted)
	questions map[string]*question
	polls     map[string]*poll
	keys      map[string]int64 // event key → seq, for idempotent resends
}

type question struct {
	asker    string
	upvotes  int // as folded from stored events
	assigned int // the last count this process handed out (may run ahead of upvotes)
	answered bool
}

type poll struct {
	opener  UserRef
	choices []string
	open    bool
	closing bool           // a poll.closed is on its way to the store
	votes   map[string]int // user id → choice index
	counts  []int          // last stored tally
	dirty   bool           // votes changed since the last poll.results this process sent
}

func newRoomState() *roomState {
	return &roomState{
		mutes: map[string]time.Time{}, chats: map[int64]bool{},
		questions: map[string]*question{}, polls: map[string]*poll{}, keys: map[string]int64{},
	}
}

// apply folds one stored event into the state.
func (s *roomState) apply(ev *Event) {
	if ev.Key != "" {
		s.keys[ev.Key] = ev.Seq
	}
	switch ev.Type {
	case TypeChatMessage:
		s.chats[ev.Seq] = true
	case TypeChatDeleted:
		if _, ok := s.chats[ev.EventSeq]; ok {
			s.chats[ev.EventSeq] = false
		}
	case TypeQuestionAsked:
		s.questions[ev.QuestionID] = &question{asker: ev.User.ID}
	case TypeQuestionUpvoted:
		if q := s.questions[ev.QuestionID]; q != nil {
			q.upvotes++
			q.assigned = max(q.assigned, q.upvotes, ev.Upvotes)
		}
	case TypeQuestionAnswered:
		if q := s.questions[ev.QuestionID]; q != nil {
			q.answered = true
		}
	case TypePollOpened:
		s.polls[ev.PollID] = &poll{opener: ev.User, choices: ev.Choices, open: true, votes: map[string]int{}, counts: make([]int, len(ev.Choices))}
	case TypePollResults:
		if p := s.polls[ev.PollID]; p != nil {
			p.counts = ev.Counts
		}
	case TypePollClosed:
		if p := s.polls[ev.PollID]; p != nil {
			p.open, p.closing, p.dirty = false, false, false
			p.counts = ev.Counts
		}
	case TypeUserMuted:
		if ev.Minutes == 0 || ev.Until == nil {
			delete(s.mutes, ev.UserID)
		} else {
			s.mutes[ev.UserID] = *ev.Until
		}
	case TypeSlowmodeSet:
		s.slowSecs = ev.Seconds
	case TypeSessionEnded:
		s.ended = true
	}
}

// tally counts a poll's votes per choice.
func (p *poll) tally() (counts []int, total int) {
	counts = make([]int, len(p.choices))
	for _, c := range p.votes {
		if c >= 0 && c < len(counts) {
			counts[c]++
			total++
		}
	}
	return counts, total
}
