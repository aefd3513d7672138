package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"syscall"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"hoctap/internal/database"
)

// TestCrashDuringBulkWritesAndUploads kills the real server with SIGKILL in the middle of
// the writes that touch many documents or files at once (a staff import, a bulk
// enrolment, an upload's completion) and restarts it on the same data: what was
// acknowledged is there, nothing is half-applied, and running the request again completes.
// The three share one build of the binary; each has its own data directory.
func TestCrashDuringBulkWritesAndUploads(t *testing.T) {
	bin := buildBinary(t)
	t.Run("user_import", func(t *testing.T) { testUserImportSurvivesSIGKILL(t, bin) })
	t.Run("bulk_enrolment", func(t *testing.T) { testBulkEnrolmentSurvivesSIGKILL(t, bin) })
	t.Run("upload_completion", func(t *testing.T) { testUploadCompletionSurvivesSIGKILL(t, bin) })
}

// crashServer is the binary, its data directory and its settings, so that a test can
// kill the server and start it again on the same data.
type crashServer struct {
	bin, dir, addr string
	env            []string
	p              *process
}

func newCrashServer(t *testing.T, bin string) *crashServer {
	t.Helper()
	cs := &crashServer{bin: bin, dir: t.TempDir(), addr: freeAddr(t)}
	cs.env = []string{"HOCTAP_DATA_DIR=" + cs.dir, "HOCTAP_ADMIN_PASSWORD=admin-password-1",
		"HOCTAP_MEDIA_ADDR=" + freeAddr(t), "HOCTAP_MONGODB_URI=", "HOCTAP_S3_ENDPOINT="}
	cs.start(t)
	return cs
}

func (cs *crashServer) start(t *testing.T) {
	t.Helper()
	cs.p = start(t, cs.bin, cs.addr, cs.env...)
}

// kill ends the server with SIGKILL: no deferred function, no flush, no graceful shutdown.
func (cs *crashServer) kill(t *testing.T) {
	t.Helper()
	if err := cs.p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cs.p.cmd.Wait()
}

// inspect opens the database of the killed server directly, to see the documents as the
// crash left them (including fields the API never shows), and closes it again.
func (cs *crashServer) inspect(t *testing.T, f func(db *mongo.Database)) {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{DataDir: cs.dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	f(db.Database)
}

// send sends one request with a raw body (none when nil) of the given content type, and
// reports what came back without failing the test (see try).
func send(client *http.Client, addr, method, path, token, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}
