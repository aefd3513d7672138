// Command live is the load generator for live sessions. It starts a live-session server
// as a child process on a loopback port (the courses/live hub with its own store on an
// embedded FerretDB under a temporary directory, behind the same websocket stack the
// server uses: Fiber with gofiber/contrib/websocket), connects N gorilla websocket clients
// to one session, has random clients send chat messages at a steady rate, and reports:
// connect rate, delivery latency from send to every receiver (p50/p99, and until the last
// receiver), messages lost, and the server's RSS and memory per connection.
//
//	go run ./bench/live -n 1000 -rate 10 -duration 30s
//	bench/live/run.sh            # 1,000, 5,000 and 10,000 clients, ulimit raised
//
// Everything stays on 127.0.0.1. The child is this same binary run with -serve.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	gws "github.com/gorilla/websocket"

	"hoctap/courses/live"
	"hoctap/internal/database"
)

func main() {
	serve := flag.Bool("serve", false, "run the server side (the parent starts it)")
	n := flag.Int("n", 1000, "clients to connect to the one session")
	rate := flag.Float64("rate", 10, "chat messages a second, each from a random client")
	duration := flag.Duration("duration", 30*time.Second, "how long messages are sent")
	dialers := flag.Int("dialers", 64, "connections opened at once")
	flag.Parse()
	if *serve {
		if err := runServer(); err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		return
	}
	if err := runBench(*n, *rate, *duration, *dialers); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// ---- server side ----

// everyone is a Membership that lets every bench user in as a learner.
type everyone struct{}

func (everyone) ClassRole(context.Context, string, string) (string, error) {
	return live.RoleLearner, nil
}

func runServer() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv("LIVE_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	dir, err := os.MkdirTemp("", "hoctap-bench-live-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := database.Open(ctx, database.Config{DataDir: dir})
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	svc := live.NewService(db.Database, nil, everyone{})
	if err := svc.EnsureIndexes(ctx); err != nil {
		return err
	}
	sess, err := svc.CreateSession(ctx, live.Actor{ID: "bench-trainer", Admin: true}, "bench-class",
		live.NewSession{Title: "Bench", StartsAt: time.Now()})
	if err != nil {
		return err
	}
	hub := live.NewHub(svc, live.HubOptions{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/stats", func(c *fiber.Ctx) error { return c.JSON(hub.Stats()) })
	app.Get("/ws/live/:session_id", websocket.New(func(c *websocket.Conn) {
		conn := &wsConn{raw: c.Conn}
		user := c.Query("user")
		since, _ := strconv.ParseInt(c.Query("since", "0"), 10, 64)
		c.SetReadLimit(live.MaxFrameBytes)
		client, err := hub.Join(context.Background(), live.Actor{ID: user, FullName: "Cán bộ " + user}, c.Params("session_id"), since, conn)
		if err != nil {
			conn.Close(live.ClosePolicy, err.Error())
			return
		}
		defer client.Leave()
		for {
			_, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			client.Receive(data)
		}
	}, websocket.Config{ReadBufferSize: live.MaxFrameBytes, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{}}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = app.Listener(ln) }()
	fmt.Printf("READY %s %s\n", ln.Addr(), sess.ID)
	<-ctx.Done()
	_ = app.ShutdownWithTimeout(5 * time.Second)
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return hub.Close(cctx)
}

// wsConn adapts the websocket to live.Conn and live.BatchConn, as server/live.go does.
type wsConn struct {
	raw interface {
		WriteMessage(int, []byte) error
		WriteControl(int, []byte, time.Time) error
		SetWriteDeadline(time.Time) error
		UnderlyingConn() net.Conn
		Close() error
	}
	once sync.Once
	buf  []byte
}

func (w *wsConn) WriteFrames(frames [][]byte) error {
	w.buf = w.buf[:0]
	for _, f := range frames {
		n := len(f)
		w.buf = append(w.buf, 0x81)
		switch {
		case n < 126:
			w.buf = append(w.buf, byte(n))
		case n < 1<<16:
			w.buf = append(w.buf, 126, byte(n>>8), byte(n))
		default:
			w.buf = append(w.buf, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		}
		w.buf = append(w.buf, f...)
	}
	_ = w.raw.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := w.raw.UnderlyingConn().Write(w.buf)
	return err
}

func (w *wsConn) WriteFrame(f []byte) error {
	_ = w.raw.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return w.raw.WriteMessage(websocket.TextMessage, f)
}

func (w *wsConn) Close(code int, reason string) {
	w.once.Do(func() {
		_ = w.raw.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		_ = w.raw.Close()
	})
}

// ---- client side ----

// histogram counts latencies in 100 µs buckets up to 60 s.
type histogram struct {
	buckets []atomic.Int64
	n       atomic.Int64
}

const bucket = 100 * time.Microsecond

func newHistogram() *histogram {
	return &histogram{buckets: make([]atomic.Int64, int(60*time.Second/bucket)+1)}
}

func (h *histogram) add(d time.Duration) {
	i := min(max(int(d/bucket), 0), len(h.buckets)-1)
	h.buckets[i].Add(1)
	h.n.Add(1)
}

func (h *histogram) quantile(q float64) time.Duration {
	total := h.n.Load()
	if total == 0 {
		return 0
	}
	want := int64(float64(total)*q + 0.5)
	var seen int64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= want {
			return time.Duration(i+1) * bucket
		}
	}
	return time.Duration(len(h.buckets)) * bucket
}

type sent struct {
	at       time.Time
	received atomic.Int64
	lastNano atomic.Int64
}

type benchClient struct {
	conn    *gws.Conn
	wmu     sync.Mutex
	lastSeq int64
	gaps    int64
	closed  atomic.Bool
}

func runBench(n int, rate float64, duration time.Duration, dialers int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-serve")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("server did not start: %w", err)
	}
	var addr, sessionID string
	if _, err := fmt.Sscanf(line, "READY %s %s", &addr, &sessionID); err != nil {
		return fmt.Errorf("server said %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	pid := cmd.Process.Pid
	rssIdle := rss(pid)

	var mu sync.Mutex
	messages := map[string]*sent{}
	lat := newHistogram()
	clients := make([]*benchClient, n)
	var dropped atomic.Int64

	// Connect.
	start := time.Now()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	var dialErr atomic.Value
	for range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				u := url.URL{Scheme: "ws", Host: addr, Path: "/ws/live/" + sessionID, RawQuery: "user=u" + strconv.Itoa(i)}
				d := gws.Dialer{HandshakeTimeout: 30 * time.Second}
				c, _, err := d.Dial(u.String(), nil)
				if err != nil {
					dialErr.Store(err)
					return
				}
				clients[i] = &benchClient{conn: c}
			}
		}()
	}
	wg.Wait()
	connectTime := time.Since(start)
	if err, _ := dialErr.Load().(error); err != nil {
		return fmt.Errorf("connect: %w (raise ulimit -n?)", err)
	}
	time.Sleep(2 * time.Second) // let the server settle before measuring memory
	runtime.GC()
	rssConnected := rss(pid)

	// Read.
	var readers sync.WaitGroup
	for _, bc := range clients {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				_, data, err := bc.conn.ReadMessage()
				if err != nil {
					if !bc.closed.Load() {
						dropped.Add(1)
					}
					return
				}
				seq, typ, text := scanFrame(data)
				if seq == 0 {
					continue
				}
				if seq != bc.lastSeq+1 && bc.lastSeq != 0 {
					bc.gaps++
				}
				bc.lastSeq = seq
				if typ != live.TypeChatMessage {
					continue
				}
				now := time.Now()
				mu.Lock()
				m := messages[text]
				mu.Unlock()
				if m == nil {
					continue
				}
				lat.add(now.Sub(m.at))
				m.received.Add(1)
				for {
					old := m.lastNano.Load()
					if now.UnixNano() <= old || m.lastNano.CompareAndSwap(old, now.UnixNano()) {
						break
					}
				}
			}
		}()
	}

	// Send.
	interval := time.Duration(float64(time.Second) / rate)
	tick := time.NewTicker(interval)
	stopAt := time.Now().Add(duration)
	var total int
	for now := range tick.C {
		if now.After(stopAt) {
			break
		}
		bc := clients[rand.IntN(n)]
		text := fmt.Sprintf("m%d", total)
		mu.Lock()
		messages[text] = &sent{at: time.Now()}
		mu.Unlock()
		bc.wmu.Lock()
		err := bc.conn.WriteMessage(gws.TextMessage, fmt.Appendf(nil, `{"type":"chat.send","client_id":"%s","text":"%s"}`, text, text))
		bc.wmu.Unlock()
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		total++
	}
	tick.Stop()
	// Drain: wait until every delivery arrived, or nothing arrived for 5 s.
	want := int64(total) * int64(n)
	last, lastChange := lat.n.Load(), time.Now()
	for lat.n.Load() < want && time.Since(lastChange) < 5*time.Second {
		time.Sleep(200 * time.Millisecond)
		if cur := lat.n.Load(); cur != last {
			last, lastChange = cur, time.Now()
		}
	}
	rssEnd := rss(pid)
	for _, bc := range clients {
		bc.closed.Store(true)
		_ = bc.conn.Close()
	}
	readers.Wait()

	var receipts, lost int64
	var all []time.Duration
	for _, m := range messages {
		r := m.received.Load()
		receipts += r
		lost += int64(n) - r
		if r == int64(n) {
			all = append(all, time.Unix(0, m.lastNano.Load()).Sub(m.at))
		}
	}
	var gaps int64
	for _, bc := range clients {
		gaps += bc.gaps
	}
	slices.Sort(all)
	pct := func(q float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*q))]
	}
	fmt.Printf("clients %d, %g msg/s for %v (%d messages)\n", n, rate, duration, total)
	fmt.Printf("  connect: %v total, %.0f connections/s\n", connectTime.Round(time.Millisecond), float64(n)/connectTime.Seconds())
	fmt.Printf("  latency send→each receiver: p50 %v, p99 %v (%d deliveries)\n", lat.quantile(0.5), lat.quantile(0.99), lat.n.Load())
	fmt.Printf("  latency send→last receiver: p50 %v, p99 %v (%d messages reached everyone)\n", pct(0.5).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond), len(all))
	fmt.Printf("  lost: %d of %d deliveries; sequence gaps seen: %d; connections dropped: %d\n", lost, int64(total)*int64(n), gaps, dropped.Load())
	fmt.Printf("  server RSS: %s idle, %s with %d connections, %s at the end; %s per connection\n",
		mib(rssIdle), mib(rssConnected), n, mib(rssEnd), kib((rssConnected-rssIdle)/int64(n)))
	return nil
}

// scanFrame pulls seq, type and text out of an event frame without a full JSON decode:
// the generator shares the machine with the server and must not need more CPU than it.
// The server writes these fields as plain JSON strings and numbers.
func scanFrame(b []byte) (seq int64, typ, text string) {
	field := func(name string) []byte {
		key := []byte(`"` + name + `":`)
		i := bytes.Index(b, key)
		if i < 0 {
			return nil
		}
		return b[i+len(key):]
	}
	if v := field("seq"); v != nil {
		for _, c := range v {
			if c < '0' || c > '9' {
				break
			}
			seq = seq*10 + int64(c-'0')
		}
	}
	str := func(v []byte) string {
		if len(v) < 2 || v[0] != '"' {
			return ""
		}
		if j := bytes.IndexByte(v[1:], '"'); j >= 0 {
			return string(v[1 : 1+j])
		}
		return ""
	}
	return seq, str(field("type")), str(field("text"))
}

// rss reads a process's resident set size in bytes from /proc.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
func kib(b int64) string { return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10)) }
