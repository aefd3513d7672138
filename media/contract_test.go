package media_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"hoctap/media"
	"hoctap/media/storetest"
)

// newDisk returns a DiskStore in a temp dir, served by an httptest.Server around Handler.
func newDisk(t testing.TB, cfg media.DiskConfig) (*media.DiskStore, *httptest.Server) {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	if cfg.Root == "" {
		cfg.Root = t.TempDir()
	}
	if cfg.Secret == nil {
		cfg.Secret = []byte("0123456789abcdef0123456789abcdef-test")
	}
	cfg.PublicBaseURL = srv.URL
	s, err := media.NewDiskStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h = s.Handler()
	return s, srv
}

// newMinio returns a MinioStore on the shared MinIO server with a bucket of its own.
func newMinio(t *testing.T) *media.MinioStore {
	t.Helper()
	srv := sharedMinio(t)
	s, err := media.NewMinioStore(media.MinioConfig{
		Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: srv.Bucket(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDiskStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) media.Store {
		s, _ := newDisk(t, media.DiskConfig{})
		return s
	}, http.DefaultClient)
}

func TestMinioStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) media.Store { return newMinio(t) }, http.DefaultClient)
}
