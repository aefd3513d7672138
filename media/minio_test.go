package media_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"hoctap/internal/errs"
	"hoctap/media"
)

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestMinioUnreachableIsUnavailable(t *testing.T) {
	s, err := media.NewMinioStore(media.MinioConfig{Endpoint: closedPort(t), AccessKey: "a", SecretKey: "b", Bucket: "lectures"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	checks := map[string]func() error{
		"Ping":         func() error { return s.Ping(ctx) },
		"EnsureBucket": func() error { return s.EnsureBucket(ctx) },
		"Stat":         func() error { _, err := s.Stat(ctx, "a/b"); return err },
		"ReadRange":    func() error { _, err := s.ReadRange(ctx, "a/b", 0, 512); return err },
		"Delete":       func() error { return s.Delete(ctx, "a/b") },
		"Put":          func() error { _, err := s.Put(ctx, "a/b", strings.NewReader("x"), 1, "text/plain"); return err },
		"CreateMultipartUpload": func() error {
			_, err := s.CreateMultipartUpload(ctx, "a/b", media.MultipartOptions{ContentType: "video/mp4"})
			return err
		},
		"CompleteMultipartUpload": func() error {
			_, err := s.CompleteMultipartUpload(ctx, "a/b", "id", []media.Part{{Number: 1, ETag: "x"}})
			return err
		},
		"AbortMultipartUpload": func() error { return s.AbortMultipartUpload(ctx, "a/b", "id") },
		"List": func() error {
			for _, err := range s.List(ctx, "") {
				return err
			}
			return nil
		},
	}
	for name, fn := range checks {
		if err := fn(); !errors.Is(err, errs.ErrUnavailable) {
			t.Errorf("%s against a closed port: %v, want ErrUnavailable", name, err)
		}
	}
	// Signing needs no network, so URLs can still be handed out (they fail when used).
	if _, err := s.PresignGet(ctx, "a/b", media.GetOptions{}); err != nil {
		t.Errorf("PresignGet without a server: %v", err)
	}
}

func TestMinioSilentServerTimesOut(t *testing.T) {
	// A server that accepts connections and never answers: the store's timeout ends the wait.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s, err := media.NewMinioStore(media.MinioConfig{Endpoint: l.Addr().String(), AccessKey: "a", SecretKey: "b", Bucket: "lectures", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("Ping of a silent server: %v, want ErrUnavailable", err)
	}
	if _, err := s.Stat(context.Background(), "a"); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("Stat on a silent server: %v, want ErrUnavailable", err)
	}
}

func TestMinioBucketAndCredentials(t *testing.T) {
	srv := sharedMinio(t)
	ctx := context.Background()
	s, err := media.NewMinioStore(media.MinioConfig{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: srv.Bucket(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("Ping before the bucket exists: %v, want ErrUnavailable", err)
	}
	if _, err := s.Stat(ctx, "a"); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("Stat before the bucket exists: %v, want ErrUnavailable", err)
	}
	for range 2 { // idempotent
		if err := s.EnsureBucket(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	wrong, err := media.NewMinioStore(media.MinioConfig{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: "wrong-secret-key", Bucket: s.Bucket()})
	if err != nil {
		t.Fatal(err)
	}
	if err := wrong.Ping(ctx); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("Ping with a wrong secret: %v, want ErrUnavailable", err)
	}
	if _, err := wrong.Stat(ctx, "a"); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("Stat with a wrong secret: %v, want ErrUnavailable", err)
	}
}

func TestNewMinioStoreRefusesBadConfig(t *testing.T) {
	for _, cfg := range []media.MinioConfig{
		{Endpoint: "", Bucket: "ok-bucket"},
		{Endpoint: "127.0.0.1:9000", Bucket: ""},
		{Endpoint: "127.0.0.1:9000", Bucket: "Bad_Bucket"},
		{Endpoint: "http://127.0.0.1:9000", Bucket: "ok-bucket"},
		{Endpoint: "127.0.0.1:9000", Bucket: "ok-bucket", PublicURL: "media.example.vn"},
		{Endpoint: "127.0.0.1:9000", Bucket: "ok-bucket", PublicURL: "https://media.example.vn/prefix"},
	} {
		if _, err := media.NewMinioStore(cfg); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("NewMinioStore(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
}

func TestMinioPublicURL(t *testing.T) {
	s, err := media.NewMinioStore(media.MinioConfig{Endpoint: "minio.internal:9000", AccessKey: "a", SecretKey: "b", Bucket: "lectures", PublicURL: "https://media.example.vn"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	get, err := s.PresignGet(ctx, "a/b.mp4", media.GetOptions{Filename: "Bài 1.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	put, err := s.PresignPut(ctx, "a/b.mp4", media.PutOptions{ContentType: "video/mp4"})
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{get.URL, put.URL} {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Host != "media.example.vn" || u.Path != "/lectures/a/b.mp4" {
			t.Fatalf("presigned URL %s does not use the public URL", raw)
		}
	}
	u, _ := url.Parse(get.URL)
	if cd := u.Query().Get("response-content-disposition"); cd != media.ContentDisposition("Bài 1.mp4", false) {
		t.Fatalf("response-content-disposition = %q", cd)
	}
}

func TestMinioPresignedPutIsNotCapped(t *testing.T) {
	// S3 has no size term for a presigned PUT; this pins the limitation the upload service
	// must cover by checking the size with Stat after the upload.
	s := newMinio(t)
	ctx := context.Background()
	put, err := s.PresignPut(ctx, "big", media.PutOptions{ContentType: "video/mp4", MaxSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, body := send(t, "PUT", put.URL, put.Headers, bytes.NewReader(make([]byte, 100))); code != http.StatusOK {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if info, err := s.Stat(ctx, "big"); err != nil || info.Size != 100 {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
}
