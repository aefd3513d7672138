package frontend

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/courses/live"
	"hoctap/internal/errs"
)

// Live is what the live-room pages need: the session store (*live.Service) and ending a
// session through the hub (*live.Hub); the server passes both together.
type Live interface {
	GetSession(ctx context.Context, a live.Actor, id string) (live.Session, error)
	ListSessions(ctx context.Context, a live.Actor, classID string) ([]live.Session, error)
	CreateSession(ctx context.Context, a live.Actor, classID string, in live.NewSession) (live.Session, error)
	Events(ctx context.Context, a live.Actor, sessionID string, since int64, limit int) (live.EventPage, error)
	Attendance(ctx context.Context, a live.Actor, sessionID string) ([]live.AttendanceRow, error)
	EndSession(ctx context.Context, a live.Actor, sessionID string) (live.Session, error)
}

func (f *Frontend) mountLive(r fiber.Router, signedIn func(fiber.Handler) []fiber.Handler) {
	r.Get("/live/:id", signedIn(f.liveRoom)...)
	r.Get("/live/:id/attendance", signedIn(f.liveAttendance)...)
	r.Post("/live/:id/end", signedIn(f.endLive)...)
	r.Post("/teach/classes/:id/live", signedIn(f.requireTeaching(f.createLive))...)
}

// liveMessage is a chat message still shown.
type liveMessage struct {
	Seq  int64
	At   time.Time
	User live.UserRef
	Text string
}

// liveQuestion is a question of the Q&A with its upvotes.
type liveQuestion struct {
	ID       string
	Seq      int64
	User     live.UserRef
	Text     string
	Upvotes  int
	Answered bool
}

// livePoll is a poll with its latest tally.
type livePoll struct {
	ID       string
	Question string
	Choices  []string
	Counts   []int
	Votes    int
	Closed   bool
}

// Share is choice i's share of the votes, in percent.
func (p livePoll) Share(i int) float64 {
	if p.Votes == 0 || i >= len(p.Counts) {
		return 0
	}
	return float64(p.Counts[i]) * 100 / float64(p.Votes)
}

// Count is choice i's votes.
func (p livePoll) Count(i int) int {
	if i < len(p.Counts) {
		return p.Counts[i]
	}
	return 0
}

// roomState is what a room shows, folded from its stored events in order.
type roomState struct {
	Messages  []liveMessage
	Questions []liveQuestion // most upvoted first, answered last
	Polls     []livePoll     // newest first
	LastSeq   int64
	Ended     bool
	// SlowSeconds is the slow mode in force: one chat message per learner every so many
	// seconds (0: off).
	SlowSeconds int
}

// foldEvents replays a room's events into what the room shows: deleted messages go,
// upvotes and answers update their question, poll tallies their poll.
func foldEvents(events []live.Event) roomState {
	var st roomState
	qIndex, pIndex := map[string]int{}, map[string]int{}
	for _, e := range events {
		st.LastSeq = max(st.LastSeq, e.Seq)
		switch e.Type {
		case "chat.message":
			st.Messages = append(st.Messages, liveMessage{Seq: e.Seq, At: e.At, User: e.User, Text: e.Text})
		case "chat.deleted":
			st.Messages = slices.DeleteFunc(st.Messages, func(m liveMessage) bool { return m.Seq == e.EventSeq })
		case "question.asked":
			qIndex[e.QuestionID] = len(st.Questions)
			st.Questions = append(st.Questions, liveQuestion{ID: e.QuestionID, Seq: e.Seq, User: e.User, Text: e.Text})
		case "question.upvoted":
			if i, ok := qIndex[e.QuestionID]; ok {
				st.Questions[i].Upvotes = e.Upvotes
			}
		case "question.answered":
			if i, ok := qIndex[e.QuestionID]; ok {
				st.Questions[i].Answered = true
			}
		case "poll.opened":
			pIndex[e.PollID] = len(st.Polls)
			st.Polls = append(st.Polls, livePoll{ID: e.PollID, Question: e.Question, Choices: e.Choices, Counts: make([]int, len(e.Choices))})
		case "poll.results", "poll.closed":
			if i, ok := pIndex[e.PollID]; ok {
				st.Polls[i].Counts, st.Polls[i].Votes = e.Counts, e.Votes
				st.Polls[i].Closed = st.Polls[i].Closed || e.Type == "poll.closed"
			}
		case "slowmode.set":
			st.SlowSeconds = e.Seconds
		case "session.ended":
			st.Ended = true
		}
	}
	slices.SortStableFunc(st.Questions, func(a, b liveQuestion) int {
		if a.Answered != b.Answered {
			if a.Answered {
				return 1
			}
			return -1
		}
		return b.Upvotes - a.Upvotes
	})
	slices.Reverse(st.Polls)
	return st
}

// slowModeChoices and muteChoices are what the trainer's controls offer (seconds between
// a learner's messages; minutes a mute lasts).
var (
	slowModeChoices = []int{0, 5, 10, 30, 60, 120}
	muteChoices     = []int{5, 10, 30, 60}
)

// SlowModeChoices and MuteChoices list the trainer's options.
func (roomData) SlowModeChoices() []int { return slowModeChoices }
func (roomData) MuteChoices() []int     { return muteChoices }

type roomData struct {
	Session live.Session
	State   roomState
	Trainer bool
	Me      string
}

// liveRoom shows a live session: what has happened so far, rendered on the server, and
// live.js keeps it current over the websocket (reconnecting with ?since= to catch up).
func (f *Frontend) liveRoom(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	ctx, a := c.UserContext(), live.ActorOf(p)
	sess, err := f.d.Live.GetSession(ctx, a, c.Params("id"))
	if err != nil {
		return err
	}
	var events []live.Event
	for since := int64(0); ; {
		page, err := f.d.Live.Events(ctx, a, sess.ID, since, 500)
		if err != nil {
			return err
		}
		events = append(events, page.Items...)
		if !page.More || len(events) >= 5000 {
			break
		}
		since = page.Next
	}
	st := foldEvents(events)
	st.Ended = st.Ended || sess.Ended()
	if len(st.Messages) > 200 {
		st.Messages = st.Messages[len(st.Messages)-200:]
	}
	trainer := false
	if _, err := f.d.Live.Attendance(ctx, a, sess.ID); err == nil {
		trainer = true // only trainers (and admins) may read attendance
	} else if !errsIs(err, "forbidden") && !errsIs(err, "not_found") {
		return err
	}
	v := f.newView(c, "learn")
	if trainer {
		v.Section = "classes"
	}
	if !st.Ended {
		v.Scripts = []string{"js/live.js"}
	}
	v.Data = roomData{Session: sess, State: st, Trainer: trainer, Me: p.User.ID}
	return f.render(c, "live", v)
}

type attendanceData struct {
	Session live.Session
	Rows    []live.AttendanceRow
}

func (f *Frontend) liveAttendance(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	ctx, a := c.UserContext(), live.ActorOf(p)
	sess, err := f.d.Live.GetSession(ctx, a, c.Params("id"))
	if err != nil {
		return err
	}
	rows, err := f.d.Live.Attendance(ctx, a, sess.ID)
	if err != nil {
		return err
	}
	SortByName(rows, func(r live.AttendanceRow) string { return r.FullName })
	v := f.newView(c, "classes")
	v.Data = attendanceData{Session: sess, Rows: rows}
	return f.render(c, "live_attendance", v)
}

func (f *Frontend) endLive(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	sess, err := f.d.Live.EndSession(c.UserContext(), live.ActorOf(p), c.Params("id"))
	if err != nil {
		return err
	}
	return c.Redirect("/live/"+sess.ID+"/attendance", http.StatusSeeOther)
}

// createLive schedules a live session of a class from the trainer's class page.
func (f *Frontend) createLive(c *fiber.Ctx) error {
	p, _ := f.d.Principal(c)
	var fields errs.Fields
	at, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(c.FormValue("starts_at")), vietnam)
	fields.Check(err != nil, "starts_at", "is not a date")
	err = fields.Err()
	if err == nil {
		var sess live.Session
		sess, err = f.d.Live.CreateSession(c.UserContext(), live.ActorOf(p), c.Params("id"), live.NewSession{
			Title: c.FormValue("title"), StartsAt: at.UTC(), StreamURL: strings.TrimSpace(c.FormValue("stream_url")),
		})
		if err == nil {
			return c.Redirect("/live/"+sess.ID, http.StatusSeeOther)
		}
	}
	v := f.newView(c, "classes")
	status, ok := v.formFailed(err, "error.conflict.text")
	if !ok {
		return err
	}
	v.Form = formValues(c, "title", "starts_at", "stream_url")
	c.Status(status)
	return f.renderTrainerClass(c, v, p, nil, nil)
}

// requireTeaching refuses a handler that re-renders a teaching page when teaching is not
// wired.
func (f *Frontend) requireTeaching(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if f.d.Teaching == nil {
			return fmt.Errorf("the teaching pages are not enabled on this server: %w", errs.ErrUnavailable)
		}
		return h(c)
	}
}

// sessionsOf lists a class's live sessions for its pages; none when live is not wired.
func (f *Frontend) sessionsOf(c *fiber.Ctx, p accounts.Principal, classID string) ([]live.Session, error) {
	if f.d.Live == nil {
		return nil, nil
	}
	ss, err := f.d.Live.ListSessions(c.UserContext(), live.ActorOf(p), classID)
	if errsIs(err, "forbidden") || errsIs(err, "not_found") {
		return nil, nil
	}
	return ss, err
}
