// Command exam is the "exam spike" load generator (GitHub issue 4). It starts the real
// Hoctap server in this process (server.Serve on a loopback listener, the embedded FerretDB
// in a temporary directory), builds everything over the HTTP API — a unit, N learners from
// one CSV import with a password column, a lecturer, a published course with one lesson, a
// class with the unit enrolled, a few single/multiple/true_false questions and a quiz — and
// signs the learners in (the setup phase, not measured). Then each learner starts the same
// quiz at a uniformly random moment within -spread, autosaves every -autosave answering
// one more question each time (-saves times), submits, and reads the graded attempt back.
//
// It reports throughput, p50/p99 latency per kind of request (start, save, submit),
// errors by status, and lost answers: an answer the server acknowledged (200 on the save
// that carried it) that is missing from, or different in, the graded attempt. Lost
// answers must be 0.
//
//	go run ./bench/exam -n 500                                  # real time: 60 s spread, 30 s autosave
//	go run ./bench/exam -n 2000 -spread 6s -autosave 3s         # compressed time
//	bench/exam/run.sh                                           # 500, 2,000 and 5,000
//
// Everything stays on 127.0.0.1 and the run stops by itself.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"hoctap/server"
)

const (
	adminPassword   = "bench-admin-password-1"
	learnerPassword = "bench-password-123"
	importChunk     = 250 // rows per CSV import request, well inside the server's 60 s write timeout
	retryTries      = 10  // unmeasured retries of a failed submit, and reads of the graded attempt
	retryPause      = 3 * time.Second
)

func main() {
	n := flag.Int("n", 500, "learners sitting the exam")
	spread := flag.Duration("spread", 60*time.Second, "learners start the quiz at uniformly random moments within this window")
	autosave := flag.Duration("autosave", 30*time.Second, "time between a learner's autosaves")
	saves := flag.Int("saves", 4, "autosaves per learner, each answering one more question, before submitting")
	questions := flag.Int("questions", 10, "questions in the quiz (single, multiple and true_false in turn); at least -saves")
	concurrency := flag.Int("concurrency", 0, "most measured requests in flight at once (0: no limit, one connection per learner)")
	logins := flag.Int("logins", 2*runtime.GOMAXPROCS(0), "sign-ins in flight at once during setup (argon2 is CPU-bound)")
	timeout := flag.Duration("timeout", 2*time.Minute, "client timeout of one request")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measured phase (server and generator) to this file")
	required := flag.Bool("required", false, "the quiz is required for course completion, so each submit recomputes the learner's completion")
	flag.Parse()
	if *n < 1 || *saves < 1 || *questions < *saves || *questions < 3 || *spread < 0 || *autosave <= 0 {
		fmt.Fprintln(os.Stderr, "exam: need -n ≥ 1, -saves ≥ 1, -questions ≥ max(3, saves), -spread ≥ 0, -autosave > 0")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := benchConfig{n: *n, spread: *spread, autosave: *autosave, saves: *saves, questions: *questions,
		concurrency: *concurrency, logins: *logins, timeout: *timeout, cpuProfile: *cpuProfile, required: *required}
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "exam:", err)
		os.Exit(1)
	}
}

type benchConfig struct {
	n                   int
	spread, autosave    time.Duration
	saves, questions    int
	concurrency, logins int
	timeout             time.Duration
	cpuProfile          string
	required            bool
}

// ---- the server, in this process ----

// startServer runs server.Serve on a loopback listener with a fresh data directory and
// returns its base URL and a function that stops it and removes the directory.
func startServer(ctx context.Context) (string, func(), error) {
	dir, err := os.MkdirTemp("", "hoctap-bench-exam-")
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	base := "http://" + ln.Addr().String()
	env := map[string]string{
		"HOCTAP_ADDR":           ln.Addr().String(),
		"HOCTAP_PUBLIC_URL":     base,
		"HOCTAP_MEDIA_ADDR":     "127.0.0.1:0",
		"HOCTAP_DATA_DIR":       dir,
		"HOCTAP_ADMIN_PASSWORD": adminPassword,
		"HOCTAP_SECRET_KEY":     "bench-secret-key-0123456789abcdef0123456789",
		"HOCTAP_LOG_LEVEL":      "error",
	}
	cfg, err := server.LoadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		ln.Close()
		os.RemoveAll(dir)
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- server.Serve(sctx, cfg, server.NewLogger(os.Stderr, "error"), ln) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "server:", err)
		}
		os.RemoveAll(dir)
	}
	// Ready when /readyz answers 200; bounded at two minutes.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop, nil
			}
		}
		select {
		case err := <-done:
			cancel()
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("the server stopped while starting: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.New("the server was not ready within 2 minutes")
		}
	}
}

// ---- HTTP client ----

type client struct {
	base string
	http *http.Client
}

// statusError is an answer with an unexpected status.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.body) }

// call sends body (nil, []byte with contentType, or a value sent as JSON), expects one of
// the statuses in want and decodes the answer into out when not nil.
func (c *client) call(ctx context.Context, method, path, token string, body any, contentType string, out any, want ...int) error {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return err
		}
		r, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if !slices.Contains(want, resp.StatusCode) {
		if len(raw) > 300 {
			raw = raw[:300]
		}
		return &statusError{status: resp.StatusCode, body: string(raw)}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

func (c *client) login(ctx context.Context, username, password string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := c.call(ctx, "POST", "/api/v1/auth/login", "", map[string]string{"username": username, "password": password}, "", &out, http.StatusOK); err != nil {
		return "", fmt.Errorf("login %s: %w", username, err)
	}
	return out.Token, nil
}

// ---- setup (not measured) ----

type fixture struct {
	quizID   string
	learners []string // usernames
	tokens   []string
}

type idOnly struct {
	ID string `json:"id"`
}

func setup(ctx context.Context, c *client, cfg benchConfig) (*fixture, error) {
	admin, err := c.login(ctx, "admin", adminPassword)
	if err != nil {
		return nil, err
	}
	var unit idOnly
	if err := c.call(ctx, "POST", "/api/v1/units", admin, map[string]any{"name": "Sở Nội vụ (bench)", "code": "BENCH"}, "", &unit, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("creating the unit: %w", err)
	}
	var lect idOnly
	if err := c.call(ctx, "POST", "/api/v1/users", admin, map[string]any{"username": "giangvien.bench", "password": learnerPassword,
		"full_name": "Giảng viên Bench", "unit_id": unit.ID, "roles": []string{"lecturer"}}, "", &lect, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("creating the lecturer: %w", err)
	}
	lecturer, err := c.login(ctx, "giangvien.bench", learnerPassword)
	if err != nil {
		return nil, err
	}

	// N learners in chunks of importChunk lines per CSV import.
	f := &fixture{learners: make([]string, cfg.n), tokens: make([]string, cfg.n)}
	t0 := time.Now()
	for from := 0; from < cfg.n; from += importChunk {
		var csv strings.Builder
		csv.WriteString("username,full_name,unit_code,password,roles\n")
		for i := from; i < min(from+importChunk, cfg.n); i++ {
			f.learners[i] = fmt.Sprintf("hv%05d", i)
			fmt.Fprintf(&csv, "%s,Học viên %05d,BENCH,%s,learner\n", f.learners[i], i, learnerPassword)
		}
		var res struct {
			Created int `json:"created"`
			Errors  []struct {
				Line    int    `json:"line"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		if err := c.call(ctx, "POST", "/api/v1/users/import", admin, []byte(csv.String()), "text/csv", &res, http.StatusOK); err != nil {
			return nil, fmt.Errorf("importing learners: %w", err)
		}
		if len(res.Errors) > 0 || res.Created != min(from+importChunk, cfg.n)-from {
			return nil, fmt.Errorf("importing learners: created %d, errors %+v", res.Created, res.Errors)
		}
	}
	fmt.Printf("setup: imported %d learners in %s\n", cfg.n, time.Since(t0).Round(time.Millisecond))

	// Course with one text lesson, published; a class; the unit enrolled.
	var course idOnly
	if err := c.call(ctx, "POST", "/api/v1/courses", lecturer, map[string]any{"code": "BENCH-EXAM", "title": "Kiểm tra cuối khoá (bench)",
		"category": "quan_ly_nha_nuoc"}, "", &course, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("creating the course: %w", err)
	}
	var module idOnly
	if err := c.call(ctx, "POST", "/api/v1/courses/"+course.ID+"/modules", lecturer, map[string]any{"title": "Chương 1"}, "", &module, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("adding a module: %w", err)
	}
	if err := c.call(ctx, "POST", "/api/v1/courses/"+course.ID+"/modules/"+module.ID+"/lessons", lecturer,
		map[string]any{"title": "Bài 1", "kind": "text", "body": "Nội dung bài học."}, "", nil, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("adding a lesson: %w", err)
	}
	if err := c.call(ctx, "POST", "/api/v1/courses/"+course.ID+"/publish", lecturer, nil, "", nil, http.StatusOK); err != nil {
		return nil, fmt.Errorf("publishing: %w", err)
	}
	now := time.Now().UTC()
	var class idOnly
	if err := c.call(ctx, "POST", "/api/v1/courses/"+course.ID+"/classes", admin, map[string]any{"name": "Lớp thi (bench)",
		"starts_at": now.Add(-time.Hour), "ends_at": now.AddDate(0, 1, 0)}, "", &class, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("opening the class: %w", err)
	}
	var enrolled struct {
		Enrolled int `json:"enrolled"`
	}
	if err := c.call(ctx, "POST", "/api/v1/classes/"+class.ID+"/enrolments", admin, map[string]any{"unit_id": unit.ID}, "", &enrolled, http.StatusOK, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("enrolling the unit: %w", err)
	}

	// Questions: single, multiple and true_false in turn, one point each.
	items := make([]any, 0, cfg.questions)
	for i := range cfg.questions {
		q := map[string]any{"bank": "Bench", "category": "Bench/Thi", "text": fmt.Sprintf("Câu hỏi số %d về quản lý nhà nước?", i+1), "points": 1}
		switch i % 3 {
		case 0:
			q["type"] = "single"
			q["choices"] = []map[string]any{{"id": "a", "text": "Phương án A", "correct": true}, {"id": "b", "text": "Phương án B"},
				{"id": "c", "text": "Phương án C"}, {"id": "d", "text": "Phương án D"}}
		case 1:
			q["type"] = "multiple"
			q["choices"] = []map[string]any{{"id": "a", "text": "Đúng 1", "correct": true}, {"id": "b", "text": "Đúng 2", "correct": true},
				{"id": "c", "text": "Sai 1"}, {"id": "d", "text": "Sai 2"}}
		case 2:
			q["type"] = "true_false"
			q["answers"] = []any{i%2 == 0}
		}
		var made idOnly
		if err := c.call(ctx, "POST", "/api/v1/questions", lecturer, q, "", &made, http.StatusCreated); err != nil {
			return nil, fmt.Errorf("creating question %d: %w", i+1, err)
		}
		items = append(items, map[string]any{"question_id": made.ID})
	}
	// The time limit covers the whole sitting with a wide margin: nobody must hit it.
	limit := int((cfg.spread + time.Duration(cfg.saves+2)*cfg.autosave + 30*time.Minute) / time.Second)
	var quiz idOnly
	if err := c.call(ctx, "POST", "/api/v1/quizzes", lecturer, map[string]any{"course_id": course.ID, "title": "Thi cuối khoá (bench)",
		"time_limit_s": min(limit, 604800), "max_attempts": 1, "pass_percent": 50, "shuffle": true, "required": cfg.required, "items": items}, "", &quiz, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("creating the quiz: %w", err)
	}
	f.quizID = quiz.ID
	fmt.Printf("setup: course, class (%d enrolled), %d questions and the quiz ready\n", enrolled.Enrolled, cfg.questions)

	// Sign-ins, cfg.logins at once.
	t0 = time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, cfg.logins)
	for range cfg.logins {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.n || ctx.Err() != nil {
					return
				}
				tok, err := c.login(ctx, f.learners[i], learnerPassword)
				if err != nil {
					errc <- err
					return
				}
				f.tokens[i] = tok
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fmt.Printf("setup: %d learners signed in in %s\n", cfg.n, time.Since(t0).Round(time.Millisecond))
	return f, nil
}

// ---- the measured phase ----

const (
	kindStart = iota
	kindSave
	kindSubmit
	kinds
)

var kindNames = [kinds]string{"start", "save", "submit"}

type stats struct {
	mu        sync.Mutex
	latencies [kinds][]time.Duration
	errors    map[string]int // "kind status" → count
	first     time.Time
	last      time.Time
}

func (s *stats) record(kind int, begin time.Time, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first.IsZero() || begin.Before(s.first) {
		s.first = begin
	}
	if end := begin.Add(d); end.After(s.last) {
		s.last = end
	}
	if err != nil {
		key := kindNames[kind] + " "
		var se *statusError
		switch {
		case errors.As(err, &se):
			key += fmt.Sprint(se.status)
		case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Timeout"):
			key += "timeout"
		default:
			key += "transport"
		}
		s.errors[key]++
		return
	}
	s.latencies[kind] = append(s.latencies[kind], d)
}

// learnerResult is what one learner's sitting ends with.
type learnerResult struct {
	acked     map[string]any // question id → the answer value a 200 save acknowledged
	started   bool
	submitted bool
	// submitRetries counts unmeasured retries of a failed submit; submittedOnRetry is true
	// when one of them succeeded.
	submitRetries    int
	submittedOnRetry bool
	verified         bool
	lost             []string // acknowledged answers missing or different in the graded attempt
	unscored         []string // acknowledged answers the graded result counts as unanswered
	verifyErr        error
}

type attemptView struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Questions []struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Status  string `json:"status"`
		Choices []struct {
			ID string `json:"id"`
		} `json:"choices"`
	} `json:"questions"`
	Answers map[string]json.RawMessage `json:"answers"`
	Result  *struct {
		Score    float64 `json:"score"`
		MaxScore float64 `json:"max_score"`
	} `json:"result"`
}

// answerFor picks a random answer that fits the question: a choice id, a set of choice
// ids, or a boolean.
func answerFor(rng *rand.Rand, typ string, choices []string) any {
	switch typ {
	case "single":
		return choices[rng.IntN(len(choices))]
	case "multiple":
		picked := []string{}
		for _, c := range choices {
			if rng.IntN(2) == 0 {
				picked = append(picked, c)
			}
		}
		if len(picked) == 0 {
			picked = append(picked, choices[0])
		}
		return picked
	default:
		return rng.IntN(2) == 0
	}
}

// sameAnswer compares an answer sent with the JSON the server gave back; sets of choices
// compare as sets, and a true_false answer sent as a boolean comes back as the id of the
// chosen choice, "true" or "false".
func sameAnswer(sent any, got json.RawMessage) bool {
	var g any
	if err := json.Unmarshal(got, &g); err != nil {
		return false
	}
	if b, ok := sent.(bool); ok {
		if gs, ok := g.(string); ok {
			return gs == fmt.Sprint(b)
		}
	}
	if list, ok := sent.([]string); ok {
		gl, ok := g.([]any)
		if !ok || len(gl) != len(list) {
			return false
		}
		a := slices.Clone(list)
		b := make([]string, 0, len(gl))
		for _, x := range gl {
			s, ok := x.(string)
			if !ok {
				return false
			}
			b = append(b, s)
		}
		sort.Strings(a)
		sort.Strings(b)
		return slices.Equal(a, b)
	}
	return reflect.DeepEqual(sent, g)
}

func sitExam(ctx context.Context, c *client, cfg benchConfig, st *stats, sem chan struct{}, quizID, token string, offset time.Duration, t0 time.Time, seed uint64) *learnerResult {
	res := &learnerResult{acked: map[string]any{}}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	sleepUntil := func(t time.Time) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Until(t)):
			return true
		}
	}
	measured := func(kind int, method, path string, body any, out any, want ...int) error {
		if sem != nil {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			defer func() { <-sem }()
		}
		begin := time.Now()
		err := c.call(ctx, method, path, token, body, "", out, want...)
		st.record(kind, begin, time.Since(begin), err)
		return err
	}
	if !sleepUntil(t0.Add(offset)) {
		return res
	}
	var a attemptView
	if err := measured(kindStart, "POST", "/api/v1/quizzes/"+quizID+"/attempts", nil, &a, http.StatusCreated, http.StatusOK); err != nil {
		return res
	}
	res.started = true
	startedAt := time.Now()
	dirty := map[string]any{} // answered but not yet acknowledged
	for s := range cfg.saves {
		if !sleepUntil(startedAt.Add(time.Duration(s+1) * cfg.autosave)) {
			return res
		}
		q := a.Questions[s%len(a.Questions)]
		choices := make([]string, 0, len(q.Choices))
		for _, ch := range q.Choices {
			choices = append(choices, ch.ID)
		}
		dirty[q.ID] = answerFor(rng, q.Type, choices)
		// A client sends what it has not had acknowledged yet, like the exam page does.
		batch := maps.Clone(dirty)
		if err := measured(kindSave, "PUT", "/api/v1/attempts/"+a.ID+"/answers", map[string]any{"answers": batch}, nil, http.StatusOK); err == nil {
			for id, v := range batch {
				res.acked[id] = v
				delete(dirty, id)
			}
		}
	}
	if len(dirty) > 0 { // the exam page saves what is left before it submits
		batch := maps.Clone(dirty)
		if err := measured(kindSave, "PUT", "/api/v1/attempts/"+a.ID+"/answers", map[string]any{"answers": batch}, nil, http.StatusOK); err == nil {
			for id, v := range batch {
				res.acked[id] = v
			}
		}
	}
	if err := measured(kindSubmit, "POST", "/api/v1/attempts/"+a.ID+"/submit", nil, nil, http.StatusOK); err == nil {
		res.submitted = true
	}
	// A failed submit is retried as the exam page does (submitting twice is harmless), but
	// not measured: the figures above are first tries. Bounded: retryTries, retryPause apart.
	for try := 0; !res.submitted && try < retryTries; try++ {
		if !sleepUntil(time.Now().Add(retryPause)) {
			return res
		}
		res.submitRetries++
		if err := c.call(ctx, "POST", "/api/v1/attempts/"+a.ID+"/submit", token, nil, "", nil, http.StatusOK); err == nil {
			res.submitted, res.submittedOnRetry = true, true
		}
	}
	// Verification, not measured: every acknowledged answer is in the graded attempt.
	var graded attemptView
	var err error
	for try := 0; try < retryTries; try++ {
		if try > 0 && !sleepUntil(time.Now().Add(retryPause)) {
			return res
		}
		if err = c.call(ctx, "GET", "/api/v1/attempts/"+a.ID, token, nil, "", &graded, http.StatusOK); err == nil {
			break
		}
	}
	if err != nil {
		res.verifyErr = err
		return res
	}
	res.verified = true
	status := map[string]string{}
	for _, q := range graded.Questions {
		status[q.ID] = q.Status
	}
	for id, v := range res.acked {
		got, ok := graded.Answers[id]
		if !ok || !sameAnswer(v, got) {
			res.lost = append(res.lost, fmt.Sprintf("attempt %s question %s: acknowledged %v, graded %s", a.ID, id, v, got))
			continue
		}
		if res.submitted && (status[id] == "" || status[id] == "unanswered") {
			res.unscored = append(res.unscored, id)
		}
	}
	if res.submitted && graded.Result == nil {
		res.verifyErr = fmt.Errorf("attempt %s is %s with no result after a successful submit", a.ID, graded.Status)
	}
	return res
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}

func run(ctx context.Context, cfg benchConfig) error {
	fmt.Printf("exam spike: %d learners, start spread %s, autosave every %s, %d saves, %d questions, concurrency %s, GOMAXPROCS %d\n",
		cfg.n, cfg.spread, cfg.autosave, cfg.saves, cfg.questions, limitText(cfg.concurrency), runtime.GOMAXPROCS(0))
	tStart := time.Now()
	base, stop, err := startServer(ctx)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("server ready at %s in %s\n", base, time.Since(tStart).Round(time.Millisecond))
	conns := cfg.n + 16
	if cfg.concurrency > 0 {
		conns = cfg.concurrency + 16
	}
	c := &client{base: base, http: &http.Client{Timeout: cfg.timeout, Transport: &http.Transport{
		Proxy: nil, MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 5 * time.Minute,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	}}}
	f, err := setup(ctx, c, cfg)
	if err != nil {
		return err
	}

	stopProfile, err := startCPUProfile(cfg.cpuProfile)
	if err != nil {
		return err
	}
	st := &stats{errors: map[string]int{}}
	var sem chan struct{}
	if cfg.concurrency > 0 {
		sem = make(chan struct{}, cfg.concurrency)
	}
	results := make([]*learnerResult, cfg.n)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	t0 := time.Now().Add(500 * time.Millisecond)
	fmt.Printf("exam: %d learners start within %s\n", cfg.n, cfg.spread)
	var wg sync.WaitGroup
	for i := range cfg.n {
		offset := time.Duration(rng.Int64N(int64(cfg.spread) + 1))
		seed := rng.Uint64()
		wg.Go(func() {
			results[i] = sitExam(ctx, c, cfg, st, sem, f.quizID, f.tokens[i], offset, t0, seed)
		})
	}
	wg.Wait()
	if err := stopProfile(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	if lost := report(cfg, st, results); lost > 0 {
		return fmt.Errorf("%d acknowledged answers lost", lost)
	}
	return nil
}

// startCPUProfile starts a CPU profile written to path and returns the function that ends
// it; with an empty path it does nothing.
func startCPUProfile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

func limitText(c int) string {
	if c <= 0 {
		return "unlimited"
	}
	return fmt.Sprint(c)
}

// report prints the figures and returns the number of lost (or ungraded) answers.
func report(cfg benchConfig, st *stats, results []*learnerResult) int {
	total := 0
	for k := range kinds {
		total += len(st.latencies[k])
	}
	errTotal := 0
	for _, v := range st.errors {
		errTotal += v
	}
	window := st.last.Sub(st.first)
	fmt.Printf("\nmeasured window %s (first start to last submit answer)\n", window.Round(time.Millisecond))
	fmt.Printf("requests: %d ok, %d errors, throughput %.1f req/s over the window\n", total, errTotal, float64(total+errTotal)/window.Seconds())
	fmt.Printf("%-7s %8s %10s %10s %10s %10s\n", "kind", "ok", "p50", "p99", "max", "req/s")
	for k := range kinds {
		l := slices.Clone(st.latencies[k])
		slices.Sort(l)
		var mx time.Duration
		if len(l) > 0 {
			mx = l[len(l)-1]
		}
		fmt.Printf("%-7s %8d %10s %10s %10s %10.1f\n", kindNames[k], len(l), round(percentile(l, 0.50)), round(percentile(l, 0.99)), round(mx),
			float64(len(l))/window.Seconds())
	}
	if errTotal > 0 {
		keys := make([]string, 0, len(st.errors))
		for k := range st.errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Print("errors by kind and status:")
		for _, k := range keys {
			fmt.Printf(" [%s]=%d", k, st.errors[k])
		}
		fmt.Println()
	} else {
		fmt.Println("errors: none")
	}
	var started, submitted, onRetry, retries, graded, verified, acked, lost, unscored int
	var verifyErrs []string
	for _, r := range results {
		if r == nil {
			continue
		}
		if r.started {
			started++
		}
		if r.submitted {
			submitted++
		}
		if r.submittedOnRetry {
			onRetry++
		}
		retries += r.submitRetries
		if r.verified {
			verified++
			if r.submitted {
				graded++
			}
		}
		acked += len(r.acked)
		lost += len(r.lost)
		unscored += len(r.unscored)
		for _, l := range r.lost {
			if len(verifyErrs) < 10 {
				verifyErrs = append(verifyErrs, "lost: "+l)
			}
		}
		if r.verifyErr != nil && len(verifyErrs) < 10 {
			verifyErrs = append(verifyErrs, r.verifyErr.Error())
		}
	}
	fmt.Printf("learners: %d of %d started, %d submitted (%d of them only on an unmeasured retry; %d retries in all), %d read back, %d read back graded\n",
		started, cfg.n, submitted, onRetry, retries, verified, graded)
	fmt.Printf("answers acknowledged: %d; lost (missing or different in the graded attempt): %d; graded as unanswered: %d\n", acked, lost, unscored)
	for _, e := range verifyErrs {
		fmt.Println("verify:", e)
	}
	if lost > 0 || unscored > 0 {
		fmt.Println("FAIL: acknowledged answers are missing from graded results")
	}
	return lost + unscored
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
