// Package dbtest gives each test a fresh, empty database: FerretDB embedded in a temporary
// directory, or, when HOCTAP_TEST_MONGODB_URI is set, a uniquely named database on that
// MongoDB server (dropped when the test ends). Nothing is skipped either way.
package dbtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"hoctap/internal/database"
	"hoctap/internal/ids"
)

// New opens a fresh database for t and closes it when t ends.
func New(t testing.TB) *database.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := database.Config{DataDir: t.TempDir()}
	if uri := os.Getenv("HOCTAP_TEST_MONGODB_URI"); uri != "" {
		cfg.URI = uri
		cfg.Name = "test_" + strings.ToLower(ids.New())
	}
	db, err := database.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if !db.Embedded {
			if err := db.Database.Drop(ctx); err != nil {
				t.Errorf("dbtest: drop %s: %v", cfg.Name, err)
			}
		}
		if err := db.Close(ctx); err != nil {
			t.Errorf("dbtest: %v", err)
		}
	})
	return db
}

// Describe names the backend for test logs.
func Describe(db *database.DB) string {
	if db.Embedded {
		return "embedded FerretDB"
	}
	return fmt.Sprintf("MongoDB database %s", db.Database.Name())
}
