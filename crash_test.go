package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"
)

// try sends one request and reports what came back, without failing the test: while the
// server is being killed, requests fail, and that is expected.
func try(client *http.Client, addr, method, path, token string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+addr+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// examWorld is a class with a quiz of four single-choice questions and learners enrolled.
type examWorld struct {
	quizID    string
	questions []string
	learners  []string // tokens
}

func buildExamWorld(t *testing.T, addr string, learners int) examWorld {
	t.Helper()
	admin := token(t, addr, "admin", "admin-password-1")
	var unit, course, module, class struct{ ID string }
	api(t, addr, "POST", "/api/v1/units", admin, map[string]any{"name": "Sở Nội vụ", "code": "SNV"}, 201, &unit)
	api(t, addr, "POST", "/api/v1/users", admin, map[string]any{"username": "giangvien", "password": "password-123", "full_name": "Giảng viên", "unit_id": unit.ID, "roles": []string{"lecturer"}}, 201, nil)
	for i := range learners {
		api(t, addr, "POST", "/api/v1/users", admin, map[string]any{"username": fmt.Sprintf("hv%02d", i), "password": "password-123", "full_name": fmt.Sprintf("Học viên %d", i), "unit_id": unit.ID}, 201, nil)
	}
	lecturer := token(t, addr, "giangvien", "password-123")
	api(t, addr, "POST", "/api/v1/courses", lecturer, map[string]any{"code": "KNS-01", "title": "Kỹ năng số", "category": "ky_nang_so"}, 201, &course)
	api(t, addr, "POST", "/api/v1/courses/"+course.ID+"/modules", lecturer, map[string]any{"title": "Chương 1"}, 201, &module)
	api(t, addr, "POST", "/api/v1/courses/"+course.ID+"/modules/"+module.ID+"/lessons", lecturer, map[string]any{"title": "Bài 1", "kind": "text", "body": "Nội dung"}, 201, nil)
	api(t, addr, "POST", "/api/v1/courses/"+course.ID+"/publish", lecturer, nil, 200, nil)
	now := time.Now().UTC()
	api(t, addr, "POST", "/api/v1/courses/"+course.ID+"/classes", admin, map[string]any{"name": "Lớp 1", "starts_at": now.Add(-time.Hour), "ends_at": now.AddDate(0, 1, 0)}, 201, &class)
	api(t, addr, "POST", "/api/v1/classes/"+class.ID+"/enrolments", admin, map[string]any{"unit_id": unit.ID, "include_subunits": true}, 200, nil)

	w := examWorld{}
	var items []any
	for i := range 4 {
		var q struct{ ID string }
		api(t, addr, "POST", "/api/v1/questions", lecturer, map[string]any{"bank": "KNS", "type": "single", "text": fmt.Sprintf("Câu %d", i+1),
			"choices": []map[string]any{{"id": "a", "text": "Đúng", "correct": true}, {"id": "b", "text": "Sai"}}}, 201, &q)
		w.questions = append(w.questions, q.ID)
		items = append(items, map[string]any{"question_id": q.ID})
	}
	var quiz struct{ ID string }
	api(t, addr, "POST", "/api/v1/quizzes", lecturer, map[string]any{"course_id": course.ID, "title": "Kiểm tra", "time_limit_s": 3600, "max_attempts": 1, "pass_percent": 50, "items": items}, 201, &quiz)
	w.quizID = quiz.ID
	for i := range learners {
		w.learners = append(w.learners, token(t, addr, fmt.Sprintf("hv%02d", i), "password-123"))
	}
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
