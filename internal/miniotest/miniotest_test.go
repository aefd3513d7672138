package miniotest

import (
	"net/http"
	"strings"
	"testing"
)

func TestStartServesHealth(t *testing.T) {
	srv := Start(t)
	resp, err := http.Get("http://" + srv.Endpoint + "/minio/health/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ready: %d", resp.StatusCode)
	}
	if a, b := srv.Bucket(t), srv.Bucket(t); a == b {
		t.Fatalf("Bucket returned %q twice", a)
	}
	srv.Stop()
	if _, err := http.Get("http://" + srv.Endpoint + "/minio/health/live"); err == nil {
		t.Fatal("the server still answers after Stop")
	}
	srv.Stop() // a second Stop is harmless
}

func TestMissingBinaryIsAnError(t *testing.T) {
	t.Setenv("HOCTAP_MINIO_BIN", t.TempDir()+"/no-such-minio")
	if _, err := StartShared(); err == nil {
		t.Fatal("StartShared succeeded without a binary")
	}
	t.Setenv("HOCTAP_MINIO_BIN", "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	_, err := StartShared()
	if err == nil || !strings.Contains(err.Error(), "make test") {
		t.Fatalf("want an error telling to run make test, got %v", err)
	}
}
