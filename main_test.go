package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles the hoctap command once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hoctap")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type process struct {
	cmd *exec.Cmd
	log *syncBuffer
}

// syncBuffer collects a process's output; the copying goroutine of exec writes to it while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the binary with env and waits until /healthz answers.
func start(t *testing.T, bin, addr string, env ...string) *process {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "HOCTAP_ADDR="+addr)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, log: log}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		// Ready when it answers /healthz and its start-up lines have reached the buffer.
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(log.String(), "hoctap is listening") {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the server did not answer /healthz; its log:\n%s", log.String())
	return nil
}

func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("the server did not exit cleanly on SIGTERM: %v\n%s", err, p.log.String())
	}
}

func login(t *testing.T, addr, user, password string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := http.Post("http://"+addr+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// logged finds the first JSON log line whose msg contains msg.
func logged(t *testing.T, log, msg string) map[string]any {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && strings.Contains(fmt.Sprint(line["msg"]), msg) {
			return line
		}
	}
	return nil
}

func TestFreshStartPrintsAdminPasswordOnceAndKeepsDataAcrossRestarts(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	env := []string{"HOCTAP_MEDIA_ADDR=" + freeAddr(t), "HOCTAP_DATA_DIR=" + dir, "HOCTAP_ADMIN_PASSWORD=", "HOCTAP_MONGODB_URI=", "HOCTAP_S3_ENDPOINT="}

	p := start(t, bin, addr, env...)
	created := logged(t, p.log.String(), "created the admin account")
	if created == nil || created["password"] == nil {
		t.Fatalf("no admin password in the first start's log:\n%s", p.log.String())
	}
	if logged(t, p.log.String(), "embedded mode") == nil {
		t.Errorf("the log does not say it runs in embedded mode:\n%s", p.log.String())
	}
	password := created["password"].(string)
	if got := login(t, addr, "admin", password); got != 200 {
		t.Fatalf("admin login with the logged password: %d", got)
	}
	p.stop(t)

	p = start(t, bin, addr, append(env, "HOCTAP_ADMIN_PASSWORD=another-password")...)
	if logged(t, p.log.String(), "created the admin account") != nil {
		t.Fatal("a restart created the admin again")
	}
	if got := login(t, addr, "admin", password); got != 200 {
		t.Fatalf("after a restart the admin password changed: login %d", got)
	}
	p.stop(t)
}

func TestInvalidConfigurationNamesTheSetting(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "-session-ttl", "soon").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "HOCTAP_SESSION_TTL") {
		t.Fatalf("exit %v, output %s", err, out)
	}
}
