// Package miniotest starts a real MinIO server for tests. Tests of the MinIO media store talk
// to this server, never to a mock of S3.
//
// The server binary is looked up in this order: $HOCTAP_MINIO_BIN, then
// ${XDG_CACHE_HOME:-$HOME/.cache}/hoctap/bin/minio, then `minio` on PATH. `make test`
// installs it into the cache directory. A missing binary fails the test (it is never
// skipped), so a machine that cannot run MinIO is noticed instead of silently testing less.
//
// Starting a server takes a second or two; a package with many MinIO tests shares one
// server from TestMain with StartShared and gives each test its own bucket (Server.Bucket).
package miniotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Server is a running MinIO server on 127.0.0.1.
type Server struct {
	// Endpoint is host:port, without a scheme (the server speaks plain HTTP).
	Endpoint  string
	AccessKey string
	SecretKey string
	// Stop terminates the server (SIGTERM, then SIGKILL after a grace period) and removes
	// its data directory (not one given to StartAt). It is safe to call more than once.
	Stop func()

	buckets *atomic.Int64
}

// Bucket returns a bucket name that no other caller of this server has been given, so
// tests sharing one server do not see each other's objects. The bucket is not created.
func (s Server) Bucket(t testing.TB) string {
	n := s.buckets.Add(1)
	name := strings.ToLower(t.Name())
	var b strings.Builder
	for _, r := range name {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	base := strings.Trim(b.String(), "-")
	if len(base) > 40 {
		base = strings.Trim(base[:40], "-")
	}
	if base == "" {
		base = "test"
	}
	return fmt.Sprintf("%s-%d", base, n)
}

// Start starts a MinIO server for one test and stops it in t.Cleanup. It fails the test when
// the binary is missing or the server does not come up.
func Start(t testing.TB) Server {
	t.Helper()
	srv, err := StartShared()
	if err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// StartShared starts a MinIO server that outlives any one test; call it from TestMain and
// call Stop after m.Run. It returns an error (never skips) when the binary is missing or the
// server does not come up.
func StartShared() (Server, error) {
	bin, err := findBinary()
	if err != nil {
		return Server{}, err
	}
	var lastErr error
	// A port picked free can be taken by someone else before MinIO binds it; try again.
	for range 3 {
		srv, err := start(bin)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	return Server{}, lastErr
}

// findBinary returns the MinIO server binary to run.
func findBinary() (string, error) {
	if p := os.Getenv("HOCTAP_MINIO_BIN"); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("HOCTAP_MINIO_BIN=%s is not an executable file", p)
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, ".cache")
		}
	}
	if cache != "" {
		p := filepath.Join(cache, "hoctap", "bin", "minio")
		if isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	return "", errors.New("the MinIO server binary was not found ($HOCTAP_MINIO_BIN, " +
		"${XDG_CACHE_HOME:-$HOME/.cache}/hoctap/bin/minio, or minio on PATH); " +
		"run `make test`, which installs it")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last bytes a process wrote, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.buf.Len() > 16<<10 {
		keep := bytes.Clone(b.buf.Bytes()[b.buf.Len()-8<<10:])
		b.buf.Reset()
		b.buf.Write(keep)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func start(bin string) (Server, error) {
	port, err := freePort()
	if err != nil {
		return Server{}, fmt.Errorf("pick a port: %w", err)
	}
	dir, err := os.MkdirTemp("", "hoctap-minio-")
	if err != nil {
		return Server{}, fmt.Errorf("data dir: %w", err)
	}
	return startIn(bin, dir, port, "hoctap-"+randomHex(6), randomHex(20), true)
}

// StartAt starts a MinIO server for one test on 127.0.0.1:port with its data under dir and
// the given credentials (generated when empty), and stops it in t.Cleanup. Stop leaves dir
// alone, so a test can stop MinIO (an outage) and StartAt again with the same dir, port and
// credentials: the objects are still there and clients configured for the first server
// reach the second. port 0 picks a free port.
func StartAt(t testing.TB, dir string, port int, accessKey, secretKey string) Server {
	t.Helper()
	bin, err := findBinary()
	if err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			t.Fatalf("miniotest: pick a port: %v", err)
		}
	}
	if accessKey == "" || secretKey == "" {
		accessKey, secretKey = "hoctap-"+randomHex(6), randomHex(20)
	}
	srv, err := startIn(bin, dir, port, accessKey, secretKey, false)
	if err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// startIn runs MinIO on port with data under dir; removeDir says whether Stop deletes dir.
func startIn(bin, dir string, port int, access, secret string, removeDir bool) (Server, error) {
	consolePort, err := freePort()
	if err != nil {
		return Server{}, fmt.Errorf("pick a port: %w", err)
	}
	endpoint := fmt.Sprintf("127.0.0.1:%d", port)

	cmd := exec.Command(bin, "server", filepath.Join(dir, "data"),
		"--address", endpoint,
		"--console-address", fmt.Sprintf("127.0.0.1:%d", consolePort),
		"--quiet")
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+access,
		"MINIO_ROOT_PASSWORD="+secret,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"HOME="+dir, // MinIO writes ~/.minio (certs dir); keep it inside the temp dir
	)
	out := &tailBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		if removeDir {
			os.RemoveAll(dir)
		}
		return Server{}, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()

	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
			if removeDir {
				os.RemoveAll(dir)
			}
		})
	}

	if err := waitHealthy(endpoint, access, secret, exited); err != nil {
		stop()
		return Server{}, fmt.Errorf("%w\nminio output:\n%s", err, out.String())
	}
	return Server{Endpoint: endpoint, AccessKey: access, SecretKey: secret, Stop: stop, buckets: new(atomic.Int64)}, nil
}

// waitHealthy polls the liveness and readiness endpoints until both answer 200, then an
// authenticated S3 request until it succeeds: MinIO reports ready a moment before it stops
// answering "Server not initialized yet" to S3 calls.
func waitHealthy(endpoint, access, secret string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	wait := func() error {
		select {
		case <-exited:
			return errors.New("the MinIO server exited before it was healthy")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the MinIO server at %s was not ready within 60s", endpoint)
		}
		return nil
	}
	for _, path := range []string{"/minio/health/live", "/minio/health/ready"} {
		for {
			resp, err := client.Get("http://" + endpoint + path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if err := wait(); err != nil {
				return fmt.Errorf("%w (waiting for %s)", err, path)
			}
		}
	}
	s3, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(access, secret, ""), MaxRetries: 1, Region: "us-east-1"})
	if err != nil {
		return fmt.Errorf("minio client: %w", err)
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := s3.ListBuckets(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if werr := wait(); werr != nil {
			return fmt.Errorf("%w (last S3 error: %v)", werr, err)
		}
	}
}
