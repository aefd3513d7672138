package live

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Client frame types (client → server).
const (
	FrameChatSend         = "chat.send"
	FrameQuestionAsk      = "question.ask"
	FrameQuestionUpvote   = "question.upvote"
	FramePollVote         = "poll.vote"
	FramePollOpen         = "poll.open"
	FramePollClose        = "poll.close"
	FrameQuestionAnswered = "question.answered"
	FrameChatDelete       = "chat.delete"
	FrameUserMute         = "user.mute"
	FrameSlowmodeSet      = "slowmode.set"
)

// Limits on client frames.
const (
	MaxFrameBytes    = 4096 // the server closes a connection that sends more (1009)
	MaxTextRunes     = 1000 // chat messages and questions
	MaxPollQuestion  = 300
	MaxPollChoice    = 200
	MinPollChoices   = 2
	MaxPollChoices   = 10
	MaxClientIDBytes = 64
	MaxMuteMinutes   = 24 * 60
	MaxSlowSeconds   = 3600
)

// Error frame codes, besides the errs vocabulary's "invalid", "forbidden", "not_found",
// "conflict", "rate_limited" and "unavailable".
const (
	CodeTooLarge = "too_large"
)

// Frame is a parsed, validated client frame. Only the fields of its Type are set; text
// fields are already normalised (NFC, trimmed, no control characters).
type Frame struct {
	Type       string
	ClientID   string
	Text       string
	QuestionID string
	PollID     string
	// Choice is the voted choice's index, or -1 when the client named it by ChoiceText.
	Choice     int
	ChoiceText string
	Question   string
	Choices    []string
	EventSeq   int64
	UserID     string
	Minutes    int
	Seconds    int
}

// TrainerOnly reports whether only a trainer of the class may send the frame.
func (f Frame) TrainerOnly() bool {
	switch f.Type {
	case FramePollOpen, FramePollClose, FrameQuestionAnswered, FrameChatDelete, FrameUserMute, FrameSlowmodeSet:
		return true
	}
	return false
}

// ErrorFrame is the unsequenced error a client receives for a frame that was refused.
type ErrorFrame struct {
	Type     string `json:"type"` // always "error"
	Code     string `json:"code"`
	Message  string `json:"message"`
	ClientID string `json:"client_id,omitempty"`
}

func errorFrame(code, clientID, format string, args ...any) *ErrorFrame {
	return &ErrorFrame{Type: TypeError, Code: code, Message: fmt.Sprintf(format, args...), ClientID: clientID}
}

// Encode returns the frame as JSON.
func (e *ErrorFrame) Encode() []byte {
	b, _ := json.Marshal(e) // a struct of strings always marshals
	return b
}

// rawFrame is the wire form; pointers tell a missing field from a zero one.
type rawFrame struct {
	Type       string          `json:"type"`
	ClientID   *string         `json:"client_id"`
	Text       *string         `json:"text"`
	QuestionID *string         `json:"question_id"`
	PollID     *string         `json:"poll_id"`
	Choice     json.RawMessage `json:"choice"`
	Question   *string         `json:"question"`
	Choices    []string        `json:"choices"`
	EventSeq   *int64          `json:"event_seq"`
	UserID     *string         `json:"user_id"`
	Minutes    *int            `json:"minutes"`
	Seconds    *int            `json:"seconds"`
}

// ParseFrame decodes and validates one client frame. It never panics; on any problem it
// returns an error frame (code invalid, or too_large over MaxFrameBytes) that names the
// frame's client_id when one could be read.
func ParseFrame(data []byte) (Frame, *ErrorFrame) {
	if len(data) > MaxFrameBytes {
		return Frame{}, errorFrame(CodeTooLarge, "", "frame is larger than %d bytes", MaxFrameBytes)
	}
	if !utf8.Valid(data) {
		return Frame{}, errorFrame("invalid", "", "frame is not valid UTF-8")
	}
	var raw rawFrame
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return Frame{}, errorFrame("invalid", "", "frame is not a JSON object of the expected shape")
	}
	if dec.More() {
		return Frame{}, errorFrame("invalid", "", "frame holds more than one JSON value")
	}
	f := Frame{Type: raw.Type, Choice: -1}
	if raw.ClientID != nil {
		f.ClientID = *raw.ClientID
		if !validClientID(f.ClientID) {
			return Frame{}, errorFrame("invalid", "", "client_id must be 1 to %d letters, digits or -_.:", MaxClientIDBytes)
		}
	}
	fail := func(format string, args ...any) (Frame, *ErrorFrame) {
		return Frame{}, errorFrame("invalid", f.ClientID, format, args...)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	switch raw.Type {
	case "":
		return fail("type is required")
	case FrameChatSend, FrameQuestionAsk:
		if raw.Text == nil {
			return fail("text is required")
		}
		text, msg := CleanText(*raw.Text, MaxTextRunes)
		if msg != "" {
			return fail("text %s", msg)
		}
		f.Text = text
	case FrameQuestionUpvote, FrameQuestionAnswered:
		if f.QuestionID = str(raw.QuestionID); f.QuestionID == "" || len(f.QuestionID) > 64 {
			return fail("question_id is required")
		}
	case FramePollVote:
		if f.PollID = str(raw.PollID); f.PollID == "" || len(f.PollID) > 64 {
			return fail("poll_id is required")
		}
		if len(raw.Choice) == 0 || string(raw.Choice) == "null" {
			return fail("choice is required")
		}
		var n int
		var s string
		switch {
		case json.Unmarshal(raw.Choice, &n) == nil:
			if n < 0 || n >= MaxPollChoices {
				return fail("choice must be the index of one of the poll's choices")
			}
			f.Choice = n
		case json.Unmarshal(raw.Choice, &s) == nil:
			if f.ChoiceText = strings.TrimSpace(s); f.ChoiceText == "" {
				return fail("choice is required")
			}
		default:
			return fail("choice must be a choice's index or its text")
		}
	case FramePollOpen:
		if raw.Question == nil {
			return fail("question is required")
		}
		q, msg := CleanText(*raw.Question, MaxPollQuestion)
		if msg != "" {
			return fail("question %s", msg)
		}
		f.Question = q
		if len(raw.Choices) < MinPollChoices || len(raw.Choices) > MaxPollChoices {
			return fail("choices must list %d to %d answers", MinPollChoices, MaxPollChoices)
		}
		seen := map[string]bool{}
		for i, c := range raw.Choices {
			c, msg := CleanText(c, MaxPollChoice)
			if msg != "" {
				return fail("choice %d %s", i+1, msg)
			}
			if seen[c] {
				return fail("choice %d repeats another choice", i+1)
			}
			seen[c] = true
			f.Choices = append(f.Choices, c)
		}
	case FramePollClose:
		if f.PollID = str(raw.PollID); f.PollID == "" || len(f.PollID) > 64 {
			return fail("poll_id is required")
		}
	case FrameChatDelete:
		if raw.EventSeq == nil || *raw.EventSeq < 1 {
			return fail("event_seq must be the sequence number of a chat message")
		}
		f.EventSeq = *raw.EventSeq
	case FrameUserMute:
		if f.UserID = str(raw.UserID); f.UserID == "" || len(f.UserID) > 64 {
			return fail("user_id is required")
		}
		if raw.Minutes == nil || *raw.Minutes < 0 || *raw.Minutes > MaxMuteMinutes {
			return fail("minutes must be 0 (lift the mute) to %d", MaxMuteMinutes)
		}
		f.Minutes = *raw.Minutes
	case FrameSlowmodeSet:
		if raw.Seconds == nil || *raw.Seconds < 0 || *raw.Seconds > MaxSlowSeconds {
			return fail("seconds must be 0 (off) to %d", MaxSlowSeconds)
		}
		f.Seconds = *raw.Seconds
	default:
		return fail("unknown frame type %q", truncate(raw.Type, 40))
	}
	return f, nil
}

// CleanText normalises user text for storage as plain text: NFC, tabs and line breaks
// turned into spaces, surrounding space trimmed. It returns a reason ("is required", "is
// longer than N characters", "contains control characters") when the text is refused.
func CleanText(s string, maxRunes int) (string, string) {
	if !utf8.ValidString(s) {
		return "", "is not valid UTF-8"
	}
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidiControl(r):
			return "", "contains control characters"
		default:
			b.WriteRune(r)
		}
	}
	s = strings.TrimSpace(b.String())
	if s == "" {
		return "", "is required"
	}
	if utf8.RuneCountInString(s) > maxRunes {
		return "", fmt.Sprintf("is longer than %d characters", maxRunes)
	}
	return s, ""
}

// isBidiControl reports the explicit direction overrides that can disguise text.
func isBidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

func validClientID(s string) bool {
	if s == "" || len(s) > MaxClientIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
