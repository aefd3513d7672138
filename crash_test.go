package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// try sends one request and reports what came back, without failing the test: while the
// server is being killed, requests fail, and that is expected.
func try(client *http.Client, addr, method, path, token string, body any) (int, []byte, error) {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	return send(client, addr, method, path, token, "application/json", raw)
}

// classWorld is a published course with a class that a unit of learners is enrolled in.
type classWorld struct {
	admin, lecturer   string // tokens
	courseID, classID string
	learners          []string // tokens
}

func buildClass(t *testing.T, addr string, learners int) classWorld {
	t.Helper()
	w := classWorld{admin: token(t, addr, "admin", "admin-password-1")}
	var unit, course, module, class struct{ ID string }
	api(t, addr, "POST", "/api/v1/units", w.admin, map[string]any{"name": "Sở Nội vụ", "code": "SNV"}, 201, &unit)
	api(t, addr, "POST", "/api/v1/users", w.admin, map[string]any{"username": "giangvien", "password": "password-123", "full_name": "Giảng viên", "unit_id": unit.ID, "roles": []string{"lecturer"}}, 201, nil)
	for i := range learners {
		api(t, addr, "POST", "/api/v1/users", w.admin, map[string]any{"username": fmt.Sprintf("hv%02d", i), "password": "password-123", "full_name": fmt.Sprintf("Học viên %d", i), "unit_id": unit.ID}, 201, nil)
	}
	w.lecturer = token(t, addr, "giangvien", "password-123")
	api(t, addr, "POST", "/api/v1/courses", w.lecturer, map[string]any{"code": "KNS-01", "title": "Kỹ năng số", "category": "ky_nang_so"}, 201, &course)
	api(t, addr, "POST", "/api/v1/courses/"+course.ID+"/modules", w.lecturer, map[string]any{"title": "Chương 1"}, 201, &module)
	api(t, addr, "POST", "/api/v1/courses/"+course.ID+"/modules/"+module.ID+"/lessons", w.lecturer, map[string]any{"title": "Bài 1", "kind": "text", "body": "Nội dung"}, 201, nil)
	api(t, addr, "POST", "/api/v1/courses/"+course.ID+"/publish", w.lecturer, nil, 200, nil)
	now := time.Now().UTC()
	api(t, addr, "POST", "/api/v1/courses/"+course.ID+"/classes", w.admin, map[string]any{"name": "Lớp 1", "starts_at": now.Add(-time.Hour), "ends_at": now.AddDate(0, 1, 0)}, 201, &class)
	api(t, addr, "POST", "/api/v1/classes/"+class.ID+"/enrolments", w.admin, map[string]any{"unit_id": unit.ID, "include_subunits": true}, 200, nil)
	w.courseID, w.classID = course.ID, class.ID
	for i := range learners {
		w.learners = append(w.learners, token(t, addr, fmt.Sprintf("hv%02d", i), "password-123"))
	}
	return w
}

// examWorld is a class with a quiz of four single-choice questions.
type examWorld struct {
	classWorld
	quizID    string
	questions []string
}

func buildExamWorld(t *testing.T, addr string, learners int) examWorld {
	t.Helper()
	w := examWorld{classWorld: buildClass(t, addr, learners)}
	var items []any
	for i := range 4 {
		var q struct{ ID string }
		api(t, addr, "POST", "/api/v1/questions", w.lecturer, map[string]any{"bank": "KNS", "type": "single", "text": fmt.Sprintf("Câu %d", i+1),
			"choices": []map[string]any{{"id": "a", "text": "Đúng", "correct": true}, {"id": "b", "text": "Sai"}}}, 201, &q)
		w.questions = append(w.questions, q.ID)
		items = append(items, map[string]any{"question_id": q.ID})
	}
	var quiz struct{ ID string }
	api(t, addr, "POST", "/api/v1/quizzes", w.lecturer, map[string]any{"course_id": w.courseID, "title": "Kiểm tra", "time_limit_s": 3600, "max_attempts": 1, "pass_percent": 50, "items": items}, 201, &quiz)
	w.quizID = quiz.ID
	return w
}

// learnerLog is what one learner's client was told before the server died.
type learnerLog struct {
	attemptID string
	acked     map[string]string // question → last acknowledged choice
	inFlight  [2]string         // question, choice of the save that got no answer
	submitted *float64          // the acknowledged score, if a submit was answered
	submitAsk bool              // a submit was sent but not answered
}

// TestExamSurvivesSIGKILL kills the server with SIGKILL while learners autosave and submit,
// restarts it on the same data, and checks that every acknowledged answer and every
// acknowledged result is still there, that nothing is half-applied, and that the exam goes
// on: the open attempts resume with their answers and are graded with them.
func TestExamSurvivesSIGKILL(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	env := []string{"HOCTAP_DATA_DIR=" + dir, "HOCTAP_ADMIN_PASSWORD=admin-password-1", "HOCTAP_MEDIA_ADDR=" + freeAddr(t), "HOCTAP_MONGODB_URI=", "HOCTAP_S3_ENDPOINT="}
	p := start(t, bin, addr, env...)
	const learners = 8
	w := buildExamWorld(t, addr, learners)

	logs := make([]*learnerLog, learners)
	for i, tok := range w.learners {
		var a struct{ ID string }
		api(t, addr, "POST", "/api/v1/quizzes/"+w.quizID+"/attempts", tok, nil, 201, &a)
		logs[i] = &learnerLog{attemptID: a.ID, acked: map[string]string{}}
	}

	// Every learner saves answers in a loop; half of them submit after a few saves. The
	// server is killed while this goes on.
	stop := make(chan struct{})
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for i, tok := range w.learners {
		l := logs[i]
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if i%2 == 0 && n == 6 {
					l.submitAsk = true
					status, raw, err := try(client, addr, "POST", "/api/v1/attempts/"+l.attemptID+"/submit", tok, nil)
					if err != nil || status != http.StatusOK {
						return
					}
					var sum struct{ Score float64 }
					if json.Unmarshal(raw, &sum) == nil {
						l.submitted, l.submitAsk = &sum.Score, false
					}
					return
				}
				q, choice := w.questions[n%len(w.questions)], []string{"a", "b"}[(n/len(w.questions)+i)%2]
				l.inFlight = [2]string{q, choice}
				status, _, err := try(client, addr, "PUT", "/api/v1/attempts/"+l.attemptID+"/answers", tok, map[string]any{"answers": map[string]string{q: choice}})
				if err != nil || status != http.StatusOK {
					return // the server is gone
				}
				l.acked[q], l.inFlight = choice, [2]string{}
			}
		})
	}
	time.Sleep(700 * time.Millisecond) // let saves and submits be under way; not a timing assertion
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	close(stop)
	wg.Wait()

	acked := 0
	for _, l := range logs {
		acked += len(l.acked)
	}
	submitted := 0
	for _, l := range logs {
		if l.submitted != nil {
			submitted++
		}
	}
	if acked == 0 {
		t.Fatal("no save was acknowledged before the kill; the test proves nothing")
	}
	t.Logf("killed after %d acknowledged saves and %d acknowledged submits", acked, submitted)

	start(t, bin, addr, env...)
	for i, l := range logs {
		tok := w.learners[i]
		var a struct {
			Status  string
			Answers map[string]any
			Result  *struct{ Score float64 }
		}
		api(t, addr, "GET", "/api/v1/attempts/"+l.attemptID, tok, nil, 200, &a)
		for q, choice := range l.acked {
			got := fmt.Sprint(a.Answers[q])
			if got != choice && !(l.inFlight[0] == q && got == l.inFlight[1]) {
				t.Errorf("learner %d: question %s holds %q after the restart; %q was acknowledged", i, q, got, choice)
			}
		}
		switch {
		case l.submitted != nil:
			if a.Status == "open" || a.Result == nil || a.Result.Score != *l.submitted {
				t.Errorf("learner %d: the acknowledged submit (score %v) is gone: status %s result %+v", i, *l.submitted, a.Status, a.Result)
			}
		case a.Status == "open":
			// The exam goes on: submit now, and the grade counts every saved answer.
			var sum struct{ Score float64 }
			api(t, addr, "POST", "/api/v1/attempts/"+l.attemptID+"/submit", tok, nil, 200, &sum)
			want := 0.0
			for _, v := range a.Answers {
				if fmt.Sprint(v) == "a" {
					want++
				}
			}
			if sum.Score != want {
				t.Errorf("learner %d: graded %v after the restart, want %v from the saved answers %v", i, sum.Score, want, a.Answers)
			}
		case !l.submitAsk:
			t.Errorf("learner %d: the attempt is %s though no submit was sent", i, a.Status)
		}
	}
}

type liveEvent struct {
	Seq      int64  `json:"seq"`
	Type     string `json:"type"`
	ClientID string `json:"client_id"`
}

// storedEvents reads every stored event of a session through the API, page by page.
func storedEvents(t *testing.T, addr, tok, sessionID string) []liveEvent {
	t.Helper()
	var all []liveEvent
	since := int64(0)
	for {
		var page struct {
			Items []liveEvent
			Next  int64
			More  bool
		}
		api(t, addr, "GET", fmt.Sprintf("/api/v1/live-sessions/%s/events?since=%d&limit=500", sessionID, since), tok, nil, 200, &page)
		all = append(all, page.Items...)
		if !page.More {
			return all
		}
		since = page.Next
	}
}

// checkSequence fails unless the events are numbered 1..n without a gap and no chat
// client_id is stored twice; it returns the stored client_ids.
func checkSequence(t *testing.T, events []liveEvent) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: a gap or a duplicate", i+1, e.Seq)
		}
		if e.Type == "chat.message" && e.ClientID != "" {
			if ids[e.ClientID] {
				t.Fatalf("client_id %s stored twice", e.ClientID)
			}
			ids[e.ClientID] = true
		}
	}
	return ids
}

// TestLiveSequencesSurviveSIGKILL kills the server while learners chat, restarts it, and
// checks that every message a sender saw acknowledged is stored once, that sequences have
// no gap, that resending unacknowledged messages stores each once, and that new messages
// carry on the sequence.
func TestLiveSequencesSurviveSIGKILL(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	env := []string{"HOCTAP_DATA_DIR=" + dir, "HOCTAP_ADMIN_PASSWORD=admin-password-1", "HOCTAP_MEDIA_ADDR=" + freeAddr(t), "HOCTAP_MONGODB_URI=", "HOCTAP_S3_ENDPOINT="}
	p := start(t, bin, addr, env...)
	w := buildClass(t, addr, 8)
	var sess struct{ ID string }
	api(t, addr, "POST", "/api/v1/classes/"+w.classID+"/live-sessions", w.admin, map[string]any{"title": "Học tập Nghị quyết", "starts_at": time.Now().UTC()}, 201, &sess)
	wsURL := "ws://" + addr + "/ws/live/" + sess.ID

	type sender struct {
		mu    sync.Mutex
		sent  []string
		acked map[string]bool
	}
	senders := make([]*sender, len(w.learners))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i, tok := range w.learners {
		conn, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Authorization": {"Bearer " + tok}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		s := &sender{acked: map[string]bool{}}
		senders[i] = s
		wg.Go(func() { // reader: a chat.message with our client_id is the acknowledgement
			for {
				_, raw, err := conn.ReadMessage()
				if err != nil {
					return
				}
				var e liveEvent
				if json.Unmarshal(raw, &e) == nil && e.Type == "chat.message" {
					s.mu.Lock()
					s.acked[e.ClientID] = true
					s.mu.Unlock()
				}
			}
		})
		wg.Go(func() { // writer: messages at the rate a client may send (5 a second) until the kill
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(210 * time.Millisecond):
				}
				id := fmt.Sprintf("hv%d-%d", i, n)
				s.mu.Lock()
				s.sent = append(s.sent, id)
				s.mu.Unlock()
				if conn.WriteJSON(map[string]string{"type": "chat.send", "client_id": id, "text": "Tin nhắn " + id}) != nil {
					return
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond) // messages in flight; not a timing assertion
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	close(stop)
	wg.Wait()

	p2 := start(t, bin, addr, env...)
	stored := checkSequence(t, storedEvents(t, addr, w.admin, sess.ID))
	ackedCount, resend := 0, []string{}
	for _, s := range senders {
		for _, id := range s.sent {
			switch {
			case s.acked[id]:
				ackedCount++
				if !stored[id] {
					t.Errorf("message %s was acknowledged but is not stored after the restart", id)
				}
			default:
				resend = append(resend, id)
			}
		}
	}
	if ackedCount == 0 {
		t.Fatal("no message was acknowledged before the kill; the test proves nothing")
	}
	t.Logf("killed after %d acknowledged messages; %d stored; resending %d", ackedCount, len(stored), len(resend))

	// The clients reconnect and resend what they never saw acknowledged, plus one new message.
	conn, _, err := websocket.DefaultDialer.Dial(wsURL+fmt.Sprintf("?since=%d", len(stored)), http.Header{"Authorization": {"Bearer " + w.learners[0]}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Resends go from their own sender's connection: a client_id belongs to its user.
	for i, tok := range w.learners {
		c, resp, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Authorization": {"Bearer " + tok}})
		if err != nil {
			t.Fatalf("learner %d reconnects: %v (%+v)\n%s", i, err, resp, p2.log.String())
		}
		for _, id := range resend {
			if strings.HasPrefix(id, fmt.Sprintf("hv%d-", i)) {
				if err := c.WriteJSON(map[string]string{"type": "chat.send", "client_id": id, "text": "Tin nhắn " + id}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(210 * time.Millisecond) // within the per-client rate
			}
		}
		c.Close()
	}
	if err := conn.WriteJSON(map[string]string{"type": "chat.send", "client_id": "after-restart", "text": "Sau khi khởi động lại"}); err != nil {
		t.Fatal(err)
	}
	// Wait until the new message comes back through the room, then check the store.
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, raw, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("the message sent after the restart never came back: %v", err)
		}
		var e liveEvent
		if json.Unmarshal(raw, &e) == nil && e.ClientID == "after-restart" {
			break
		}
	}
	final := checkSequence(t, storedEvents(t, addr, w.admin, sess.ID))
	for _, id := range resend {
		if !final[id] {
			t.Errorf("resent message %s is not stored", id)
		}
	}
	if !final["after-restart"] {
		t.Error("the message sent after the restart is not stored")
	}
}
