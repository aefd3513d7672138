package media_test

import (
	"os"
	"sync"
	"testing"

	"hoctap/internal/miniotest"
)

// The MinIO server is shared by every test of the package and started only when a test
// needs it, so the pure tests run without it.
var (
	minioOnce sync.Once
	minioSrv  miniotest.Server
	minioErr  error
)

func sharedMinio(t *testing.T) miniotest.Server {
	t.Helper()
	minioOnce.Do(func() { minioSrv, minioErr = miniotest.StartShared() })
	if minioErr != nil {
		t.Fatalf("miniotest: %v", minioErr)
	}
	return minioSrv
}

func TestMain(m *testing.M) {
	code := m.Run()
	if minioSrv.Stop != nil {
		minioSrv.Stop()
	}
	os.Exit(code)
}
