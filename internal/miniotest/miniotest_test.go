package miniotest

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
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

func TestStartAtAgainKeepsPortCredentialsAndObjects(t *testing.T) {
	dir := t.TempDir()
	srv := StartAt(t, dir, 0, "", "")
	client, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := client.MakeBucket(ctx, "kept", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutObject(ctx, "kept", "a.txt", strings.NewReader("xin chào"), -1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if _, err := client.StatObject(ctx, "kept", "a.txt", minio.StatObjectOptions{}); err == nil {
		t.Fatal("a stopped server answered")
	}
	_, port, _ := net.SplitHostPort(srv.Endpoint)
	p, _ := strconv.Atoi(port)
	again := StartAt(t, dir, p, srv.AccessKey, srv.SecretKey)
	if again.Endpoint != srv.Endpoint {
		t.Fatalf("restarted at %s, want %s", again.Endpoint, srv.Endpoint)
	}
	// The same client, unchanged, reaches the restarted server and finds the object.
	info, err := client.StatObject(ctx, "kept", "a.txt", minio.StatObjectOptions{})
	if err != nil || info.Size != int64(len("xin chào")) {
		t.Fatalf("after restart: %+v %v", info, err)
	}
}
