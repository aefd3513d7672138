package live

import (
	"strings"
	"testing"
)

func TestParseFrame(t *testing.T) {
	long := strings.Repeat("á", MaxTextRunes+1)
	tests := []struct {
		name     string
		in       string
		wantType string
		wantCode string // "" means valid
		check    func(t *testing.T, f Frame)
		clientID string // expected on the error frame
	}{
		{name: "chat", in: `{"type":"chat.send","client_id":"c-1","text":"  Xin chào  "}`, wantType: FrameChatSend,
			check: func(t *testing.T, f Frame) {
				if f.Text != "Xin chào" || f.ClientID != "c-1" {
					t.Errorf("got %+v", f)
				}
			}},
		{name: "chat newline becomes space", in: `{"type":"chat.send","text":"a\nb"}`, wantType: FrameChatSend,
			check: func(t *testing.T, f Frame) {
				if f.Text != "a b" {
					t.Errorf("text %q", f.Text)
				}
			}},
		{name: "chat NFD normalised", in: "{\"type\":\"chat.send\",\"text\":\"Vie\u0323\u0302t\"}", wantType: FrameChatSend,
			check: func(t *testing.T, f Frame) {
				if f.Text != "Việt" {
					t.Errorf("text %q", f.Text)
				}
			}},
		{name: "malformed json", in: `{"type":"chat.send",`, wantCode: "invalid"},
		{name: "not an object", in: `[1,2]`, wantCode: "invalid"},
		{name: "null", in: `null`, wantCode: "invalid"},
		{name: "two values", in: `{"type":"chat.send","text":"a"}{}`, wantCode: "invalid"},
		{name: "empty", in: ``, wantCode: "invalid"},
		{name: "invalid utf8", in: "{\"type\":\"chat.send\",\"text\":\"\xff\"}", wantCode: "invalid"},
		{name: "no type", in: `{"text":"a"}`, wantCode: "invalid"},
		{name: "unknown type", in: `{"type":"chat.shout","client_id":"x","text":"a"}`, wantCode: "invalid", clientID: "x"},
		{name: "wrong field type", in: `{"type":"chat.send","text":5}`, wantCode: "invalid"},
		{name: "chat missing text", in: `{"type":"chat.send","client_id":"k"}`, wantCode: "invalid", clientID: "k"},
		{name: "chat blank text", in: `{"type":"chat.send","text":"   "}`, wantCode: "invalid"},
		{name: "chat control char", in: `{"type":"chat.send","text":"a\u0007b"}`, wantCode: "invalid"},
		{name: "chat bidi override", in: `{"type":"chat.send","text":"a\u202eb"}`, wantCode: "invalid"},
		{name: "chat too long", in: `{"type":"chat.send","text":"` + long + `"}`, wantCode: "invalid"},
		{name: "chat exactly max", in: `{"type":"chat.send","text":"` + strings.Repeat("a", MaxTextRunes) + `"}`, wantType: FrameChatSend},
		{name: "bad client id", in: `{"type":"chat.send","client_id":"a b","text":"x"}`, wantCode: "invalid"},
		{name: "too long client id", in: `{"type":"chat.send","client_id":"` + strings.Repeat("a", 65) + `","text":"x"}`, wantCode: "invalid"},
		{name: "over 4 KB", in: `{"type":"chat.send","text":"` + strings.Repeat("a", MaxFrameBytes) + `"}`, wantCode: CodeTooLarge},
		{name: "question", in: `{"type":"question.ask","client_id":"q1","text":"Why?"}`, wantType: FrameQuestionAsk},
		{name: "upvote", in: `{"type":"question.upvote","question_id":"abc"}`, wantType: FrameQuestionUpvote},
		{name: "upvote missing id", in: `{"type":"question.upvote"}`, wantCode: "invalid"},
		{name: "answered", in: `{"type":"question.answered","question_id":"abc"}`, wantType: FrameQuestionAnswered},
		{name: "vote index", in: `{"type":"poll.vote","poll_id":"p","choice":1}`, wantType: FramePollVote,
			check: func(t *testing.T, f Frame) {
				if f.Choice != 1 || f.ChoiceText != "" {
					t.Errorf("got %+v", f)
				}
			}},
		{name: "vote text", in: `{"type":"poll.vote","poll_id":"p","choice":"Có"}`, wantType: FramePollVote,
			check: func(t *testing.T, f Frame) {
				if f.Choice != -1 || f.ChoiceText != "Có" {
					t.Errorf("got %+v", f)
				}
			}},
		{name: "vote missing choice", in: `{"type":"poll.vote","poll_id":"p"}`, wantCode: "invalid"},
		{name: "vote null choice", in: `{"type":"poll.vote","poll_id":"p","choice":null}`, wantCode: "invalid"},
		{name: "vote negative", in: `{"type":"poll.vote","poll_id":"p","choice":-1}`, wantCode: "invalid"},
		{name: "vote fraction", in: `{"type":"poll.vote","poll_id":"p","choice":1.5}`, wantCode: "invalid"},
		{name: "vote object", in: `{"type":"poll.vote","poll_id":"p","choice":{}}`, wantCode: "invalid"},
		{name: "vote missing poll", in: `{"type":"poll.vote","choice":0}`, wantCode: "invalid"},
		{name: "poll open", in: `{"type":"poll.open","question":"Đồng ý?","choices":["Có","Không"]}`, wantType: FramePollOpen,
			check: func(t *testing.T, f Frame) {
				if f.Question != "Đồng ý?" || len(f.Choices) != 2 {
					t.Errorf("got %+v", f)
				}
			}},
		{name: "poll one choice", in: `{"type":"poll.open","question":"q","choices":["a"]}`, wantCode: "invalid"},
		{name: "poll eleven choices", in: `{"type":"poll.open","question":"q","choices":["1","2","3","4","5","6","7","8","9","10","11"]}`, wantCode: "invalid"},
		{name: "poll repeated choice", in: `{"type":"poll.open","question":"q","choices":["a"," a"]}`, wantCode: "invalid"},
		{name: "poll blank choice", in: `{"type":"poll.open","question":"q","choices":["a",""]}`, wantCode: "invalid"},
		{name: "poll no question", in: `{"type":"poll.open","choices":["a","b"]}`, wantCode: "invalid"},
		{name: "poll close", in: `{"type":"poll.close","poll_id":"p"}`, wantType: FramePollClose},
		{name: "poll close missing", in: `{"type":"poll.close"}`, wantCode: "invalid"},
		{name: "delete", in: `{"type":"chat.delete","event_seq":7}`, wantType: FrameChatDelete},
		{name: "delete zero", in: `{"type":"chat.delete","event_seq":0}`, wantCode: "invalid"},
		{name: "delete missing", in: `{"type":"chat.delete"}`, wantCode: "invalid"},
		{name: "mute", in: `{"type":"user.mute","user_id":"u","minutes":5}`, wantType: FrameUserMute},
		{name: "unmute", in: `{"type":"user.mute","user_id":"u","minutes":0}`, wantType: FrameUserMute},
		{name: "mute no minutes", in: `{"type":"user.mute","user_id":"u"}`, wantCode: "invalid"},
		{name: "mute too long", in: `{"type":"user.mute","user_id":"u","minutes":100000}`, wantCode: "invalid"},
		{name: "mute no user", in: `{"type":"user.mute","minutes":5}`, wantCode: "invalid"},
		{name: "slowmode", in: `{"type":"slowmode.set","seconds":30}`, wantType: FrameSlowmodeSet},
		{name: "slowmode negative", in: `{"type":"slowmode.set","seconds":-1}`, wantCode: "invalid"},
		{name: "slowmode missing", in: `{"type":"slowmode.set"}`, wantCode: "invalid"},
		{name: "unknown fields are ignored", in: `{"type":"slowmode.set","seconds":3,"x":1}`, wantType: FrameSlowmodeSet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ef := ParseFrame([]byte(tt.in))
			if tt.wantCode != "" {
				if ef == nil {
					t.Fatalf("want error %s, got frame %+v", tt.wantCode, f)
				}
				if ef.Code != tt.wantCode || ef.Type != TypeError || ef.Message == "" {
					t.Fatalf("error frame %+v, want code %s", ef, tt.wantCode)
				}
				if ef.ClientID != tt.clientID {
					t.Errorf("client_id %q, want %q", ef.ClientID, tt.clientID)
				}
				return
			}
			if ef != nil {
				t.Fatalf("unexpected error %+v", ef)
			}
			if f.Type != tt.wantType {
				t.Fatalf("type %q, want %q", f.Type, tt.wantType)
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

func TestTrainerOnly(t *testing.T) {
	for typ, want := range map[string]bool{
		FrameChatSend: false, FrameQuestionAsk: false, FrameQuestionUpvote: false, FramePollVote: false,
		FramePollOpen: true, FramePollClose: true, FrameQuestionAnswered: true, FrameChatDelete: true,
		FrameUserMute: true, FrameSlowmodeSet: true,
	} {
		if got := (Frame{Type: typ}).TrainerOnly(); got != want {
			t.Errorf("%s: TrainerOnly %v, want %v", typ, got, want)
		}
	}
}

func FuzzParseFrame(f *testing.F) {
	f.Add([]byte(`{"type":"chat.send","client_id":"a","text":"b"}`))
	f.Add([]byte(`{"type":"poll.open","question":"q","choices":["a","b"]}`))
	f.Add([]byte(`{"type":"poll.vote","poll_id":"p","choice":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, ef := ParseFrame(data)
		if (ef == nil) == (fr.Type == "") {
			t.Fatalf("frame %+v error %+v", fr, ef)
		}
	})
}
